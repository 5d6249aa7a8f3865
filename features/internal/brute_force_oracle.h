// Test-only: a brute-force reference for feature values. It keeps every
// accepted event and recomputes each aggregation from scratch, so tests can
// compare any store against it. Used by the *_test.cc files only.
#ifndef HOTPATH_FEATURES_INTERNAL_BRUTE_FORCE_ORACLE_H_
#define HOTPATH_FEATURES_INTERNAL_BRUTE_FORCE_ORACLE_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "features/definitions.h"
#include "features/read.h"

namespace hotpath::features::internal {

struct OracleEvent {
  std::string key;
  int64_t ts;
  double v;
  double w;
  uint64_t k;
};

// Brute force over accepted events: recomputes each feature from scratch.
class Oracle {
 public:
  explicit Oracle(const Definitions& defs) : g_(defs.groups[0]) {}
  void Add(OracleEvent e) { events_.push_back(std::move(e)); }

  std::vector<const OracleEvent*> InWindow(const std::string& key, int w, int64_t t) const {
    const int64_t bt = Bucket(t);
    const WindowDef& win = g_.windows[w];
    const int64_t lo = win.lifetime() ? INT64_MIN : bt - win.length_ms / g_.bucket_ms + 1;
    std::vector<const OracleEvent*> out;
    for (const OracleEvent& e : events_) {
      if (e.key == key && Bucket(e.ts) >= lo && Bucket(e.ts) <= bt) out.push_back(&e);
    }
    return out;
  }
  int64_t LastTs(const std::string& key) const {
    int64_t last = INT64_MIN;
    for (const OracleEvent& e : events_) {
      if (e.key == key) last = std::max(last, e.ts);
    }
    return last;
  }
  int64_t LastTsAtOrBefore(const std::string& key, int64_t t) const {
    int64_t last = INT64_MIN;
    for (const OracleEvent& e : events_) {
      if (e.key == key && Bucket(e.ts) <= Bucket(t)) last = std::max(last, e.ts);
    }
    return last;
  }
  void Forget(const std::string& key) {
    std::erase_if(events_, [&](const OracleEvent& e) { return e.key == key; });
  }
  int64_t Bucket(int64_t ts) const { return ts / g_.bucket_ms; }
  const FeatureGroupDef& group() const { return g_; }

 private:
  const FeatureGroupDef& g_;
  std::vector<OracleEvent> events_;  // in arrival order
};

inline void ExpectNear(double got, double want, const std::string& what) {
  EXPECT_NEAR(got, want, 1e-6 * (1 + std::fabs(want))) << what;
}

// Checks one aggregation value against the events of its window.
inline void CheckAgg(const AggregationDef& a, const std::vector<const OracleEvent*>& evs,
                     const FeatureValue& got, bool may_lack_history, const std::string& what) {
  if (got.status == ValueStatus::kNotRetained) {
    EXPECT_TRUE(may_lack_history) << what;
    return;
  }
  const double n = static_cast<double>(evs.size());
  std::vector<double> vs;
  for (const OracleEvent* e : evs) vs.push_back(e->v);
  bool empty_is_missing = a.kind != AggKind::kCount && a.kind != AggKind::kSum &&
                          a.kind != AggKind::kDistinctCount && a.kind != AggKind::kLastN;
  if (evs.empty() && empty_is_missing) {
    EXPECT_EQ(got.status, ValueStatus::kNotFound) << what;
    return;
  }
  ASSERT_EQ(got.status, ValueStatus::kPresent) << what;
  double sum = 0;
  for (double v : vs) sum += v;
  switch (a.kind) {
    case AggKind::kCount:
      return ExpectNear(got.value, n, what);
    case AggKind::kSum:
      return ExpectNear(got.value, sum, what);
    case AggKind::kMean:
      return ExpectNear(got.value, sum / n, what);
    case AggKind::kMin:
      return ExpectNear(got.value, *std::min_element(vs.begin(), vs.end()), what);
    case AggKind::kMax:
      return ExpectNear(got.value, *std::max_element(vs.begin(), vs.end()), what);
    case AggKind::kStddev: {
      double var = 0;
      for (double v : vs) var += (v - sum / n) * (v - sum / n);
      return ExpectNear(got.value, std::sqrt(var / n), what);
    }
    case AggKind::kFirst: {
      const OracleEvent* best = evs[0];
      for (const OracleEvent* e : evs) best = e->ts < best->ts ? e : best;
      return ExpectNear(got.value, best->v, what);
    }
    case AggKind::kLast: {
      const OracleEvent* best = evs[0];
      for (const OracleEvent* e : evs) best = e->ts >= best->ts ? e : best;
      return ExpectNear(got.value, best->v, what);
    }
    case AggKind::kDistinctCount: {
      std::set<uint64_t> keys;
      for (const OracleEvent* e : evs) keys.insert(e->k);
      EXPECT_NEAR(got.value, static_cast<double>(keys.size()), 1 + 0.05 * keys.size()) << what;
      return;
    }
    case AggKind::kQuantile: {
      std::sort(vs.begin(), vs.end());
      double want = vs[static_cast<std::size_t>(a.quantile * (n - 1))];
      EXPECT_NEAR(got.value, want, a.relative_error * std::fabs(want) + 1e-9) << what;
      return;
    }
    case AggKind::kLastN: {
      std::vector<double> ws;
      for (const OracleEvent* e : evs) ws.push_back(e->w);
      std::sort(ws.rbegin(), ws.rend());
      ws.resize(std::min<std::size_t>(ws.size(), a.last_n));
      EXPECT_EQ(got.list, ws) << what;
      return;
    }
  }
}

}  // namespace hotpath::features::internal

#endif  // HOTPATH_FEATURES_INTERNAL_BRUTE_FORCE_ORACLE_H_
