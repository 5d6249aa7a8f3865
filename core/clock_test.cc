#include "core/clock.h"

#include <gtest/gtest.h>

namespace hotpath {
namespace {

using std::chrono::milliseconds;

TEST(ClockTest, FakeClockMovesOnlyWhenAdvanced) {
  FakeClock clock;
  TimePoint t0 = clock.Now();
  EXPECT_EQ(clock.Now(), t0);
  clock.Advance(milliseconds(5));
  EXPECT_EQ(clock.Now() - t0, milliseconds(5));
}

TEST(ClockTest, DeadlineExpiresExactlyAtItsTime) {
  FakeClock clock;
  Deadline d = Deadline::After(clock, milliseconds(10));
  EXPECT_FALSE(d.Expired(clock));
  EXPECT_EQ(d.Remaining(clock), milliseconds(10));
  clock.Advance(milliseconds(9));
  EXPECT_FALSE(d.Expired(clock));
  clock.Advance(milliseconds(1));
  EXPECT_TRUE(d.Expired(clock));
  EXPECT_EQ(d.Remaining(clock), Nanos(0));
}

TEST(ClockTest, InfiniteDeadlineNeverExpires) {
  FakeClock clock;
  Deadline d;
  clock.Advance(std::chrono::hours(1000));
  EXPECT_FALSE(d.Expired(clock));
  EXPECT_EQ(d.Remaining(clock), Nanos::max());
}

TEST(ClockTest, RealClockIsMonotonic) {
  TimePoint a = RealClock().Now();
  TimePoint b = RealClock().Now();
  EXPECT_LE(a, b);
}

}  // namespace
}  // namespace hotpath
