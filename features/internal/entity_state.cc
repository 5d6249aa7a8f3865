#include "features/internal/entity_state.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace hotpath::features::internal {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::size_t kGrowBuckets = 4;  // least buckets a state's capacity grows by

bool IsExtreme(SlotKind k) { return k == SlotKind::kMin || k == SlotKind::kMax; }

[[gnu::always_inline]] inline double InputOf(const Slot& s, const Event& ev) {
  switch (s.input) {
    case SlotInput::kOne:
      return 1;
    case SlotInput::kValue:
      return ev.numbers[s.field];
    case SlotInput::kSquare:
      return ev.numbers[s.field] * ev.numbers[s.field];
    case SlotInput::kTime:
      return static_cast<double>(ev.ts_ms);
  }
  return 0;
}

// Folds one bucket's cell `v` (with pair value `pv`) into a summary cell,
// scanning buckets in ascending order.
[[gnu::always_inline]] inline void FoldCell(SlotKind kind, double v, double pv, double& out,
                                            double& pout) {
  switch (kind) {
    case SlotKind::kAdd:
      out += v;
      break;
    case SlotKind::kMin:
      out = std::min(out, v);
      break;
    case SlotKind::kMax:
      out = std::max(out, v);
      break;
    case SlotKind::kFirstTs:
      if (v < out) out = v, pout = pv;
      break;
    case SlotKind::kLastTs:
      if (v >= out && v > -kInf) out = v, pout = pv;
      break;
    default:
      break;
  }
}

void AddSketch(Sketch& sk, const SketchFeed& feed, const Event& ev) {
  if (auto* h = std::get_if<HyperLogLog>(&sk)) {
    h->Add(ev.keyed[feed.field]);
  } else if (auto* d = std::get_if<DDSketch>(&sk)) {
    d->Add(ev.numbers[feed.field]);
  } else {
    std::get<LastN>(sk).Add(ev.ts_ms, ev.numbers[feed.field]);
  }
}

void MergeInto(Sketch& into, const Sketch& from) {
  std::visit([&](auto& dst) { dst.Merge(std::get<std::decay_t<decltype(dst)>>(from)); }, into);
}

}  // namespace

Sketch NewSketch(const GroupPlan& plan, int sketch) {
  const AggregationDef& a = plan.def->aggregations[plan.sketch_aggs[sketch]];
  switch (a.kind) {
    case AggKind::kDistinctCount:
      return HyperLogLog(a.hll_precision);
    case AggKind::kQuantile:
      return DDSketch(a.relative_error);
    default:
      return LastN(a.last_n);
  }
}

void EntityState::Reserve(std::size_t doubles) {
  data_.reserve(ArenaBlockBytes(doubles * sizeof(double)) / sizeof(double));
}

void EntityState::EnsureRunning(const GroupPlan& plan) {
  if (!data_.empty()) return;
  // Room for four buckets up front: an entity's first events then cost one
  // allocation instead of two (FindOrInsertBucket grows by the same step).
  Reserve(plan.running_size + plan.stride * kGrowBuckets);
  data_.assign(plan.running_size, 0);
  for (const WindowPlan& w : plan.windows) {
    data_[w.base] = -kInf;  // nothing evicted yet
    for (std::size_t s = 0; s < plan.slots.size(); ++s) {
      if (w.cell[s] < 0) continue;
      data_[w.cell[s]] = plan.Identity(static_cast<int>(s));
      if (IsExtreme(plan.slots[s].kind)) data_[w.cell[s] + 1] = -kInf;
    }
  }
  if (plan.has_sketches()) {
    sketches_ = std::make_unique<Sketches>();
    for (std::size_t k = 0; k < plan.sketch_aggs.size(); ++k) {
      sketches_->lifetime.push_back(NewSketch(plan, static_cast<int>(k)));
    }
  }
}

EntityState EntityState::FromBuckets(const GroupPlan& plan, std::span<const double> buckets,
                                     std::span<const double> lifetime, int64_t last_event_ms,
                                     int64_t now_b) {
  EntityState st;
  st.EnsureRunning(plan);
  st.data_.insert(st.data_.end(), buckets.begin(), buckets.end());
  st.last_event_ms_ = last_event_ms;
  const std::size_t n = st.BucketCount(plan);
  for (const WindowPlan& w : plan.windows) {
    double start = w.lifetime ? -kInf : static_cast<double>(now_b - w.length_buckets + 1);
    if (!w.lifetime) st.data_[w.base] = start;
    for (std::size_t s = 0; s < plan.slots.size(); ++s) {
      const int c = w.cell[s];
      if (c < 0) continue;
      if (w.lifetime) {
        st.data_[c] = lifetime[s];  // extremes keep aux -inf: held for every read
        continue;
      }
      const SlotKind kind = plan.slots[s].kind;
      for (std::size_t i = st.LowerBound(plan, start); i < n; ++i) {
        const double* bucket = &st.data_[plan.running_size + i * plan.stride];
        const double x = bucket[1 + s];
        if (kind == SlotKind::kAdd) {
          st.data_[c] += x;
        } else if (IsExtreme(kind) && std::isfinite(x) &&
                   (kind == SlotKind::kMin ? x <= st.data_[c] : x >= st.data_[c])) {
          st.data_[c] = x;
          st.data_[c + 1] = bucket[0];
        }
      }
    }
  }
  return st;
}

std::size_t EntityState::LowerBound(const GroupPlan& plan, double b) const {
  // Branch-free: the comparisons on a handful of buckets are unpredictable.
  const double* index = data_.data() + plan.running_size;
  std::size_t lo = 0, len = BucketCount(plan);
  while (len > 0) {
    const std::size_t half = len / 2;
    const bool right = index[(lo + half) * plan.stride] < b;
    lo = right ? lo + half + 1 : lo;
    len = right ? len - half - 1 : half;
  }
  return lo;
}

std::size_t EntityState::FindOrInsertBucket(const GroupPlan& plan, int64_t b) {
  const std::size_t n = BucketCount(plan);
  const double db = static_cast<double>(b);
  std::size_t pos =
      (n > 0 && data_[plan.running_size + (n - 1) * plan.stride] < db) ? n : LowerBound(plan, db);
  if (pos < n && data_[plan.running_size + pos * plan.stride] == db) return pos;
  if (data_.size() + plan.stride > data_.capacity()) {
    // Grow by half the buckets held (at least four): less slack than doubling.
    Reserve(data_.size() + plan.stride * std::max<std::size_t>(kGrowBuckets, n / 2));
  }
  auto at = data_.insert(data_.begin() + plan.running_size + pos * plan.stride, plan.stride, 0.0);
  at[0] = db;
  for (std::size_t s = 0; s < plan.slots.size(); ++s) at[1 + s] = plan.Identity(int(s));
  if (sketches_) {
    std::vector<Sketch> fresh;
    for (std::size_t k = 0; k < plan.sketch_aggs.size(); ++k) {
      fresh.push_back(NewSketch(plan, static_cast<int>(k)));
    }
    sketches_->per_bucket.insert(sketches_->per_bucket.begin() + pos, std::move(fresh));
  }
  return pos;
}

void EntityState::Apply(const GroupPlan& plan, const SourcePlan& src, const Event& ev) {
  EnsureRunning(plan);
  const int64_t b = BucketOf(ev.ts_ms, plan.bucket_ms);
  const std::size_t pos = FindOrInsertBucket(plan, b);
  double* cells = &data_[plan.running_size + pos * plan.stride + 1];
  for (int s = src.begin; s < src.end; ++s) {
    const Slot& slot = plan.slots[s];
    if (slot.kind == SlotKind::kFirstV || slot.kind == SlotKind::kLastV) continue;
    double pv = slot.pair >= 0 ? ev.numbers[plan.slots[slot.pair].field] : 0;
    double unused = 0;
    FoldCell(slot.kind, InputOf(slot, ev), pv, cells[s],
             slot.pair >= 0 ? cells[slot.pair] : unused);
  }
  UpdateRunning(plan, src, ev, static_cast<double>(b));
  if (sketches_) {
    for (const SketchFeed& feed : src.sketches) {
      int k = plan.aggs[feed.aggregation].sketch;
      AddSketch(sketches_->per_bucket[pos][k], feed, ev);
      AddSketch(sketches_->lifetime[k], feed, ev);
    }
  }
  last_event_ms_ = std::max(last_event_ms_, ev.ts_ms);
}

void EntityState::UpdateRunning(const GroupPlan& plan, const SourcePlan& src, const Event& ev,
                                double b) {
  for (const WindowPlan& w : plan.windows) {
    if (!w.lifetime && b < data_[w.base]) continue;  // already slid out of this window
    for (int s = src.begin; s < src.end; ++s) {
      const int c = w.cell[s];
      const Slot& slot = plan.slots[s];
      if (c < 0 || slot.kind == SlotKind::kFirstV || slot.kind == SlotKind::kLastV) continue;
      const double x = InputOf(slot, ev);
      double& v = data_[c];
      if (slot.kind == SlotKind::kMin || slot.kind == SlotKind::kMax) {
        bool better = slot.kind == SlotKind::kMin ? x < v : x > v;
        if (better || (x == v && b >= data_[c + 1])) v = x, data_[c + 1] = b;
        continue;
      }
      double pv = slot.pair >= 0 ? ev.numbers[plan.slots[slot.pair].field] : 0;
      double unused = 0;
      FoldCell(slot.kind, x, pv, v, slot.pair >= 0 ? data_[w.cell[slot.pair]] : unused);
    }
  }
}

void EntityState::Advance(const GroupPlan& plan, int64_t now_b) {
  EnsureRunning(plan);
  for (std::size_t w = 0; w < plan.windows.size(); ++w) {
    const WindowPlan& wp = plan.windows[w];
    if (wp.lifetime) continue;
    double new_start = static_cast<double>(now_b - wp.length_buckets + 1);
    if (new_start > data_[wp.base]) EvictWindow(plan, static_cast<int>(w), new_start);
  }
  const double cutoff = static_cast<double>(now_b - plan.keep_buckets);
  const std::size_t n = BucketCount(plan);
  if (n < 2 || data_[plan.running_size] >= cutoff) return;  // nothing old enough to drop
  // The newest bucket always stays: it answers time_since_last for idle entities.
  const std::size_t drop = std::min(LowerBound(plan, cutoff), n - 1);
  if (drop == 0) return;
  data_.erase(data_.begin() + plan.running_size,
              data_.begin() + plan.running_size + drop * plan.stride);
  if (sketches_) {
    sketches_->per_bucket.erase(sketches_->per_bucket.begin(),
                                sketches_->per_bucket.begin() + drop);
  }
  dropped_before_ = now_b - plan.keep_buckets;
}

void EntityState::EvictWindow(const GroupPlan& plan, int w, double new_start) {
  const WindowPlan& wp = plan.windows[w];
  const std::size_t n = BucketCount(plan);
  for (std::size_t i = LowerBound(plan, data_[wp.base]);
       i < n && data_[plan.running_size + i * plan.stride] < new_start; ++i) {
    const double* cells = &data_[plan.running_size + i * plan.stride + 1];
    for (std::size_t s = 0; s < plan.slots.size(); ++s) {
      if (plan.slots[s].kind == SlotKind::kAdd) data_[wp.cell[s]] -= cells[s];
    }
  }
  data_[wp.base] = new_start;
  for (const SourcePlan& src : plan.sources) {
    if (data_[wp.cell[src.n_slot]] != 0) continue;
    // An empty window holds exact zeros: no rounding drift survives it.
    for (int s = src.begin; s < src.end; ++s) {
      if (plan.slots[s].kind == SlotKind::kAdd) data_[wp.cell[s]] = 0;
    }
  }
  for (std::size_t s = 0; s < plan.slots.size(); ++s) {
    const int c = wp.cell[s];
    if (c >= 0 && IsExtreme(plan.slots[s].kind) && data_[c + 1] < new_start) {
      RescanExtreme(plan, static_cast<int>(s), c, new_start);
    }
  }
}

void EntityState::RescanExtreme(const GroupPlan& plan, int slot, int cell, double start) {
  const bool is_min = plan.slots[slot].kind == SlotKind::kMin;
  double v = plan.Identity(slot), at = -kInf;
  const std::size_t n = BucketCount(plan);
  for (std::size_t i = LowerBound(plan, start); i < n; ++i) {
    double x = data_[plan.running_size + i * plan.stride + 1 + slot];
    if (is_min ? x <= v : x >= v) {
      if (std::isfinite(x)) v = x, at = data_[plan.running_size + i * plan.stride];
    }
  }
  data_[cell] = v;
  data_[cell + 1] = at;
}

void EntityState::ScanSlots(const GroupPlan& plan, double lo, double hi, const SlotSet& which,
                            double* out) const {
  const std::size_t n = BucketCount(plan);
  for (std::size_t i = LowerBound(plan, lo);
       i < n && data_[plan.running_size + i * plan.stride] <= hi; ++i) {
    const double* cells = &data_[plan.running_size + i * plan.stride + 1];
    for (std::size_t s = 0; s < plan.slots.size(); ++s) {
      if (!which[s]) continue;
      const int pair = plan.slots[s].pair;
      double unused = 0;
      FoldCell(plan.slots[s].kind, cells[s], pair >= 0 ? cells[pair] : 0, out[s],
               pair >= 0 ? out[pair] : unused);
    }
  }
}

SlotSet EntityState::SummarizeFromRunning(const GroupPlan& plan, const WindowPlan& wp, double start,
                                          int64_t bt, double* out) const {
  const double hi = static_cast<double>(bt);
  SlotSet scan;
  for (std::size_t s = 0; s < plan.slots.size(); ++s) {
    const Slot& slot = plan.slots[s];
    const int c = wp.cell[s];
    if (slot.kind == SlotKind::kFirstV || slot.kind == SlotKind::kLastV || IsNewestTime(slot)) {
      continue;
    }
    if (c < 0) {
      scan[s] = true;
    } else if (slot.kind == SlotKind::kAdd) {
      out[s] = data_[c];
    } else if (IsExtreme(slot.kind)) {
      bool held = data_[c + 1] >= start && data_[c + 1] <= hi;
      held ? void(out[s] = data_[c]) : void(scan[s] = true);
    } else {
      // Lifetime first/last: exact when that event lies at or before bt.
      bool held =
          std::isfinite(data_[c]) && BucketOf(static_cast<int64_t>(data_[c]), plan.bucket_ms) <= bt;
      if (held) out[s] = data_[c], out[slot.pair] = data_[wp.cell[slot.pair]];
      scan[s] = !held && slot.kind == SlotKind::kLastTs;
    }
  }
  // Running sums cover [evicted, newest bucket]; take out what lies outside [start, bt].
  const std::size_t n = BucketCount(plan);
  for (std::size_t i = LowerBound(plan, data_[wp.base]); i < n; ++i) {
    const double* bucket = &data_[plan.running_size + i * plan.stride];
    if (bucket[0] >= start && bucket[0] <= hi) continue;
    for (std::size_t s = 0; s < plan.slots.size(); ++s) {
      if (plan.slots[s].kind == SlotKind::kAdd) out[s] -= bucket[1 + s];
    }
  }
  return scan;
}

void EntityState::Summarize(const GroupPlan& plan, int w, int64_t bt, double* out) const {
  const WindowPlan& wp = plan.windows[w];
  const std::size_t nslots = plan.slots.size();
  for (std::size_t s = 0; s < nslots; ++s) out[s] = plan.Identity(static_cast<int>(s));
  if (data_.empty()) return;
  const double start =
      wp.lifetime ? -kInf : static_cast<double>(bt) - static_cast<double>(wp.length_buckets) + 1;
  SlotSet scan;
  if (start >= data_[wp.base]) {
    scan = SummarizeFromRunning(plan, wp, start, bt, out);
  } else {
    // The window starts before the running cells do (an older "as of" read).
    for (std::size_t s = 0; s < nslots; ++s) {
      SlotKind k = plan.slots[s].kind;
      scan[s] = k != SlotKind::kFirstV && k != SlotKind::kLastV && !IsNewestTime(plan.slots[s]);
    }
  }
  if (scan.none()) return;
  if (start < static_cast<double>(dropped_before_)) {
    for (std::size_t s = 0; s < nslots; ++s) {
      if (!scan[s]) continue;
      out[s] = kNaN;
      if (plan.slots[s].pair >= 0) out[plan.slots[s].pair] = kNaN;
    }
    return;
  }
  ScanSlots(plan, start, static_cast<double>(bt), scan, out);
}

bool EntityState::MergeSketch(const GroupPlan& plan, int w, int sketch, int64_t bt,
                              Sketch& into) const {
  if (!sketches_) return true;
  const WindowPlan& wp = plan.windows[w];
  const std::size_t n = BucketCount(plan);
  const double hi = static_cast<double>(bt);
  double start = wp.lifetime ? -kInf : hi - static_cast<double>(wp.length_buckets) + 1;
  if (wp.lifetime && (n == 0 || data_[plan.running_size + (n - 1) * plan.stride] <= hi)) {
    MergeInto(into, sketches_->lifetime[sketch]);
    return true;
  }
  if (start < static_cast<double>(dropped_before_)) return false;
  for (std::size_t i = LowerBound(plan, start);
       i < n && data_[plan.running_size + i * plan.stride] <= hi; ++i) {
    MergeInto(into, sketches_->per_bucket[i][sketch]);
  }
  return true;
}

double EntityState::LastEventTs(const GroupPlan& plan, const SourcePlan& src, int64_t bt) const {
  const double hi = static_cast<double>(bt);
  for (std::size_t i = BucketCount(plan); i-- > 0;) {
    const double* bucket = &data_[plan.running_size + i * plan.stride];
    if (bucket[0] <= hi && bucket[1 + src.n_slot] > 0) return bucket[1 + src.last_ts_slot];
  }
  return dropped_before_ == INT64_MIN ? -kInf : kNaN;
}

std::size_t EntityState::MemoryBytes() const {
  std::size_t bytes = sizeof(*this) + data_.capacity() * sizeof(double);
  if (!sketches_) return bytes;
  auto sketch_bytes = [](const Sketch& sk) {
    return sizeof(Sketch) + std::visit([](const auto& x) { return x.MemoryBytes(); }, sk);
  };
  bytes += sizeof(Sketches);
  for (const Sketch& sk : sketches_->lifetime) bytes += sketch_bytes(sk);
  for (const auto& set : sketches_->per_bucket) {
    bytes += sizeof(set);
    for (const Sketch& sk : set) bytes += sketch_bytes(sk);
  }
  return bytes;
}

void EntityState::Encode(const GroupPlan& plan, ByteWriter& w) const {
  w.Put<uint32_t>(static_cast<uint32_t>(BucketCount(plan)));
  w.Put<uint32_t>(static_cast<uint32_t>(data_.size()));
  for (double d : data_) w.Put(d);
  w.Put(dropped_before_);
  w.Put(last_event_ms_);
  if (!sketches_) return;
  auto put = [&w](const Sketch& sk) { std::visit([&w](const auto& x) { x.Encode(w); }, sk); };
  for (const Sketch& sk : sketches_->lifetime) put(sk);
  for (const auto& set : sketches_->per_bucket) {
    for (const Sketch& sk : set) put(sk);
  }
}

bool EntityState::Decode(const GroupPlan& plan, ByteReader& r) {
  const uint32_t n = r.Get<uint32_t>();
  const uint32_t size = r.Get<uint32_t>();
  if (size == 0 || size != plan.running_size + uint64_t{n} * plan.stride || !r.CountFits(size, 8)) {
    return false;
  }
  data_.resize(size);
  for (double& d : data_) d = r.Get<double>();
  for (uint32_t i = 1; i < n; ++i) {
    if (!(data_[plan.running_size + (i - 1) * plan.stride] <
          data_[plan.running_size + i * plan.stride])) {
      return false;
    }
  }
  dropped_before_ = r.Get<int64_t>();
  last_event_ms_ = r.Get<int64_t>();
  sketches_.reset();
  if (!plan.has_sketches()) return r.ok();
  sketches_ = std::make_unique<Sketches>();
  auto get = [&](std::vector<Sketch>& set) {
    for (std::size_t k = 0; k < plan.sketch_aggs.size(); ++k) {
      set.push_back(NewSketch(plan, static_cast<int>(k)));
      if (!std::visit([&r](auto& x) { return x.Decode(r); }, set.back())) return false;
    }
    return true;
  };
  if (!get(sketches_->lifetime)) return false;
  sketches_->per_bucket.resize(n);
  for (auto& set : sketches_->per_bucket) {
    if (!get(set)) return false;
  }
  return r.ok();
}

}  // namespace hotpath::features::internal
