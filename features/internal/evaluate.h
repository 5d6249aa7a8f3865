// Turns one entity's EntityState into feature values: aggregations from
// window summaries and sketches, then derived features from those. Shared by
// every store so that all of them answer identically.
#ifndef HOTPATH_FEATURES_INTERNAL_EVALUATE_H_
#define HOTPATH_FEATURES_INTERNAL_EVALUATE_H_

#include <cstdint>

#include "features/internal/entity_state.h"
#include "features/internal/plan.h"
#include "features/read.h"

namespace hotpath::features::internal {

// Writes row[i] for every reference i of `sel` in plan.group, read at `t_ms`.
// `profile` may be null. Thread-compatible: `state` must not change meanwhile.
void EvaluateGroup(const GroupPlan& plan, const EntityState& state, const FeatureSelector& sel,
                   int64_t t_ms, const Profile* profile, FeatureValue* row);

// Sets row[i] to `status` for every reference i of `sel` in `group`.
void FillGroup(const FeatureSelector& sel, int group, ValueStatus status, FeatureValue* row);

}  // namespace hotpath::features::internal

#endif  // HOTPATH_FEATURES_INTERNAL_EVALUATE_H_
