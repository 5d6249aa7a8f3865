// GroupPlan: one feature group compiled into a flat memory layout. A bucket
// is `stride` doubles: [0] the bucket index (event time / bucket_ms), then one
// cell per Slot. Each window keeps running cells over the buckets it covers:
// [0] the first bucket index still counted, then per slot 0-2 cells (sums:
// one; min/max: value and the bucket it came from; first/last: lifetime only).
// Aggregations read slots; several aggregations share a slot.
#ifndef HOTPATH_FEATURES_INTERNAL_PLAN_H_
#define HOTPATH_FEATURES_INTERNAL_PLAN_H_

#include <bitset>
#include <cstdint>
#include <limits>
#include <vector>

#include "features/definitions.h"

namespace hotpath::features::internal {

// Most slots one group may compile to (GroupPlan::Compile callers check).
inline constexpr int kMaxSlots = 128;
using SlotSet = std::bitset<kMaxSlots>;

enum class SlotKind : uint8_t { kAdd, kMin, kMax, kFirstTs, kFirstV, kLastTs, kLastV };
enum class SlotInput : uint8_t { kOne, kValue, kSquare, kTime };

struct Slot {
  SlotKind kind;
  SlotInput input;
  int field;  // numeric field of the source (kValue, kSquare); -1 otherwise
  int pair;   // kFirstTs / kLastTs: the slot holding the value; -1 otherwise
};

// Which sketch each sketch aggregation owns, and what feeds it.
struct SketchFeed {
  int aggregation;  // index into FeatureGroupDef::aggregations
  int field;        // numeric field (quantile, last_n) or keyed field (distinct)
};

// The slots and sketches one source's events update.
struct SourcePlan {
  int source = -1;  // index into Definitions::sources
  int begin = 0;    // slots [begin, end) belong to this source
  int end = 0;
  int n_slot = -1;        // event count
  int last_ts_slot = -1;  // newest event time, for time_since_last
  std::vector<SketchFeed> sketches;
};

// Slots an aggregation reads (-1 where unused); sketch aggregations use `sketch`.
struct AggPlan {
  int n = -1, sum = -1, sumsq = -1, min = -1, max = -1;
  int first_ts = -1, first_v = -1, last_ts = -1, last_v = -1;
  int sketch = -1;  // index into GroupPlan::sketch_aggs
};

struct WindowPlan {
  bool lifetime = false;
  int64_t length_buckets = 0;  // finite windows only
  int base = 0;                // offset of the window's cells in the running array
  std::vector<int> cell;       // per slot: offset of its running cell, or -1
};

struct GroupPlan {
  const FeatureGroupDef* def = nullptr;  // owned by the Definitions the plan came from
  int group = 0;
  int64_t bucket_ms = 0;
  int stride = 1;  // doubles per bucket
  int running_size = 0;
  int64_t keep_buckets = 0;  // buckets older than now - keep_buckets are dropped
  std::vector<Slot> slots;
  std::vector<SourcePlan> sources;
  std::vector<int> source_of;  // Definitions source index -> index in `sources`, or -1
  std::vector<AggPlan> aggs;
  std::vector<WindowPlan> windows;
  std::vector<int> sketch_aggs;  // aggregation index of each sketch

  static GroupPlan Compile(const Definitions& defs, int group);
  // Identity of a slot before any event: 0, +inf, -inf. Inline: reads
  // call it for every slot of every window they summarize.
  double Identity(int slot) const {
    constexpr double kInf = std::numeric_limits<double>::infinity();
    switch (slots[slot].kind) {
      case SlotKind::kMin:
      case SlotKind::kFirstTs:
        return kInf;
      case SlotKind::kMax:
      case SlotKind::kLastTs:
        return -kInf;
      default:
        return 0;
    }
  }
  bool has_sketches() const { return !sketch_aggs.empty(); }
};

// The newest-event-time slot behind time_since_last: read from buckets
// only, so windows keep no running cell for it.
inline bool IsNewestTime(const Slot& s) {
  return s.kind == SlotKind::kMax && s.input == SlotInput::kTime;
}

// Bucket index of a time: floor(ts_ms / bucket_ms).
inline int64_t BucketOf(int64_t ts_ms, int64_t bucket_ms) {
  int64_t q = ts_ms / bucket_ms;
  return (ts_ms % bucket_ms != 0 && ts_ms < 0) ? q - 1 : q;
}

}  // namespace hotpath::features::internal

#endif  // HOTPATH_FEATURES_INTERNAL_PLAN_H_
