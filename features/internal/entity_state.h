// EntityState: one entity's aggregation state in one feature group — sparse
// time buckets (sorted by bucket index) plus, per window, running cells that
// make reads O(1): sums are running totals (events enter as they arrive and
// leave as their bucket slides out); min/max remember the extreme and the
// bucket holding it, rescanning the window's buckets only when that bucket
// slides out. Sketch aggregations keep one sketch per bucket (plus a lifetime
// sketch) and merge a window's sketches on read.
//
// Not thread-safe: the owning store serializes access (one shard mutex).
#ifndef HOTPATH_FEATURES_INTERNAL_ENTITY_STATE_H_
#define HOTPATH_FEATURES_INTERNAL_ENTITY_STATE_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <variant>
#include <vector>

#include "features/event.h"
#include "features/internal/codec.h"
#include "features/internal/huge_page_arena.h"
#include "features/internal/plan.h"
#include "features/internal/sketches.h"

namespace hotpath::features::internal {

using Sketch = std::variant<HyperLogLog, DDSketch, LastN>;

// A fresh sketch for sketch aggregation `sketch` of `plan`.
Sketch NewSketch(const GroupPlan& plan, int sketch);

class EntityState {
 public:
  EntityState() = default;
  EntityState(EntityState&&) = default;
  EntityState& operator=(EntityState&&) = default;

  // Builds a state from stored buckets (ascending by index, [n, plan.stride])
  // and lifetime cells (one per slot; identity where absent): every finite
  // window's running cells are computed for bucket `now_b`. For plans
  // without sketches (the shared Redis store).
  static EntityState FromBuckets(const GroupPlan& plan, std::span<const double> buckets,
                                 std::span<const double> lifetime, int64_t last_event_ms,
                                 int64_t now_b);

  // Slides every window to end at bucket `now_b`, then drops buckets older
  // than plan.keep_buckets. Call before Apply with the same `now_b`.
  void Advance(const GroupPlan& plan, int64_t now_b);

  // Adds one event of source `src` (already validated and lateness-checked).
  void Apply(const GroupPlan& plan, const SourcePlan& src, const Event& ev);

  // Fills `out` (plan.slots.size() cells) with window `w`'s slots over the
  // buckets [bt - length + 1, bt] (lifetime: all buckets <= bt). A cell that
  // the retained buckets cannot answer (as-of reads of a lifetime extreme
  // after older buckets were dropped) is NaN.
  void Summarize(const GroupPlan& plan, int w, int64_t bt, double* out) const;

  // Merges window `w`'s sketch `sketch` over the same buckets into `into`.
  // False when the retained buckets cannot answer (see Summarize).
  bool MergeSketch(const GroupPlan& plan, int w, int sketch, int64_t bt, Sketch& into) const;

  // Newest event time (ms) of the source owning `src` in buckets <= bt:
  // -inf when there is none, NaN when it may lie in a dropped bucket.
  double LastEventTs(const GroupPlan& plan, const SourcePlan& src, int64_t bt) const;

  // The state's heap data (null while empty); moves when the state grows.
  const double* data() const { return data_.empty() ? nullptr : data_.data(); }
  // The 64-byte cache lines the heap data spans (its capacity, so the count
  // changes only with data()), capped at 16: prefetching data() + 64 * i for
  // i < DataLines() loads the state without dependent misses.
  uint32_t DataLines() const {
    if (data_.capacity() == 0) return 0;
    const auto first = reinterpret_cast<std::uintptr_t>(data_.data()) / 64;
    const auto last = (reinterpret_cast<std::uintptr_t>(data_.data() + data_.capacity()) - 1) / 64;
    return static_cast<uint32_t>(std::min<std::uintptr_t>(last - first + 1, 16));
  }

  // Greatest event time applied, INT64_MIN before the first event.
  int64_t last_event_ms() const { return last_event_ms_; }
  std::size_t BucketCount(const GroupPlan& plan) const {
    return data_.empty() ? 0 : (data_.size() - plan.running_size) / plan.stride;
  }
  // Heap and inline bytes this state holds.
  std::size_t MemoryBytes() const;

  void Encode(const GroupPlan& plan, ByteWriter& w) const;
  // False when the input is corrupt or does not match `plan`.
  bool Decode(const GroupPlan& plan, ByteReader& r);

 private:
  std::size_t FindOrInsertBucket(const GroupPlan& plan, int64_t b);
  // First bucket position whose index is >= b.
  std::size_t LowerBound(const GroupPlan& plan, double b) const;
  void UpdateRunning(const GroupPlan& plan, const SourcePlan& src, const Event& ev, double b);
  void EvictWindow(const GroupPlan& plan, int w, double new_start);
  void RescanExtreme(const GroupPlan& plan, int slot, int cell, double start);
  // Fills `out` from window `wp`'s running cells (valid when start is not
  // before the window's first counted bucket); returns the slots that still
  // need a scan of the buckets.
  SlotSet SummarizeFromRunning(const GroupPlan& plan, const WindowPlan& wp, double start,
                               int64_t bt, double* out) const;
  void ScanSlots(const GroupPlan& plan, double lo, double hi, const SlotSet& which,
                 double* out) const;
  void EnsureRunning(const GroupPlan& plan);
  // Capacity for at least `doubles`, up to what the arena block holds anyway.
  void Reserve(std::size_t doubles);

  // One allocation (one cache miss on read), in the huge-page arena (no TLB
  // walk on read): [plan.running_size] running cells, then [buckets,
  // plan.stride] buckets by ascending bucket index. Empty until the first
  // Advance or Apply.
  std::vector<double, ArenaAllocator<double>> data_;
  int64_t dropped_before_ = INT64_MIN;  // every bucket below this was dropped
  int64_t last_event_ms_ = INT64_MIN;
  // Present only for plans with sketches: [buckets][sketch] and lifetime.
  struct Sketches {
    std::vector<std::vector<Sketch>> per_bucket;
    std::vector<Sketch> lifetime;
  };
  std::unique_ptr<Sketches> sketches_;
};

}  // namespace hotpath::features::internal

#endif  // HOTPATH_FEATURES_INTERNAL_ENTITY_STATE_H_
