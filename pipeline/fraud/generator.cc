#include "pipeline/fraud/generator.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace hotpath::fraud {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int64_t kMinuteMs = 60'000, kHourMs = 60 * kMinuteMs, kDayMs = 24 * kHourMs;

struct Place { const char* country; double lat, lon; };
constexpr Place kPlaces[] = {{"US", 40.7, -74.0}, {"US", 34.0, -118.2}, {"GB", 51.5, -0.1},
                             {"DE", 52.5, 13.4},  {"FR", 48.9, 2.35},   {"ES", 40.4, -3.7},
                             {"BR", -23.5, -46.6}, {"JP", 35.7, 139.7}};
constexpr int32_t kCategories[] = {5411, 5812, 5541, 5999, 4121, 5732, 5311, 7995, 4814, 5691};

const char* CurrencyOf(const std::string& country) {
  if (country == "US") return "USD";
  if (country == "GB") return "GBP";
  if (country == "BR") return "BRL";
  if (country == "JP") return "JPY";
  return "EUR";
}

}  // namespace

double TransactionGenerator::Intensity(int64_t ts) {
  const double hour = static_cast<double>(ts % kDayMs) / kHourMs;
  const int64_t day = (ts / kDayMs + 4) % 7;  // 1970-01-01 was a Thursday: 0 = Monday
  // Quiet nights, a lunch peak and an evening peak; weekends 20% busier.
  const double daily = 0.25 + 0.9 * std::exp(-std::pow((hour - 12.5) / 2.5, 2)) +
                       1.3 * std::exp(-std::pow((hour - 19.0) / 3.0, 2));
  const double weekly = day >= 5 ? 1.2 : 0.92;
  return daily * weekly / 0.98;
}

TransactionGenerator::TransactionGenerator(const Options& options)
    : options_(options), rng_(options.seed), now_ms_(options.start_ms) {
  std::normal_distribution<double> jitter(0.0, 0.3), spend(3.3, 0.7);
  std::uniform_int_distribution<int> place(0, std::size(kPlaces) - 1);
  for (int i = 0; i < options.customers; ++i) {
    const Place& p = kPlaces[place(rng_)];
    customers_.push_back({p.lat + jitter(rng_), p.lon + jitter(rng_), spend(rng_), p.country,
                          "dev-" + std::to_string(i) + "a", "dev-" + std::to_string(i) + "b"});
  }
  for (int i = 0; i < options.terminals; ++i) {
    const Place& p = kPlaces[place(rng_)];
    terminals_.push_back({p.lat + jitter(rng_), p.lon + jitter(rng_),
                          kCategories[rng_() % std::size(kCategories)], p.country});
  }
}

Transaction TransactionGenerator::Make(int64_t ts, int customer, int terminal) {
  const Customer& c = customers_[customer];
  const Terminal& t = terminals_[terminal];
  Transaction x;
  x.id = "tx-" + std::to_string(options_.seed) + "-" + std::to_string(next_id_++);
  x.user = "user-" + std::to_string(customer);
  x.merchant = "term-" + std::to_string(terminal);
  x.merchant_category = t.mcc;
  x.country = t.country;
  x.currency = CurrencyOf(t.country);
  x.lat = t.lat;
  x.lon = t.lon;
  x.timestamp_ms = ts;
  std::lognormal_distribution<double> amount(c.log_amount, 0.6);
  x.amount = std::round(std::max(1.0, amount(rng_)) * 100) / 100;
  x.payment_method = rng_() % 4 == 0 ? PaymentMethod::kCardNotPresent : PaymentMethod::kCardPresent;
  if (x.payment_method == PaymentMethod::kCardNotPresent) x.device = rng_() % 5 ? c.device : c.device2;
  x.label = 0;
  return x;
}

Transaction TransactionGenerator::Legit(int64_t ts, int customer) {
  // Customers shop at terminals in their own country most of the time.
  int terminal = static_cast<int>(rng_() % terminals_.size());
  for (int tries = 0; tries < 8 && terminals_[terminal].country != customers_[customer].country; ++tries) {
    terminal = static_cast<int>(rng_() % terminals_.size());
  }
  Transaction x = Make(ts, customer, terminal);
  if (terminals_[terminal].compromised_left > 0) {
    --terminals_[terminal].compromised_left;
    skimmed_.push_back(customer);
    x.label = 1;
    x.scenario = "compromised_terminal";
  }
  return x;
}

void TransactionGenerator::StartScenario(int64_t ts) {
  const int customer = static_cast<int>(rng_() % customers_.size());
  std::uniform_real_distribution<double> u(0, 1);
  const double pick = u(rng_);
  auto push = [&](Transaction x, const char* scenario) {
    x.label = 1;
    x.scenario = scenario;
    pending_.push_back(std::move(x));
  };
  if (pick < 0.3) {
    Transaction x = Legit(ts, customer);
    x.amount = std::round(x.amount * (8 + 32 * u(rng_)) * 100) / 100;
    push(std::move(x), "amount_outlier");
  } else if (pick < 0.45) {
    terminals_[rng_() % terminals_.size()].compromised_left = 3 + static_cast<int>(rng_() % 8);
  } else if (pick < 0.8) {
    const int victim = !skimmed_.empty() && u(rng_) < 0.5 ? skimmed_[rng_() % skimmed_.size()] : customer;
    const int n = 4 + static_cast<int>(rng_() % 8);
    int64_t t = ts;
    for (int i = 0; i < n; ++i) {
      t += kMinuteMs / 2 + static_cast<int64_t>(rng_() % (3 * kMinuteMs));
      Transaction x = Make(t, victim, static_cast<int>(rng_() % terminals_.size()));
      x.payment_method = PaymentMethod::kCardNotPresent;
      x.device = "dev-burst-" + std::to_string(rng_() % 100000);
      x.amount = std::round((20 + 400 * u(rng_)) * 100) / 100;
      push(std::move(x), "card_burst");
    }
  } else {
    int terminal = static_cast<int>(rng_() % terminals_.size());
    for (int tries = 0; tries < 8 && terminals_[terminal].country == customers_[customer].country; ++tries) {
      terminal = static_cast<int>(rng_() % terminals_.size());
    }
    Transaction x = Make(ts + kMinuteMs, customer, terminal);
    x.payment_method = PaymentMethod::kCardNotPresent;
    x.device = "dev-ato-" + std::to_string(rng_() % 100000);
    x.amount = std::round(std::exp(customers_[customer].log_amount) * (5 + 10 * u(rng_)) * 100) / 100;
    push(std::move(x), "account_takeover");
  }
  std::sort(pending_.begin(), pending_.end(),
            [](const Transaction& a, const Transaction& b) { return a.timestamp_ms > b.timestamp_ms; });
}

Transaction TransactionGenerator::Next() {
  // Inhomogeneous Poisson arrivals by thinning against the peak intensity.
  constexpr double kPeak = 1.9;
  std::exponential_distribution<double> gap(options_.mean_events_per_s * kPeak / 1000.0);
  std::uniform_real_distribution<double> u(0, 1);
  for (;;) {
    const int64_t candidate = now_ms_ + std::max<int64_t>(1, static_cast<int64_t>(gap(rng_)));
    if (!pending_.empty() && pending_.back().timestamp_ms <= candidate) {
      Transaction x = std::move(pending_.back());
      pending_.pop_back();
      now_ms_ = std::max(now_ms_, x.timestamp_ms);
      return x;
    }
    now_ms_ = candidate;
    if (u(rng_) * kPeak > Intensity(now_ms_)) continue;
    if (u(rng_) < options_.fraud_rate) {
      StartScenario(now_ms_);
      continue;
    }
    return Legit(now_ms_, static_cast<int>(rng_() % customers_.size()));
  }
}

}  // namespace hotpath::fraud
