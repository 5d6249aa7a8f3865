// Property tests: the store against a brute-force recomputation over the
// events it must have accepted, over random out-of-order and late streams,
// window edges, as-of reads and TTL expiry.
#include "features/feature_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "features/internal/brute_force_oracle.h"

namespace hotpath::features {
namespace {

using internal::CheckAgg;
using internal::ExpectNear;
using internal::Oracle;
using internal::OracleEvent;

constexpr int64_t kStartMs = 1'700'000'000'000;

const char* kDefs = R"({
  "entities": [{"name": "user", "keys": ["user_id"]}],
  "sources": [{"name": "txn", "entity": "user", "timestamp_field": "ts"}],
  "groups": [{
    "name": "g", "entity": "user", "bucket": "10s", "allowed_lateness": "1m",
    "ttl": "20m", "retention": "3m", "windows": ["30s", "2m", "10m", "lifetime"],
    "aggregations": [
      {"name": "count", "source": "txn", "kind": "count"},
      {"name": "sum", "source": "txn", "field": "v", "kind": "sum"},
      {"name": "mean", "source": "txn", "field": "v", "kind": "mean"},
      {"name": "min", "source": "txn", "field": "v", "kind": "min"},
      {"name": "max", "source": "txn", "field": "v", "kind": "max"},
      {"name": "std", "source": "txn", "field": "v", "kind": "stddev"},
      {"name": "first", "source": "txn", "field": "v", "kind": "first"},
      {"name": "last", "source": "txn", "field": "v", "kind": "last"},
      {"name": "distinct", "source": "txn", "field": "k", "kind": "distinct_count"},
      {"name": "median", "source": "txn", "field": "v", "kind": "quantile", "q": 0.5,
       "relative_error": 0.02},
      {"name": "recent", "source": "txn", "field": "w", "kind": "last_n", "n": 3}
    ],
    "derived": [
      {"name": "ratio", "kind": "ratio", "numerator": "sum.30s", "denominator": "count.10m"},
      {"name": "log", "kind": "log1p", "input": "count.2m"},
      {"name": "since", "kind": "time_since_last", "source": "txn"},
      {"name": "hour", "kind": "hour_of_day"},
      {"name": "over", "kind": "compare_profile", "input": "max.10m",
       "profile_field": "limit", "op": ">"}
    ]
  }]
})";

class StoreProperty : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<Definitions> d = ParseDefinitions(kDefs, "test.json");
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    defs_ = std::make_shared<Definitions>(std::move(d).value());
    FeatureStore::Options opt;
    opt.definitions = defs_;
    opt.clock = &clock_;
    opt.shards = 4;
    auto s = FeatureStore::Create(opt);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    oracle_ = std::make_unique<Oracle>(*defs_);
    std::vector<std::string> names;
    const FeatureGroupDef& g = defs_->groups[0];
    for (const AggregationDef& a : g.aggregations) {
      for (const WindowDef& w : g.windows) names.push_back("g." + a.name + "." + w.name);
    }
    for (const DerivedDef& dd : g.derived) names.push_back("g." + dd.name);
    auto sel = FeatureSelector::Create(*defs_, names);
    ASSERT_TRUE(sel.ok());
    sel_ = std::move(sel).value();
  }

  int64_t Now() const { return WallMillis(clock_); }

  // Ingests a random batch; the oracle decides acceptance independently.
  void IngestBatch(std::mt19937_64& rng, int keys) {
    std::vector<Event> batch;
    std::vector<OracleEvent> mirror;
    for (int i = 0, n = 1 + static_cast<int>(rng() % 6); i < n; ++i) {
      int64_t lag = rng() % 10 == 0 ? static_cast<int64_t>(rng() % 90'000) - 5'000
                                    : static_cast<int64_t>(rng() % 8'000);
      OracleEvent e{"u" + std::to_string(rng() % keys), Now() - lag,
                    static_cast<double>(static_cast<int>(rng() % 201) - 100), 0, rng() % 40};
      e.w = static_cast<double>(e.ts) + static_cast<double>(rng() % 1000) / 1000;
      Event ev;
      ev.entity_key = e.key;
      ev.ts_ms = e.ts;
      ev.numbers = {e.v, e.w};
      ev.keyed = {KeyedValueHash(std::to_string(e.k))};
      batch.push_back(ev);
      mirror.push_back(e);
    }
    IngestReport report = store_->Ingest(batch);
    std::size_t late = 0, future = 0;
    for (const OracleEvent& e : mirror) {
      if (e.ts < Now() - 60'000) {
        ++late;
      } else if (e.ts > Now()) {
        ++future;
      } else {
        oracle_->Add(e);
      }
    }
    EXPECT_EQ(report.too_late, late);
    EXPECT_EQ(report.rejected, future);
    EXPECT_EQ(report.applied, mirror.size() - late - future);
    EXPECT_EQ(report.errors.size(), late + future);
  }

  void CheckAll(int keys, std::optional<int64_t> as_of) {
    std::vector<std::string> ids;
    std::vector<Profile> profiles;
    for (int k = 0; k < keys; ++k) {
      ids.push_back("u" + std::to_string(k));
      profiles.push_back(Profile{{{"limit", static_cast<double>(k * 20 - 40)}}});
    }
    ids.push_back("never-seen");
    profiles.push_back(Profile{});
    std::vector<FeatureValue> out;
    ReadOptions ro;
    ro.as_of_ms = as_of;
    ro.profiles = profiles;
    ASSERT_TRUE(store_->Read(ids, sel_, ro, &out).ok());
    const std::size_t width = sel_.refs().size();
    for (std::size_t e = 0; e < ids.size(); ++e) {
      CheckEntity(ids[e], profiles[e], as_of, &out[e * width]);
    }
  }

  void CheckEntity(const std::string& id, const Profile& profile, std::optional<int64_t> as_of,
                   const FeatureValue* row) {
    const FeatureGroupDef& g = oracle_->group();
    const int64_t t = as_of.value_or(Now());
    const int64_t last = oracle_->LastTs(id);
    const bool expired = last != INT64_MIN && Now() - last > g.ttl_ms;
    for (std::size_t i = 0; i < sel_.refs().size(); ++i) {
      std::string what = id + " " + sel_.names()[i] + " at " + std::to_string(t - kStartMs);
      if (last == INT64_MIN) {
        EXPECT_EQ(row[i].status, ValueStatus::kNotFound) << what;
        continue;
      }
      if (expired) {
        EXPECT_EQ(row[i].status, ValueStatus::kExpired) << what;
        continue;
      }
      const FeatureRef& r = sel_.refs()[i];
      if (!r.derived) {
        bool may_lack = as_of.has_value() && g.windows[r.window].lifetime();
        CheckAgg(g.aggregations[r.index], oracle_->InWindow(id, r.window, t), row[i], may_lack,
                 what);
        continue;
      }
      CheckDerived(g.derived[r.index], id, profile, t, as_of.has_value(), row[i], what);
    }
  }

  double Agg(const std::string& id, const AggRef& ref, int64_t t) {
    auto evs = oracle_->InWindow(id, ref.window, t);
    const AggKind kind = oracle_->group().aggregations[ref.aggregation].kind;
    if (kind == AggKind::kCount) return static_cast<double>(evs.size());
    double m = -INFINITY, s = 0;
    for (const OracleEvent* e : evs) m = std::max(m, e->v), s += e->v;
    return kind == AggKind::kSum ? s : m;
  }

  void CheckDerived(const DerivedDef& d, const std::string& id, const Profile& profile, int64_t t,
                    bool as_of, const FeatureValue& got, const std::string& what) {
    if (got.status == ValueStatus::kNotRetained) {
      EXPECT_TRUE(as_of && d.kind == DerivedKind::kTimeSinceLast) << what;
      return;
    }
    std::optional<double> want;
    if (d.kind == DerivedKind::kRatio) {
      double den = Agg(id, d.b, t);
      if (den != 0) want = Agg(id, d.a, t) / den;
    } else if (d.kind == DerivedKind::kLog1p) {
      want = std::log1p(Agg(id, d.a, t));
    } else if (d.kind == DerivedKind::kTimeSinceLast) {
      int64_t last = oracle_->LastTsAtOrBefore(id, t);
      if (last != INT64_MIN) want = std::max<double>(0, static_cast<double>(t - last)) / 1000;
    } else if (d.kind == DerivedKind::kHourOfDay) {
      want = static_cast<double>((t / 3'600'000) % 24);
    } else {
      double m = Agg(id, d.a, t);
      const double* limit = profile.Find("limit");
      if (std::isfinite(m) && limit != nullptr) want = m > *limit ? 1 : 0;
    }
    if (!want.has_value()) {
      EXPECT_EQ(got.status, ValueStatus::kNotFound) << what;
      return;
    }
    ASSERT_EQ(got.status, ValueStatus::kPresent) << what;
    ExpectNear(got.value, *want, what);
  }

  FakeClock clock_{TimePoint(std::chrono::milliseconds(kStartMs))};
  std::shared_ptr<Definitions> defs_;
  std::unique_ptr<FeatureStore> store_;
  std::unique_ptr<Oracle> oracle_;
  FeatureSelector sel_;
};

TEST_F(StoreProperty, RandomStreamsMatchBruteForce) {
  constexpr int kKeys = 5;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    SetUp();
    std::mt19937_64 rng(seed);
    for (int step = 0; step < 400; ++step) {
      int64_t advance = rng() % 50 == 0 ? 21 * 60'000 : static_cast<int64_t>(rng() % 12'000);
      clock_.Advance(std::chrono::milliseconds(advance));
      IngestBatch(rng, kKeys);
      if (step % 7 == 0) CheckAll(kKeys, std::nullopt);
      if (step % 11 == 0) {
        int64_t back = static_cast<int64_t>(rng() % (oracle_->group().retention_ms + 1));
        CheckAll(kKeys, Now() - back);
      }
      if (HasFatalFailure() || HasFailure()) return;
    }
  }
}

TEST_F(StoreProperty, WindowEdgesAreBucketExact) {
  // Events exactly on bucket boundaries, read exactly at window edges.
  const int64_t base = (Now() / 10'000 + 1) * 10'000;
  clock_.Advance(std::chrono::milliseconds(base - Now()));
  for (int i = 0; i < 6; ++i) {
    Event ev{0,
             "edge",
             Now(),
             {static_cast<double>(i), static_cast<double>(i)},
             {KeyedValueHash(std::to_string(i))}};
    ASSERT_EQ(store_->Ingest({&ev, 1}).applied, 1u);
    oracle_->Add({"edge", ev.ts_ms, ev.numbers[0], ev.numbers[1], uint64_t(i)});
    clock_.Advance(std::chrono::milliseconds(i % 2 ? 9'999 : 1));
    CheckAll(0, std::nullopt);
    ASSERT_TRUE(true);
  }
  for (int s = 0; s < 80; ++s) {
    clock_.Advance(std::chrono::milliseconds(5'000));
    std::vector<std::string> ids = {"edge"};
    std::vector<FeatureValue> out;
    ASSERT_TRUE(store_->Read(ids, sel_, {}, &out).ok());
    CheckEntity("edge", Profile{}, std::nullopt, out.data());
  }
}

TEST_F(StoreProperty, TtlExpiryThenSweep) {
  Event ev{0, "ttl", Now(), {5, 1}, {1}};
  ASSERT_EQ(store_->Ingest({&ev, 1}).applied, 1u);
  std::vector<std::string> ids = {"ttl"};
  std::vector<FeatureValue> out;
  clock_.Advance(std::chrono::minutes(20));
  ASSERT_TRUE(store_->Read(ids, sel_, {}, &out).ok());
  EXPECT_EQ(out[0].status, ValueStatus::kPresent);
  clock_.Advance(std::chrono::milliseconds(1));
  ASSERT_TRUE(store_->Read(ids, sel_, {}, &out).ok());
  for (const FeatureValue& v : out) EXPECT_EQ(v.status, ValueStatus::kExpired);
  EXPECT_EQ(store_->SweepExpired(), 1u);
  ASSERT_TRUE(store_->Read(ids, sel_, {}, &out).ok());
  for (const FeatureValue& v : out) EXPECT_EQ(v.status, ValueStatus::kNotFound);
  EXPECT_EQ(store_->Stats().evicted, 1u);
  EXPECT_EQ(store_->Stats().entities, 0u);
}

TEST_F(StoreProperty, MalformedEventsRejectedRestApplied) {
  std::vector<Event> batch = {
      {0, "a", Now(), {1, 1}, {1}},
      {3, "a", Now(), {1, 1}, {1}},           // unknown source
      {0, "a", Now(), {1}, {1}},              // missing field
      {0, "a", Now(), {NAN, 1}, {1}},         // not finite
      {0, "", Now(), {1, 1}, {1}},            // no key
      {0, "a", Now() - 61'000, {1, 1}, {1}},  // too late
      {0, "a", Now() + 1, {1, 1}, {1}},       // future
      {0, "b", Now(), {2, 2}, {2}},
  };
  IngestReport r = store_->Ingest(batch);
  EXPECT_EQ(r.applied, 2u);
  EXPECT_EQ(r.too_late, 1u);
  EXPECT_EQ(r.rejected, 5u);
  ASSERT_EQ(r.errors.size(), 6u);
  EXPECT_EQ(r.errors[4].first, 5u);
  EXPECT_EQ(r.errors[4].second.code(), StatusCode::kOutOfRange);
  EXPECT_NE(r.errors[2].second.message().find("\"v\""), std::string::npos);
  EXPECT_EQ(store_->Stats().too_late, 1u);
}

TEST_F(StoreProperty, AsOfOutsideRetentionIsOutOfRange) {
  std::vector<std::string> ids = {"x"};
  std::vector<FeatureValue> out;
  ReadOptions ro;
  ro.as_of_ms = Now() - 3 * 60'000 - 1;
  EXPECT_EQ(store_->Read(ids, sel_, ro, &out).code(), StatusCode::kOutOfRange);
  ro.as_of_ms = Now() + 1;
  EXPECT_EQ(store_->Read(ids, sel_, ro, &out).code(), StatusCode::kOutOfRange);
}

TEST_F(StoreProperty, EntityCapRefusesNewEntities) {
  FeatureStore::Options opt;
  opt.definitions = defs_;
  opt.clock = &clock_;
  opt.shards = 1;
  opt.max_entities_per_group = 3;
  auto store = std::move(FeatureStore::Create(opt)).value();
  for (int i = 0; i < 5; ++i) {
    Event ev{0, "e" + std::to_string(i), Now(), {1, 1}, {1}};
    IngestReport r = store->Ingest({&ev, 1});
    EXPECT_EQ(r.applied, i < 3 ? 1u : 0u);
    if (i >= 3) {
      EXPECT_EQ(r.errors[0].second.code(), StatusCode::kResourceExhausted);
    }
  }
  clock_.Advance(std::chrono::minutes(21));  // the old ones expire and make room
  Event ev{0, "late-comer", Now(), {1, 1}, {1}};
  EXPECT_EQ(store->Ingest({&ev, 1}).applied, 1u);
}

// Large batches over many shards (the prefetch pipeline runs ahead across
// shard boundaries, holding several shard locks) answer exactly what the
// same events ingested one at a time answer.
TEST_F(StoreProperty, LargeBatchesEqualOneEventAtATime) {
  auto make = [&] {
    FeatureStore::Options opt;
    opt.definitions = defs_;
    opt.clock = &clock_;
    opt.shards = 16;
    return std::move(FeatureStore::Create(opt)).value();
  };
  auto batched = make(), single = make();
  std::mt19937_64 rng(11);
  constexpr int kKeys = 600;
  for (int b = 0; b < 12; ++b) {
    std::vector<Event> batch;
    for (int i = 0; i < 900; ++i) {
      const double v = static_cast<double>(static_cast<int>(rng() % 201) - 100);
      batch.push_back(Event{0, "u" + std::to_string(rng() % kKeys),
                            Now() - static_cast<int64_t>(rng() % 50'000), {v, v / 3}, {rng() % 40}});
    }
    EXPECT_EQ(batched->Ingest(batch).applied, batch.size());
    for (const Event& ev : batch) EXPECT_EQ(single->Ingest({&ev, 1}).applied, 1u);
    clock_.Advance(std::chrono::seconds(7 + static_cast<int>(rng() % 40)));
  }
  std::vector<std::string> ids;
  for (int k = 0; k < kKeys; ++k) ids.push_back("u" + std::to_string(k));
  std::vector<FeatureValue> a, c;
  ASSERT_TRUE(batched->Read(ids, sel_, {}, &a).ok());
  ASSERT_TRUE(single->Read(ids, sel_, {}, &c).ok());
  ASSERT_EQ(a.size(), c.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].status, c[i].status) << sel_.names()[i % sel_.names().size()];
    ASSERT_EQ(a[i].value, c[i].value) << sel_.names()[i % sel_.names().size()];
    ASSERT_EQ(a[i].list, c[i].list) << sel_.names()[i % sel_.names().size()];
  }
  EXPECT_EQ(batched->Stats().entities, single->Stats().entities);
}

// Writers and readers on several threads: every event lands exactly once.
TEST_F(StoreProperty, ConcurrentIngestAndReadsKeepEveryEvent) {
  constexpr int kThreads = 4, kBatches = 200, kPerBatch = 16;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<Event> batch;
      for (int b = 0; b < kBatches; ++b) {
        batch.clear();
        for (int i = 0; i < kPerBatch; ++i) {
          batch.push_back(Event{0,
                                "c" + std::to_string((b * kPerBatch + i) % 37),
                                Now(),
                                {static_cast<double>(t + 1), 0},
                                {1}});
        }
        EXPECT_EQ(store_->Ingest(batch).applied, batch.size());
        std::vector<std::string> ids = {"c" + std::to_string(b % 37)};
        std::vector<FeatureValue> out;
        EXPECT_TRUE(store_->Read(ids, sel_, {}, &out).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<std::string> ids;
  for (int k = 0; k < 37; ++k) ids.push_back("c" + std::to_string(k));
  auto sel = FeatureSelector::Create(*defs_,
                                     std::vector<std::string>{"g.count.lifetime", "g.sum.lifetime"})
                 .value();
  std::vector<FeatureValue> out;
  ASSERT_TRUE(store_->Read(ids, sel, {}, &out).ok());
  double count = 0, sum = 0;
  for (std::size_t k = 0; k < ids.size(); ++k) {
    count += out[2 * k].value;
    sum += out[2 * k + 1].value;
  }
  EXPECT_EQ(count, kThreads * kBatches * kPerBatch);
  EXPECT_EQ(sum, kBatches * kPerBatch * (1 + 2 + 3 + 4));
}

TEST(FeatureStoreCreate, ValidatesOptions) {
  FakeClock clock;
  FeatureStore::Options opt;
  EXPECT_EQ(FeatureStore::Create(opt).status().code(), StatusCode::kInvalidArgument);
  opt.definitions = std::make_shared<Definitions>(ParseDefinitions(kDefs, "t").value());
  EXPECT_EQ(FeatureStore::Create(opt).status().code(), StatusCode::kInvalidArgument);
  opt.clock = &clock;
  opt.shards = 3;
  EXPECT_EQ(FeatureStore::Create(opt).status().code(), StatusCode::kInvalidArgument);
  opt.shards = 8;
  EXPECT_TRUE(FeatureStore::Create(opt).ok());
}

}  // namespace
}  // namespace hotpath::features
