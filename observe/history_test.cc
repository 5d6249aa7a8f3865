#include "observe/history.h"

#include <gtest/gtest.h>

namespace hotpath {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(MetricsHistoryTest, RejectsZeroCapacity) {
  FakeClock clock;
  Status s = MetricsHistory::Create({.capacity = 0}, clock).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("capacity"), std::string::npos);
}

TEST(MetricsHistoryTest, PointsHoldIntervalDeltas) {
  FakeClock clock;
  auto history = MetricsHistory::Create({.capacity = 10}, clock).value();
  Histogram latency(HistogramBuckets::LatencySeconds());
  latency.Observe(1.0);  // before the baseline: not in any point
  history->Record(latency.Snapshot(), 5);
  // 90 requests at 3 µs (bucket (2, 4] µs) and 10 at 100 µs (bucket (64, 128] µs).
  for (int i = 0; i < 90; ++i) latency.Observe(3e-6);
  for (int i = 0; i < 10; ++i) latency.Observe(100e-6);
  clock.Advance(seconds(2));
  history->Record(latency.Snapshot(), 8);

  const std::vector<HistoryPoint> points = history->Points();
  ASSERT_EQ(points.size(), 1u);
  const HistoryPoint& p = points[0];
  EXPECT_EQ(p.interval, seconds(2));
  EXPECT_EQ(p.requests, 100u);
  EXPECT_EQ(p.errors, 3u);
  EXPECT_DOUBLE_EQ(p.throughput_per_s, 50.0);
  EXPECT_NEAR(p.p50_s, 2e-6 + 2e-6 * 50.0 / 90.0, 1e-12);   // rank 50 of 90 in (2, 4] µs
  EXPECT_NEAR(p.p95_s, 64e-6 + 64e-6 * 5.0 / 10.0, 1e-12);  // rank 5 of 10 in (64, 128] µs
  EXPECT_NEAR(p.p99_s, 64e-6 + 64e-6 * 9.0 / 10.0, 1e-12);
}

TEST(MetricsHistoryTest, RingKeepsTheNewestPointsOldestFirst) {
  FakeClock clock;
  auto history = MetricsHistory::Create({.capacity = 3}, clock).value();
  Histogram latency(HistogramBuckets::LatencySeconds());
  history->Record(latency.Snapshot(), 0);
  for (int interval = 1; interval <= 5; ++interval) {
    for (int i = 0; i < interval; ++i) latency.Observe(1e-3);
    clock.Advance(milliseconds(1000));
    history->Record(latency.Snapshot(), 0);
  }
  const std::vector<HistoryPoint> points = history->Points();
  ASSERT_EQ(points.size(), 3u);
  EXPECT_EQ(points[0].requests, 3u);
  EXPECT_EQ(points[1].requests, 4u);
  EXPECT_EQ(points[2].requests, 5u);
  EXPECT_DOUBLE_EQ(points[2].throughput_per_s, 5.0);
}

}  // namespace
}  // namespace hotpath
