// Synthetic card transactions for bench_rules: the schema that
// fraud100.rules is written against, and a seeded generator of events with
// realistic skew (log-normal amounts, mostly domestic traffic, rare bursts,
// new devices and high model scores).
#ifndef HOTPATH_BENCH_RULES_FRAUD_EVENTS_H_
#define HOTPATH_BENCH_RULES_FRAUD_EVENTS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "rules/schema.h"

namespace hotpath::rules::bench {

// Event fields and features (pre-model) and two model scores (post-model).
Result<std::shared_ptr<const Schema>> FraudSchema();

// `count` events as Inputs over `schema`. The string values live in
// *storage, which must outlive the returned records.
std::vector<Inputs> GenerateFraudEvents(const std::shared_ptr<const Schema>& schema, size_t count,
                                        uint64_t seed, std::vector<std::string>* storage);

}  // namespace hotpath::rules::bench

#endif  // HOTPATH_BENCH_RULES_FRAUD_EVENTS_H_
