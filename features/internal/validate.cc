#include "features/internal/validate.h"

#include <cmath>
#include <string>

namespace hotpath::features::internal {

Status CheckShape(const Definitions& defs, const Event& ev) {
  if (ev.source < 0 || ev.source >= static_cast<int>(defs.sources.size())) {
    return InvalidArgumentError("event source index " + std::to_string(ev.source) +
                                " is not defined");
  }
  const SourceDef& src = defs.sources[ev.source];
  if (ev.numbers.size() != src.numeric_fields.size() ||
      ev.keyed.size() != src.keyed_fields.size()) {
    return InvalidArgumentError("event of source \"" + src.name +
                                "\" does not carry the source's fields");
  }
  for (std::size_t i = 0; i < ev.numbers.size(); ++i) {
    if (!std::isfinite(ev.numbers[i])) {
      return InvalidArgumentError("field \"" + src.numeric_fields[i] + "\" is not finite");
    }
  }
  if (ev.ts_ms < 0 || ev.ts_ms >= 9'000'000'000'000'000) {
    return InvalidArgumentError("field \"" + src.timestamp_field + "\": timestamp out of range");
  }
  if (ev.entity_key.empty()) return InvalidArgumentError("event has an empty entity key");
  return OkStatus();
}

Status CheckTime(const FeatureGroupDef& g, const Event& ev, int64_t now_ms) {
  if (ev.ts_ms < now_ms - g.allowed_lateness_ms) {
    return OutOfRangeError("event time " + std::to_string(ev.ts_ms) + " is " +
                           std::to_string(now_ms - ev.ts_ms) + " ms behind the clock; group \"" +
                           g.name + "\" allows " + std::to_string(g.allowed_lateness_ms) +
                           " ms of lateness");
  }
  if (ev.ts_ms > now_ms + g.max_future_skew_ms) {
    return InvalidArgumentError("event time " + std::to_string(ev.ts_ms) + " is " +
                                std::to_string(ev.ts_ms - now_ms) +
                                " ms ahead of the clock; group \"" + g.name + "\" allows " +
                                std::to_string(g.max_future_skew_ms));
  }
  return OkStatus();
}

}  // namespace hotpath::features::internal
