// The history endpoint over real registry metrics and a fake clock:
// throughput and quantiles of each second against what was observed.
#include "serve/apps/perf_http.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace hotpath {
namespace {

TEST(PerfHttpTest, PointsFollowTheObservedRequests) {
  MetricsRegistry registry;
  FakeClock clock;
  auto app = PerfHttpApp::Create(&registry, clock);
  ASSERT_TRUE(app.ok()) << app.status().ToString();
  (*app)->Tick();  // baseline
  for (int i = 0; i < 100; ++i) (*app)->OnInfer({std::chrono::microseconds(200), {}});
  clock.Advance(std::chrono::seconds(1));
  (*app)->Tick();
  for (int i = 0; i < 10; ++i) (*app)->OnInfer({std::chrono::milliseconds(3), {}});
  clock.Advance(std::chrono::seconds(2));
  (*app)->Tick();
  HttpAppResponse out;
  ASSERT_TRUE((*app)->Handle({"GET", "/v1/perf/history", "", ""}, [&](HttpAppResponse r) { out = std::move(r); }));
  auto points = nlohmann::json::parse(out.body)["points"];
  ASSERT_EQ(points.size(), 2u);
  EXPECT_DOUBLE_EQ(points[0]["throughput_per_s"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(points[1]["throughput_per_s"].get<double>(), 5.0);  // 10 over 2 s
  // Quantiles come from histogram buckets: within the bucket holding the value.
  EXPECT_GT(points[0]["p50_ms"].get<double>(), 0.1);
  EXPECT_LE(points[0]["p50_ms"].get<double>(), 0.25);
  EXPECT_GT(points[1]["p99_ms"].get<double>(), 2.0);
  EXPECT_LE(points[1]["p99_ms"].get<double>(), 5.0);
  EXPECT_GT(points[1]["rss_mb"].get<double>(), 1.0);  // this test process's resident memory
  EXPECT_EQ(points[1]["batch_rows"].get<double>(), 0.0);  // no batcher here
  ASSERT_TRUE((*app)->Handle({"GET", "/v1/perf/history", "resolution=minute", ""},
                             [&](HttpAppResponse r) { out = std::move(r); }));
  EXPECT_EQ(nlohmann::json::parse(out.body)["points"].size(), 0u);  // no full minute yet
  ASSERT_TRUE((*app)->Handle({"GET", "/v1/perf/history", "resolution=hour", ""},
                             [&](HttpAppResponse r) { out = std::move(r); }));
  EXPECT_EQ(out.status, 400);
}

}  // namespace
}  // namespace hotpath
