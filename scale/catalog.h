// InstanceCatalog: the user-edited list of machine types and their prices
// (on-demand and spot per hour, spot interruption rate), parsed and validated
// from JSON. Immutable after creation; thread-safe to share.
//
// Format (examples/catalog/instances.json):
//   {"currency": "USD",
//    "instances": [{"name": "c7i.2xlarge", "kind": "cpu", "vcpu": 8, "memory_gib": 16,
//                   "gpus": 0, "gpu_model": "", "on_demand_per_hour": 0.357,
//                   "spot_per_hour": 0.136, "spot_interruption_rate_per_hour": 0.003}]}
// `gpus`, `gpu_model`, `spot_per_hour` (0: no spot offer) and
// `spot_interruption_rate_per_hour` are optional.
#ifndef HOTPATH_SCALE_CATALOG_H_
#define HOTPATH_SCALE_CATALOG_H_

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace hotpath::scale {

enum class InstanceKind { kCpu, kGpu };

struct InstanceType {
  std::string name;
  InstanceKind kind = InstanceKind::kCpu;
  double vcpu = 0.0;        // > 0
  double memory_gib = 0.0;  // > 0
  int gpus = 0;             // >= 0; > 0 iff kind is kGpu
  std::string gpu_model;
  double on_demand_per_hour = 0.0;  // currency per hour, > 0
  double spot_per_hour = 0.0;       // 0 when no spot offer; else (0, on_demand]
  // Expected spot reclaims per replica per hour, [0, 1].
  double spot_interruption_rate_per_hour = 0.0;

  bool has_spot() const { return spot_per_hour > 0.0; }
  // Hourly price for one machine of this type.
  double PricePerHour(bool spot) const {
    return spot && has_spot() ? spot_per_hour : on_demand_per_hour;
  }
};

class InstanceCatalog {
 public:
  // Parses and validates a catalog document. INVALID_ARGUMENT naming the
  // field (e.g. "instances[1].on_demand_per_hour: expected a number, got
  // string") for malformed JSON, missing or mistyped fields, out-of-range
  // values, duplicate names or an empty list. Never throws.
  static Result<InstanceCatalog> Parse(std::string_view json_text);
  // Reads and parses `path`; NOT_FOUND when it cannot be read.
  static Result<InstanceCatalog> Load(const std::string& path);

  // The type called `name`; NOT_FOUND listing nothing else when absent.
  Result<InstanceType> Find(std::string_view name) const;
  const std::vector<InstanceType>& instances() const { return instances_; }
  const std::string& currency() const { return currency_; }

 private:
  std::string currency_;
  std::vector<InstanceType> instances_;
};

}  // namespace hotpath::scale

#endif  // HOTPATH_SCALE_CATALOG_H_
