// What a feature read asks for and what it answers: feature references
// resolved once into a FeatureSelector, per-entity profiles for derived
// comparisons, and one FeatureValue (with a status) per entity and feature.
#ifndef HOTPATH_FEATURES_READ_H_
#define HOTPATH_FEATURES_READ_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "features/definitions.h"

namespace hotpath::features {

enum class ValueStatus : uint8_t {
  kPresent,      // `value` (or `list`) holds the answer
  kNotFound,     // unknown entity, or no event in the window for an aggregation
                 // that has no value on empty input (mean, min, first, ...)
  kExpired,      // the entity's state outlived its group's TTL
  kNotRetained,  // an "as of" read needs state older than the store keeps
};

std::string_view ValueStatusName(ValueStatus status);

struct FeatureValue {
  ValueStatus status = ValueStatus::kNotFound;
  double value = 0;          // scalar features
  std::vector<double> list;  // last_n: newest first
  // Shared (Redis) mode only: served from the local cache past its TTL
  // because Redis was unreachable.
  bool stale = false;
};

// One resolved reference: "GROUP.AGGREGATION.WINDOW" or "GROUP.DERIVED".
struct FeatureRef {
  int group = 0;
  bool derived = false;
  int index = 0;   // aggregation or derived feature within the group
  int window = 0;  // aggregations only
};

// Feature references resolved against one Definitions. Immutable; cheap to
// share between threads. All references must be about the same entity.
class FeatureSelector {
 public:
  // INVALID_ARGUMENT naming the reference that is malformed or unknown, or
  // that names another entity than the first.
  static Result<FeatureSelector> Create(const Definitions& defs, std::span<const std::string> refs);

  const std::vector<FeatureRef>& refs() const { return refs_; }
  const std::vector<std::string>& names() const { return names_; }
  // The distinct groups the references read, ascending.
  const std::vector<int>& groups() const { return groups_; }
  int entity() const { return entity_; }

 private:
  std::vector<FeatureRef> refs_;
  std::vector<std::string> names_;
  std::vector<int> groups_;
  int entity_ = 0;
};

// Per-entity fields that compare_profile features compare against.
struct Profile {
  std::vector<std::pair<std::string, double>> fields;
  // The field's value, or nullptr.
  const double* Find(std::string_view name) const;
};

struct ReadOptions {
  // Read as of this time (ms since the epoch) instead of now. Must lie within
  // [now - retention, now] of every group read. Bucket resolution: events
  // later in the bucket holding as_of_ms are included.
  std::optional<int64_t> as_of_ms;
  // Empty, or one per entity (compare_profile features read them).
  std::span<const Profile> profiles;
};

}  // namespace hotpath::features

#endif  // HOTPATH_FEATURES_READ_H_
