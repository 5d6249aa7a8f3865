// Shared mode against a real redis-server that the test starts.
#include "features/redis_store.h"

#include <gtest/gtest.h>

#include <random>

#include "features/internal/brute_force_oracle.h"
#include "features/internal/redis_server_process.h"

namespace hotpath::features {
namespace {

constexpr int64_t kStartMs = 1'700'000'000'000;

const char* kDefs = R"({
  "entities": [{"name": "user", "keys": ["user_id"]}],
  "sources": [{"name": "txn", "entity": "user", "timestamp_field": "ts"}],
  "groups": [{
    "name": "g", "entity": "user", "bucket": "10s", "allowed_lateness": "1m", "ttl": "30m",
    "windows": ["30s", "2m", "10m", "lifetime"],
    "aggregations": [
      {"name": "count", "source": "txn", "kind": "count"},
      {"name": "sum", "source": "txn", "field": "v", "kind": "sum"},
      {"name": "mean", "source": "txn", "field": "v", "kind": "mean"},
      {"name": "min", "source": "txn", "field": "v", "kind": "min"},
      {"name": "max", "source": "txn", "field": "v", "kind": "max"},
      {"name": "std", "source": "txn", "field": "v", "kind": "stddev"},
      {"name": "first", "source": "txn", "field": "v", "kind": "first"},
      {"name": "last", "source": "txn", "field": "v", "kind": "last"}
    ]
  }]
})";

class RedisStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (internal::RedisServerProcess::FindBinary().empty()) {
      GTEST_SKIP() << "redis-server is not installed";
    }
    ASSERT_TRUE(server_.Start());
    defs_ = std::make_shared<Definitions>(ParseDefinitions(kDefs, "t.json").value());
    std::vector<std::string> names;
    for (const AggregationDef& a : defs_->groups[0].aggregations) {
      for (const WindowDef& w : defs_->groups[0].windows)
        names.push_back("g." + a.name + "." + w.name);
    }
    sel_ = FeatureSelector::Create(*defs_, names).value();
  }

  std::unique_ptr<RedisFeatureStore> MakeStore(int64_t cache_ttl_ms, int64_t staleness_ms) {
    RedisFeatureStore::Options o;
    o.definitions = defs_;
    o.clock = &clock_;
    o.port = server_.port();
    o.cache_ttl_ms = cache_ttl_ms;
    o.max_staleness_ms = staleness_ms;
    auto s = RedisFeatureStore::Create(o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(s).value();
  }

  int64_t Now() const { return WallMillis(clock_); }

  void CheckAgainst(const internal::Oracle& oracle, RedisFeatureStore& store, int keys) {
    std::vector<std::string> ids;
    for (int k = 0; k < keys; ++k) ids.push_back("u" + std::to_string(k));
    std::vector<FeatureValue> out;
    ASSERT_TRUE(store.Read(ids, sel_, {}, &out).ok());
    const std::size_t width = sel_.refs().size();
    for (std::size_t e = 0; e < ids.size(); ++e) {
      for (std::size_t i = 0; i < width; ++i) {
        const FeatureRef& r = sel_.refs()[i];
        internal::CheckAgg(defs_->groups[0].aggregations[r.index],
                           oracle.InWindow(ids[e], r.window, Now()), out[e * width + i], false,
                           ids[e] + " " + sel_.names()[i]);
        EXPECT_FALSE(out[e * width + i].stale);
      }
    }
  }

  internal::RedisServerProcess server_;
  FakeClock clock_{TimePoint(std::chrono::milliseconds(kStartMs))};
  std::shared_ptr<Definitions> defs_;
  FeatureSelector sel_;
};

// Two replicas write one shared Redis; both read what both wrote, checked
// against a brute-force recomputation.
TEST_F(RedisStoreTest, ReplicasShareStateAndMatchBruteForce) {
  auto a = MakeStore(0, 60'000);
  auto b = MakeStore(0, 60'000);
  internal::Oracle oracle(*defs_);
  std::mt19937_64 rng(21);
  constexpr int kKeys = 6;
  for (int step = 0; step < 120; ++step) {
    clock_.Advance(std::chrono::milliseconds(rng() % 9'000));
    std::vector<Event> batch;
    for (int i = 0, n = 1 + static_cast<int>(rng() % 4); i < n; ++i) {
      internal::OracleEvent e{"u" + std::to_string(rng() % kKeys),
                              Now() - static_cast<int64_t>(rng() % 20'000),
                              static_cast<double>(static_cast<int>(rng() % 2001) - 1000) / 8, 0, 0};
      oracle.Add(e);
      batch.push_back(Event{0, e.key, e.ts, {e.v}, {}});
    }
    auto report = (step % 2 ? a : b)->Ingest(batch);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    ASSERT_EQ(report->applied, batch.size());
    if (step % 10 == 9) {
      CheckAgainst(oracle, *a, kKeys);
      CheckAgainst(oracle, *b, kKeys);
    }
  }
}

TEST_F(RedisStoreTest, RedisDownServesStaleCacheWithinBoundAndFailsWrites) {
  auto store = MakeStore(/*cache_ttl_ms=*/1'000, /*staleness_ms=*/30'000);
  Event ev{0, "u1", Now(), {5}, {}};
  ASSERT_TRUE(store->Ingest({&ev, 1}).ok());
  std::vector<std::string> ids = {"u1"};
  std::vector<FeatureValue> out;
  ASSERT_TRUE(store->Read(ids, sel_, {}, &out).ok());
  EXPECT_EQ(out[0].status, ValueStatus::kPresent);
  EXPECT_FALSE(out[0].stale);
  server_.Stop();
  clock_.Advance(std::chrono::milliseconds(500));  // within cache TTL: no round trip
  ASSERT_TRUE(store->Read(ids, sel_, {}, &out).ok());
  EXPECT_FALSE(out[0].stale);
  clock_.Advance(std::chrono::seconds(10));  // past TTL, within staleness: stale answer
  ASSERT_TRUE(store->Read(ids, sel_, {}, &out).ok());
  EXPECT_EQ(out[0].status, ValueStatus::kPresent);
  EXPECT_DOUBLE_EQ(out[0].value, 1);
  EXPECT_TRUE(out[0].stale);
  std::vector<std::string> unknown = {"never-cached"};
  EXPECT_EQ(store->Read(unknown, sel_, {}, &out).code(), StatusCode::kUnavailable);
  clock_.Advance(std::chrono::seconds(30));  // past staleness
  Status st = store->Read(ids, sel_, {}, &out);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_NE(st.message().find("127.0.0.1"), std::string::npos) << st.message();
  Event later{0, "u1", Now(), {1}, {}};
  auto write = store->Ingest({&later, 1});
  ASSERT_FALSE(write.ok());
  EXPECT_EQ(write.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(write.status().message().find("unreachable"), std::string::npos);
}

TEST_F(RedisStoreTest, CacheIsBoundedAndUnknownEntitiesAreNotFound) {
  RedisFeatureStore::Options o;
  o.definitions = defs_;
  o.clock = &clock_;
  o.port = server_.port();
  o.cache_ttl_ms = 60'000;
  o.cache_max_entities = 2;
  auto store = std::move(RedisFeatureStore::Create(o)).value();
  std::vector<Event> batch;
  for (int i = 0; i < 3; ++i) batch.push_back(Event{0, "c" + std::to_string(i), Now(), {1}, {}});
  ASSERT_TRUE(store->Ingest(batch).ok());
  std::vector<std::string> ids = {"c0", "c1", "c2", "nobody"};
  std::vector<FeatureValue> out;
  ASSERT_TRUE(store->Read(ids, sel_, {}, &out).ok());
  const std::size_t width = sel_.refs().size();
  EXPECT_EQ(out[0].status, ValueStatus::kPresent);
  EXPECT_EQ(out[3 * width].status, ValueStatus::kNotFound);
  server_.Stop();
  // Only the two most recently fetched states stayed cached.
  std::vector<std::string> oldest = {"c0"};
  EXPECT_EQ(store->Read(oldest, sel_, {}, &out).code(), StatusCode::kUnavailable);
  std::vector<std::string> newest = {"c2"};
  EXPECT_TRUE(store->Read(newest, sel_, {}, &out).ok());
}

TEST(RedisStoreCreate, RefusesSketches) {
  auto defs =
      LoadDefinitionsFile(std::string(HOTPATH_FEATURES_TESTDATA) + "/example_definitions.json");
  ASSERT_TRUE(defs.ok());
  FakeClock clock;
  RedisFeatureStore::Options o;
  o.definitions = std::make_shared<Definitions>(std::move(defs).value());
  o.clock = &clock;
  auto s = RedisFeatureStore::Create(o);
  EXPECT_EQ(s.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.status().message().find("merchants"), std::string::npos);
}

}  // namespace
}  // namespace hotpath::features
