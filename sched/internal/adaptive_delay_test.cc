#include "sched/internal/adaptive_delay.h"

#include <gtest/gtest.h>

namespace hotpath::sched_internal {
namespace {

using std::chrono::microseconds;

// Feeds `windows` windows of latencies delay + service, where 98% of requests
// take `service` / 2 and 2% take `service`: the p99 is delay + service.
void Feed(AdaptiveDelay& a, Nanos service, int windows, size_t window) {
  for (int w = 0; w < windows; ++w) {
    for (size_t i = 0; i < window; ++i) {
      const Nanos s = i % 50 == 49 ? service : service / 2;
      a.Record(a.delay() + s);
    }
  }
}

TEST(AdaptiveDelayTest, ConvergesToTargetMinusServiceP99) {
  AdaptiveDelay a({.target_p99 = microseconds(1000),
                   .max_delay = microseconds(2000),
                   .window = 200,
                   .gain = 0.5});
  EXPECT_EQ(a.delay(), microseconds(2000));  // starts at the configured maximum
  Feed(a, microseconds(300), 30, 200);
  // Fixed point: delay + 300 µs = 1000 µs.
  EXPECT_NEAR(static_cast<double>(a.delay().count()), 700'000.0, 1'000.0);
  EXPECT_NEAR(static_cast<double>(a.last_p99().count()), 1'000'000.0, 1'000.0);
}

TEST(AdaptiveDelayTest, FirstStepMovesByGainTimesError) {
  AdaptiveDelay a({.target_p99 = microseconds(1000),
                   .max_delay = microseconds(2000),
                   .window = 100,
                   .gain = 0.5});
  for (int i = 0; i < 99; ++i) EXPECT_FALSE(a.Record(microseconds(500)));
  EXPECT_TRUE(a.Record(microseconds(2600)));
  // p99 of 100 samples (nearest rank 99) is 500 µs: error +500 µs, but the
  // delay is already at its 2000 µs ceiling.
  EXPECT_EQ(a.delay(), microseconds(2000));
  for (int i = 0; i < 100; ++i) a.Record(microseconds(3000));
  // p99 3000 µs: 2000 + 0.5 * (1000 - 3000) = 1000 µs.
  EXPECT_EQ(a.delay(), microseconds(1000));
}

TEST(AdaptiveDelayTest, UnreachableTargetDrivesDelayToZero) {
  AdaptiveDelay a({.target_p99 = microseconds(100),
                   .max_delay = microseconds(2000),
                   .window = 100,
                   .gain = 0.5});
  Feed(a, microseconds(500), 20, 100);
  EXPECT_EQ(a.delay(), Nanos(0));
}

TEST(AdaptiveDelayTest, GenerousTargetKeepsTheMaximum) {
  AdaptiveDelay a({.target_p99 = microseconds(50'000),
                   .max_delay = microseconds(2000),
                   .window = 100,
                   .gain = 0.5});
  Feed(a, microseconds(500), 5, 100);
  EXPECT_EQ(a.delay(), microseconds(2000));
}

}  // namespace
}  // namespace hotpath::sched_internal
