// Event checks shared by every store: shape (source, fields, key, time range)
// and time (allowed lateness, future skew against the clock).
#ifndef HOTPATH_FEATURES_INTERNAL_VALIDATE_H_
#define HOTPATH_FEATURES_INTERNAL_VALIDATE_H_

#include <cstdint>

#include "core/status.h"
#include "features/definitions.h"
#include "features/event.h"

namespace hotpath::features::internal {

// INVALID_ARGUMENT naming the field when `ev` does not fit its source.
Status CheckShape(const Definitions& defs, const Event& ev);

// OUT_OF_RANGE when `ev` is older than `group` allows at `now_ms`;
// INVALID_ARGUMENT when it lies further in the future than the skew allowed.
Status CheckTime(const FeatureGroupDef& group, const Event& ev, int64_t now_ms);

}  // namespace hotpath::features::internal

#endif  // HOTPATH_FEATURES_INTERNAL_VALIDATE_H_
