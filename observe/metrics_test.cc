#include "observe/metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>
#include <vector>

namespace hotpath {
namespace {

TEST(CounterTest, ConcurrentIncrementsSumExactly) {
  Counter c;
  constexpr int kThreads = 24;  // more threads than shards: some share one
  constexpr int kPerThread = 50'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&c, t] {
      for (int i = 0; i < kPerThread; ++i) c.Increment(static_cast<uint64_t>(t % 3 + 1));
    });
  }
  for (auto& t : threads) t.join();
  uint64_t expected = 0;
  for (int t = 0; t < kThreads; ++t) expected += static_cast<uint64_t>(t % 3 + 1) * kPerThread;
  EXPECT_EQ(c.Value(), expected);
}

TEST(GaugeTest, SetAndAdd) {
  Gauge g;
  g.Set(2.5);
  g.Add(-1.0);
  EXPECT_DOUBLE_EQ(g.Value(), 1.5);
}

TEST(HistogramBucketsTest, ExponentialBounds) {
  Result<HistogramBuckets> b = HistogramBuckets::Exponential(1e-6, 2.0, 4);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->bounds(), (std::vector<double>{1e-6, 2e-6, 4e-6, 8e-6}));
  const HistogramBuckets latency = HistogramBuckets::LatencySeconds();
  ASSERT_EQ(latency.bounds().size(), 24u);
  EXPECT_DOUBLE_EQ(latency.bounds().front(), 1e-6);
  EXPECT_NEAR(latency.bounds().back(), 8.388608, 1e-9);  // 2^23 µs
}

TEST(HistogramBucketsTest, UpperBoundIsInclusive) {
  const HistogramBuckets b = HistogramBuckets::Explicit({1, 2, 4}).value();
  EXPECT_EQ(b.BucketFor(0.5), 0u);
  EXPECT_EQ(b.BucketFor(1.0), 0u);  // le="1" counts 1
  EXPECT_EQ(b.BucketFor(1.5), 1u);
  EXPECT_EQ(b.BucketFor(4.0), 2u);
  EXPECT_EQ(b.BucketFor(4.5), 3u);  // +Inf
}

TEST(HistogramBucketsTest, RejectsBadLayouts) {
  EXPECT_EQ(HistogramBuckets::Exponential(0, 2, 4).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HistogramBuckets::Exponential(1, 1, 4).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HistogramBuckets::Exponential(1, 2, 33).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HistogramBuckets::Explicit({1, 1}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HistogramBuckets::Explicit({}).status().code(), StatusCode::kInvalidArgument);
}

TEST(HistogramTest, ConcurrentObservationsLandInHandComputedBuckets) {
  Histogram h(HistogramBuckets::Explicit({1, 2, 4}).value());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20'000;
  // Each thread observes 0.5, 1.5, 3, 10 in turn: one per bucket.
  const double values[] = {0.5, 1.5, 3.0, 10.0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) h.Observe(values[i % 4]);
    });
  }
  for (auto& t : threads) t.join();
  const HistogramSnapshot s = h.Snapshot();
  const uint64_t per_bucket = kThreads * kPerThread / 4;
  EXPECT_EQ(s.counts, (std::vector<uint64_t>{per_bucket, per_bucket, per_bucket, per_bucket}));
  EXPECT_EQ(s.Count(), static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_DOUBLE_EQ(s.sum, static_cast<double>(per_bucket) * (0.5 + 1.5 + 3.0 + 10.0));
}

TEST(HistogramSnapshotTest, QuantileInterpolatesLikePrometheus) {
  HistogramSnapshot s;
  s.bounds = {1, 2, 4};
  s.counts = {0, 10, 10, 0};
  // rank 10 ends bucket (1, 2]; rank 15 is halfway through (2, 4].
  EXPECT_DOUBLE_EQ(s.Quantile(0.5), 2.0);
  EXPECT_DOUBLE_EQ(s.Quantile(0.75), 3.0);
  EXPECT_DOUBLE_EQ(s.Quantile(0.05), 1.1);
  s.counts = {0, 0, 0, 5};  // all in +Inf: the last finite bound
  EXPECT_DOUBLE_EQ(s.Quantile(0.5), 4.0);
  EXPECT_DOUBLE_EQ(HistogramSnapshot{}.Quantile(0.5), 0.0);
}

TEST(HistogramSnapshotTest, MinusAndMerge) {
  HistogramSnapshot a{{1, 2}, {1, 2, 3}, 10.0};
  HistogramSnapshot b{{1, 2}, {2, 4, 5}, 25.0};
  const HistogramSnapshot d = b.Minus(a);
  EXPECT_EQ(d.counts, (std::vector<uint64_t>{1, 2, 2}));
  EXPECT_DOUBLE_EQ(d.sum, 15.0);
  HistogramSnapshot m;
  m.Merge(a);
  m.Merge(b);
  EXPECT_EQ(m.counts, (std::vector<uint64_t>{3, 6, 8}));
  EXPECT_EQ(m.Count(), 17u);
}

TEST(RegistryTest, IdenticalRegistrationSharesTheFamily) {
  MetricsRegistry r;
  const MetricSpec spec{"requests_total", "Requests.", {"model"}};
  CounterFamily* a = r.AddCounter(spec).value();
  CounterFamily* b = r.AddCounter(spec).value();
  EXPECT_EQ(a, b);
  Counter* x = a->WithLabels({"m1"}).value();
  EXPECT_EQ(x, b->WithLabels({"m1"}).value());
  EXPECT_NE(x, a->WithLabels({"m2"}).value());
}

TEST(RegistryTest, ConflictingRegistrationIsAlreadyExists) {
  MetricsRegistry r;
  ASSERT_TRUE(r.AddCounter({"x_total", "X.", {"model"}}).ok());
  EXPECT_EQ(r.AddCounter({"x_total", "X.", {"version"}}).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(r.AddGauge({"x_total", "X.", {"model"}}).status().code(), StatusCode::kAlreadyExists);
  const auto b1 = HistogramBuckets::Explicit({1, 2}).value();
  const auto b2 = HistogramBuckets::Explicit({1, 3}).value();
  ASSERT_TRUE(r.AddHistogram({"h_seconds", "H.", {}}, b1).ok());
  EXPECT_EQ(r.AddHistogram({"h_seconds", "H.", {}}, b2).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(r.AddSampled({"x_total", "X.", {}}, MetricType::kCounter, [] { return 1.0; }).code(),
            StatusCode::kAlreadyExists);
}

TEST(RegistryTest, RejectsBadNamesNamingThem) {
  MetricsRegistry r;
  Status s = r.AddCounter({"9bad", "", {}}).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("9bad"), std::string::npos);
  s = r.AddGauge({"ok", "", {"__reserved"}}).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("__reserved"), std::string::npos);
  EXPECT_EQ(r.AddHistogram({"h", "", {"le"}}, HistogramBuckets::BatchRows()).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(r.AddGauge({"a-b", "", {}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.AddSampled({"s", "", {}}, MetricType::kHistogram, [] { return 1.0; }).code(),
            StatusCode::kInvalidArgument);
}

TEST(RegistryTest, WithLabelsChecksTheCount) {
  MetricsRegistry r;
  CounterFamily* f = r.AddCounter({"c_total", "", {"model", "version"}}).value();
  EXPECT_EQ(f->WithLabels({"m"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(f->WithLabels({"m", "1"}).ok());
}

TEST(ShardTest, ThreadsGetDistinctShardsUpToTheShardCount) {
  std::vector<size_t> shards(kMetricShards);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < kMetricShards; ++i) {
    threads.emplace_back([&shards, i] { shards[i] = ThisThreadMetricShard(); });
  }
  for (auto& t : threads) t.join();
  std::sort(shards.begin(), shards.end());
  EXPECT_EQ(std::unique(shards.begin(), shards.end()), shards.end());
}

}  // namespace
}  // namespace hotpath

namespace hotpath {
namespace {

TEST(MetricsReadersTest, TotalsPerFirstLabel) {
  MetricsRegistry r;
  auto c = r.AddCounter({"t_total", "c", {"model", "version"}});
  auto h = r.AddHistogram({"t_seconds", "h", {"model", "version"}}, HistogramBuckets::LatencySeconds());
  ASSERT_TRUE(c.ok() && h.ok());
  (*(*c)->WithLabels({"a", "1"}))->Increment(3);
  (*(*c)->WithLabels({"a", "2"}))->Increment(4);
  (*(*c)->WithLabels({"b", "1"}))->Increment(5);
  (*(*h)->WithLabels({"a", "1"}))->Observe(0.5);
  (*(*h)->WithLabels({"a", "2"}))->Observe(0.25);
  const auto counts = CounterTotals(r, "t_total");
  EXPECT_EQ(counts.at("a"), 7u);
  EXPECT_EQ(counts.at("b"), 5u);
  const auto hist = HistogramTotals(r, "t_seconds");
  EXPECT_EQ(hist.at("a").Count(), 2u);
  EXPECT_DOUBLE_EQ(hist.at("a").sum, 0.75);
  EXPECT_TRUE(CounterTotals(r, "t_seconds").empty());  // wrong type
  EXPECT_TRUE(HistogramTotals(r, "missing").empty());
}

}  // namespace
}  // namespace hotpath
