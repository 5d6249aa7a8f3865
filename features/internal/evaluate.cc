#include "features/internal/evaluate.h"

#include <array>
#include <bitset>
#include <cmath>

namespace hotpath::features::internal {
namespace {

constexpr int kMaxWindows = 16;

// A feature's status and scalar value: what evaluation passes around (a
// FeatureValue also owns a list, which only last_n fills).
struct Scalar {
  ValueStatus status = ValueStatus::kNotFound;
  double value = 0;
};

Scalar Value(double v) { return Scalar{ValueStatus::kPresent, v}; }

Scalar Status(ValueStatus s) { return Scalar{s, 0}; }

// Lazily computed window summaries for one entity read.
class Summaries {
 public:
  Summaries(const GroupPlan& plan, const EntityState& state, int64_t bt)
      : plan_(plan), state_(state), bt_(bt) {}
  const double* Get(int w) {
    if (!ready_[w]) {
      state_.Summarize(plan_, w, bt_, cells_[w].data());
      ready_[w] = true;
    }
    return cells_[w].data();
  }
  const GroupPlan& plan() const { return plan_; }
  const EntityState& state() const { return state_; }
  int64_t bt() const { return bt_; }

 private:
  const GroupPlan& plan_;
  const EntityState& state_;
  int64_t bt_;
  std::bitset<kMaxWindows> ready_;
  std::array<std::array<double, kMaxSlots>, kMaxWindows> cells_;
};

// `list` receives last_n values; null where the caller needs a number only.
Scalar EvalSketch(Summaries& sums, int agg, int w, std::vector<double>* list) {
  const GroupPlan& plan = sums.plan();
  const AggPlan& p = plan.aggs[agg];
  Sketch sk = NewSketch(plan, p.sketch);
  if (!sums.state().MergeSketch(plan, w, p.sketch, sums.bt(), sk)) {
    return Status(ValueStatus::kNotRetained);
  }
  if (auto* h = std::get_if<HyperLogLog>(&sk)) return Value(std::round(h->Estimate()));
  if (auto* d = std::get_if<DDSketch>(&sk)) {
    if (d->count() == 0) return Status(ValueStatus::kNotFound);
    return Value(d->Quantile(plan.def->aggregations[agg].quantile));
  }
  std::vector<double> values = std::get<LastN>(sk).Values();
  Scalar out = Value(static_cast<double>(values.size()));
  if (list != nullptr) *list = std::move(values);
  return out;
}

Scalar EvalAgg(Summaries& sums, int agg, int w, std::vector<double>* list = nullptr) {
  const AggPlan& p = sums.plan().aggs[agg];
  if (p.sketch >= 0) return EvalSketch(sums, agg, w, list);
  const double* c = sums.Get(w);
  const double n = c[p.n];
  auto pick = [&](int slot) {
    if (std::isnan(c[slot])) return Status(ValueStatus::kNotRetained);
    return std::isfinite(c[slot]) ? Value(c[slot]) : Status(ValueStatus::kNotFound);
  };
  if (std::isnan(n)) return Status(ValueStatus::kNotRetained);
  switch (sums.plan().def->aggregations[agg].kind) {
    case AggKind::kCount:
      return Value(n);
    case AggKind::kSum:
      return Value(n > 0 ? c[p.sum] : 0);
    case AggKind::kMean:
      return n > 0 ? Value(c[p.sum] / n) : Status(ValueStatus::kNotFound);
    case AggKind::kStddev: {
      if (n <= 0) return Status(ValueStatus::kNotFound);
      double mean = c[p.sum] / n;
      return Value(std::sqrt(std::max(0.0, c[p.sumsq] / n - mean * mean)));
    }
    case AggKind::kMin:
      return pick(p.min);
    case AggKind::kMax:
      return pick(p.max);
    case AggKind::kFirst: {
      Scalar ts = pick(p.first_ts);
      return ts.status == ValueStatus::kPresent ? Value(c[p.first_v]) : ts;
    }
    case AggKind::kLast: {
      Scalar ts = pick(p.last_ts);
      return ts.status == ValueStatus::kPresent ? Value(c[p.last_v]) : ts;
    }
    default:
      return Status(ValueStatus::kNotFound);
  }
}

bool Compare(double x, CompareOp op, double y) {
  switch (op) {
    case CompareOp::kLt:
      return x < y;
    case CompareOp::kLe:
      return x <= y;
    case CompareOp::kGt:
      return x > y;
    case CompareOp::kGe:
      return x >= y;
    case CompareOp::kEq:
      return x == y;
    case CompareOp::kNe:
      return x != y;
  }
  return false;
}

Scalar EvalDerived(Summaries& sums, const DerivedDef& d, int64_t t_ms, const Profile* profile) {
  switch (d.kind) {
    case DerivedKind::kRatio: {
      Scalar a = EvalAgg(sums, d.a.aggregation, d.a.window);
      Scalar b = EvalAgg(sums, d.b.aggregation, d.b.window);
      if (a.status != ValueStatus::kPresent) return a;
      if (b.status != ValueStatus::kPresent) return b;
      return b.value != 0 ? Value(a.value / b.value) : Status(ValueStatus::kNotFound);
    }
    case DerivedKind::kLog1p: {
      Scalar a = EvalAgg(sums, d.a.aggregation, d.a.window);
      if (a.status != ValueStatus::kPresent) return a;
      return a.value > -1 ? Value(std::log1p(a.value)) : Status(ValueStatus::kNotFound);
    }
    case DerivedKind::kTimeSinceLast: {
      const GroupPlan& plan = sums.plan();
      const SourcePlan& src = plan.sources[plan.source_of[d.source]];
      double ts = sums.state().LastEventTs(plan, src, sums.bt());
      if (std::isnan(ts)) return Status(ValueStatus::kNotRetained);
      if (!std::isfinite(ts)) return Status(ValueStatus::kNotFound);
      return Value(std::max(0.0, static_cast<double>(t_ms) - ts) / 1000.0);
    }
    case DerivedKind::kHourOfDay:
      return Value(static_cast<double>((t_ms / 3'600'000) % 24));
    case DerivedKind::kCompareProfile: {
      Scalar a = EvalAgg(sums, d.a.aggregation, d.a.window);
      if (a.status != ValueStatus::kPresent) return a;
      const double* field = profile ? profile->Find(d.profile_field) : nullptr;
      if (field == nullptr) return Status(ValueStatus::kNotFound);
      return Value(Compare(a.value, d.op, *field) ? 1 : 0);
    }
  }
  return Status(ValueStatus::kNotFound);
}

}  // namespace

void EvaluateGroup(const GroupPlan& plan, const EntityState& state, const FeatureSelector& sel,
                   int64_t t_ms, const Profile* profile, FeatureValue* row) {
  Summaries sums(plan, state, BucketOf(t_ms, plan.bucket_ms));
  const std::vector<FeatureRef>& refs = sel.refs();
  for (std::size_t i = 0; i < refs.size(); ++i) {
    const FeatureRef& r = refs[i];
    if (r.group != plan.group) continue;
    FeatureValue& v = row[i];
    v.list.clear();
    v.stale = false;
    const Scalar s = r.derived ? EvalDerived(sums, plan.def->derived[r.index], t_ms, profile)
                               : EvalAgg(sums, r.index, r.window, &v.list);
    v.status = s.status;
    v.value = s.value;
  }
}

void FillGroup(const FeatureSelector& sel, int group, ValueStatus status, FeatureValue* row) {
  const std::vector<FeatureRef>& refs = sel.refs();
  for (std::size_t i = 0; i < refs.size(); ++i) {
    if (refs[i].group != group) continue;
    row[i].status = status;
    row[i].value = 0;
    row[i].list.clear();
    row[i].stale = false;
  }
}

}  // namespace hotpath::features::internal
