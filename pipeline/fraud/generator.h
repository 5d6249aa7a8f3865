// TransactionGenerator: seedable synthetic card traffic with labeled fraud,
// for demos, replays, training and benchmarks (`hotpath generate transactions`).
//
// Customers have a home place, a spending level and one or two devices;
// terminals have a category and a place. Volume follows a daily rhythm
// (quiet at night, peaks at noon and evening) and a weekly one (busier
// weekends). Fraud scenarios, each labeled by name:
//  - "amount_outlier": a customer's purchase 8-40x their usual amount;
//  - "compromised_terminal": a terminal skims the cards of its next 3-10
//    transactions (labeled fraud); skimmed cards are later abused in bursts;
//  - "card_burst": a leaked card used in a burst of card-not-present
//    purchases minutes apart;
//  - "account_takeover": a new device in another country, high amount.
#ifndef HOTPATH_PIPELINE_FRAUD_GENERATOR_H_
#define HOTPATH_PIPELINE_FRAUD_GENERATOR_H_

#include <cstdint>
#include <random>
#include <vector>

#include "pipeline/fraud/transaction.h"

namespace hotpath::fraud {

class TransactionGenerator {
 public:
  struct Options {
    uint64_t seed = 1;
    int customers = 5000;
    int terminals = 1000;
    int64_t start_ms = 1767225600000;   // 2026-01-01T00:00:00Z
    double mean_events_per_s = 50.0;   // averaged over a week
    double fraud_rate = 0.01;           // fraction of events that start a scenario
  };

  // REQUIRES: customers > 0, terminals > 0, mean_events_per_s > 0.
  explicit TransactionGenerator(const Options& options);

  // The next transaction in time order. Deterministic for a given seed.
  Transaction Next();

  // Relative traffic intensity at a time of day and week (mean 1 over a week).
  static double Intensity(int64_t timestamp_ms);

 private:
  struct Customer { double lat, lon, log_amount; std::string country, device, device2; };
  struct Terminal { double lat, lon; int32_t mcc; std::string country; int compromised_left = 0; };

  Transaction Legit(int64_t ts, int customer);
  void StartScenario(int64_t ts);
  Transaction Make(int64_t ts, int customer, int terminal);

  Options options_;
  std::mt19937_64 rng_;
  std::vector<Customer> customers_;
  std::vector<Terminal> terminals_;
  std::vector<Transaction> pending_;  // scheduled scenario events, sorted by time desc
  std::vector<int> skimmed_;           // customers whose card a terminal skimmed
  int64_t now_ms_;
  uint64_t next_id_ = 0;
};

}  // namespace hotpath::fraud

#endif  // HOTPATH_PIPELINE_FRAUD_GENERATOR_H_
