#include "features/internal/plan.h"

#include <algorithm>

namespace hotpath::features::internal {
namespace {

// Returns the slot matching (kind, input, field) within [begin, end of slots),
// appending it when absent.
int SlotFor(GroupPlan& plan, int begin, SlotKind kind, SlotInput input, int field) {
  for (int i = begin; i < static_cast<int>(plan.slots.size()); ++i) {
    const Slot& s = plan.slots[i];
    if (s.kind == kind && s.input == input && s.field == field) return i;
  }
  plan.slots.push_back(Slot{kind, input, field, -1});
  return static_cast<int>(plan.slots.size()) - 1;
}

// First/last keep an event time and its value as a pair of slots.
void PairSlots(GroupPlan& plan, int begin, bool first, int field, int& ts, int& v) {
  ts =
      SlotFor(plan, begin, first ? SlotKind::kFirstTs : SlotKind::kLastTs, SlotInput::kTime, field);
  if (plan.slots[ts].pair < 0) {
    v = SlotFor(plan, begin, first ? SlotKind::kFirstV : SlotKind::kLastV, SlotInput::kValue,
                field);
    plan.slots[ts].pair = v;
  }
  v = plan.slots[ts].pair;
}

void PlanAggregation(GroupPlan& plan, SourcePlan& src, int index) {
  const AggregationDef& a = plan.def->aggregations[index];
  AggPlan& p = plan.aggs[index];
  int b = src.begin;
  p.n = src.n_slot;
  switch (a.kind) {
    case AggKind::kStddev:
      p.sumsq = SlotFor(plan, b, SlotKind::kAdd, SlotInput::kSquare, a.field);
      [[fallthrough]];
    case AggKind::kSum:
    case AggKind::kMean:
      p.sum = SlotFor(plan, b, SlotKind::kAdd, SlotInput::kValue, a.field);
      break;
    case AggKind::kMin:
      p.min = SlotFor(plan, b, SlotKind::kMin, SlotInput::kValue, a.field);
      break;
    case AggKind::kMax:
      p.max = SlotFor(plan, b, SlotKind::kMax, SlotInput::kValue, a.field);
      break;
    case AggKind::kFirst:
      PairSlots(plan, b, true, a.field, p.first_ts, p.first_v);
      break;
    case AggKind::kLast:
      PairSlots(plan, b, false, a.field, p.last_ts, p.last_v);
      break;
    case AggKind::kDistinctCount:
    case AggKind::kQuantile:
    case AggKind::kLastN:
      p.sketch = static_cast<int>(plan.sketch_aggs.size());
      plan.sketch_aggs.push_back(index);
      src.sketches.push_back(SketchFeed{index, a.field});
      break;
    case AggKind::kCount:
      break;
  }
}

void PlanSource(GroupPlan& plan, int source) {
  const FeatureGroupDef& g = *plan.def;
  SourcePlan src;
  src.source = source;
  src.begin = static_cast<int>(plan.slots.size());
  src.n_slot = SlotFor(plan, src.begin, SlotKind::kAdd, SlotInput::kOne, -1);
  for (const DerivedDef& d : g.derived) {
    if (d.kind == DerivedKind::kTimeSinceLast && d.source == source) {
      src.last_ts_slot = SlotFor(plan, src.begin, SlotKind::kMax, SlotInput::kTime, -1);
    }
  }
  for (std::size_t i = 0; i < g.aggregations.size(); ++i) {
    if (g.aggregations[i].source == source) PlanAggregation(plan, src, static_cast<int>(i));
  }
  src.end = static_cast<int>(plan.slots.size());
  plan.source_of[source] = static_cast<int>(plan.sources.size());
  plan.sources.push_back(std::move(src));
}

void PlanWindows(GroupPlan& plan) {
  int64_t longest = 0;
  for (const WindowDef& w : plan.def->windows) {
    WindowPlan wp;
    wp.lifetime = w.lifetime();
    wp.length_buckets = wp.lifetime ? 0 : w.length_ms / plan.bucket_ms;
    longest = std::max(longest, wp.length_buckets);
    wp.base = plan.running_size++;
    for (const Slot& s : plan.slots) {
      bool first_last =
          s.kind != SlotKind::kAdd && s.kind != SlotKind::kMin && s.kind != SlotKind::kMax;
      if (IsNewestTime(s) || (first_last && !wp.lifetime)) {
        wp.cell.push_back(-1);
        continue;
      }
      wp.cell.push_back(plan.running_size);
      bool extreme = s.kind == SlotKind::kMin || s.kind == SlotKind::kMax;
      plan.running_size += extreme ? 2 : 1;
    }
    plan.windows.push_back(std::move(wp));
  }
  const FeatureGroupDef& g = *plan.def;
  plan.keep_buckets = longest + (g.retention_ms + g.allowed_lateness_ms) / plan.bucket_ms + 2;
}

}  // namespace

GroupPlan GroupPlan::Compile(const Definitions& defs, int group) {
  GroupPlan plan;
  plan.def = &defs.groups[group];
  plan.group = group;
  plan.bucket_ms = plan.def->bucket_ms;
  plan.aggs.resize(plan.def->aggregations.size());
  plan.source_of.assign(defs.sources.size(), -1);
  for (std::size_t s = 0; s < defs.sources.size(); ++s) {
    bool used = false;
    for (const AggregationDef& a : plan.def->aggregations) used = used || a.source == int(s);
    for (const DerivedDef& d : plan.def->derived) {
      used = used || (d.kind == DerivedKind::kTimeSinceLast && d.source == int(s));
    }
    if (used) PlanSource(plan, static_cast<int>(s));
  }
  plan.stride = 1 + static_cast<int>(plan.slots.size());
  PlanWindows(plan);
  return plan;
}

}  // namespace hotpath::features::internal
