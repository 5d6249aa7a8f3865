// The Redis Streams consumer against a real redis-server the test starts.
#include "features/stream_consumer.h"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include "features/feature_store.h"
#include "features/internal/redis_server_process.h"

namespace hotpath::features {
namespace {

const char* kDefs = R"({
  "entities": [{"name": "user", "keys": ["user_id"]}],
  "sources": [{"name": "txn", "entity": "user", "timestamp_field": "ts"}],
  "groups": [{
    "name": "g", "entity": "user", "bucket": "1s", "allowed_lateness": "1m",
    "windows": ["lifetime"],
    "aggregations": [
      {"name": "count", "source": "txn", "kind": "count"},
      {"name": "sum", "source": "txn", "field": "v", "kind": "sum"}
    ]
  }]
})";

class StreamConsumerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (internal::RedisServerProcess::FindBinary().empty()) GTEST_SKIP() << "no redis-server";
    ASSERT_TRUE(server_.Start());
    defs_ = std::make_shared<Definitions>(ParseDefinitions(kDefs, "t.json").value());
    FeatureStore::Options so;
    so.definitions = defs_;
    so.clock = &clock_;
    store_ = std::move(FeatureStore::Create(so)).value();
    producer_ = redisConnect("127.0.0.1", server_.port());
    ASSERT_TRUE(producer_ != nullptr && !producer_->err);
  }
  void TearDown() override {
    if (producer_) redisFree(producer_);
  }

  void Add(const std::string& json) {
    auto* r = static_cast<redisReply*>(
        redisCommand(producer_, "XADD events * event %b", json.data(), json.size()));
    ASSERT_TRUE(r != nullptr && r->type == REDIS_REPLY_STRING);
    freeReplyObject(r);
  }

  std::string Txn(const std::string& user, int64_t ts, double v) {
    return "{\"type\":\"txn\",\"user_id\":\"" + user + "\",\"ts\":" + std::to_string(ts) +
           ",\"v\":" + std::to_string(v) + "}";
  }

  long long Pending() {
    auto* r = static_cast<redisReply*>(redisCommand(producer_, "XPENDING events g"));
    long long n = r && r->type == REDIS_REPLY_ARRAY ? r->element[0]->integer : -1;
    if (r) freeReplyObject(r);
    return n;
  }

  std::pair<double, double> CountAndSum(const std::string& user) {
    auto sel = FeatureSelector::Create(
                   *defs_, std::vector<std::string>{"g.count.lifetime", "g.sum.lifetime"})
                   .value();
    std::vector<std::string> ids = {user};
    std::vector<FeatureValue> out;
    EXPECT_TRUE(store_->Read(ids, sel, {}, &out).ok());
    return {out[0].value, out[1].value};
  }

  std::unique_ptr<StreamConsumer> Consumer(IngestFn sink) {
    StreamConsumer::Options o;
    o.port = server_.port();
    o.stream = "events";
    o.group = "g";
    o.consumer = "c1";
    o.batch = 3;
    auto c = StreamConsumer::Create(o, defs_, std::move(sink));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(c).value();
  }

  internal::RedisServerProcess server_;
  FakeClock clock_{TimePoint(std::chrono::milliseconds(1'700'000'000'000))};
  std::shared_ptr<Definitions> defs_;
  std::unique_ptr<FeatureStore> store_;
  redisContext* producer_ = nullptr;
};

TEST_F(StreamConsumerTest, AppliesThenAcknowledgesAndReportsBadEntries) {
  const int64_t now = WallMillis(clock_);
  Add(Txn("a", now, 1));
  Add("{not json");
  Add(Txn("a", now - 120'000, 5));  // too late
  Add(Txn("a", now, 2));
  auto consumer =
      Consumer([&](std::span<const Event> e) -> Result<IngestReport> { return store_->Ingest(e); });
  StreamStats total;
  for (int i = 0; i < 4; ++i) {
    auto stats = consumer->PollOnce(10);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    total.entries += stats->entries;
    total.applied += stats->applied;
    total.too_late += stats->too_late;
    total.rejected += stats->rejected;
  }
  EXPECT_EQ(total.entries, 4u);
  EXPECT_EQ(total.applied, 2u);
  EXPECT_EQ(total.too_late, 1u);
  EXPECT_EQ(total.rejected, 1u);
  EXPECT_EQ(Pending(), 0);
  EXPECT_EQ(CountAndSum("a"), std::make_pair(2.0, 3.0));
}

// A failing sink leaves entries pending; they are redelivered and applied
// exactly once when the sink recovers.
TEST_F(StreamConsumerTest, FailedSinkMeansRedeliveryNotLoss) {
  const int64_t now = WallMillis(clock_);
  for (int i = 0; i < 5; ++i) Add(Txn("b", now, i + 1));
  bool fail = true;
  auto consumer = Consumer([&](std::span<const Event> e) -> Result<IngestReport> {
    if (fail) return UnavailableError("sink down");
    return store_->Ingest(e);
  });
  EXPECT_EQ(consumer->PollOnce(10).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(Pending(), 3);
  fail = false;
  std::size_t applied = 0;
  for (int i = 0; i < 5; ++i) {
    auto stats = consumer->PollOnce(10);
    ASSERT_TRUE(stats.ok());
    applied += stats->applied;
  }
  EXPECT_EQ(applied, 5u);
  EXPECT_EQ(Pending(), 0);
  EXPECT_EQ(CountAndSum("b"), std::make_pair(5.0, 15.0));
}

}  // namespace
}  // namespace hotpath::features
