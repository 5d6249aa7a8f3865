#include "serve/admission/internal/latency_limit.h"

#include <gtest/gtest.h>

namespace hotpath::admission_internal {
namespace {

using std::chrono::milliseconds;

class LatencyLimitTest : public ::testing::Test {
 protected:
  LatencyLimitTest() : limit_(Opts()) {}

  static LatencyLimit::Options Opts() {
    LatencyLimit::Options o;
    o.initial_limit = 10;
    o.min_limit = 1;
    o.max_limit = 100;
    o.window = milliseconds(100);
    o.min_window_samples = 2;
    o.tolerance = 1.5;
    o.backoff = 0.9;
    o.probe_interval = std::chrono::seconds(10);
    return o;
  }

  // One call finishing `step` from the last one, lasting `latency`.
  int Call(Nanos step, Nanos latency, bool ok, int inflight) {
    now_ += step;
    return limit_.OnCall(now_ - latency, now_, ok, inflight);
  }
  // Two calls spanning one 100 ms window; the second closes it.
  int Window(Nanos latency, bool ok, int inflight) {
    Call(milliseconds(50), latency, ok, inflight);
    return Call(milliseconds(50), latency, ok, inflight);
  }

  TimePoint now_ = TimePoint(std::chrono::seconds(100));
  LatencyLimit limit_;
};

TEST_F(LatencyLimitTest, ProbesThenFollowsTheAimdRule) {
  // The first call starts a probe at min_limit; it was granted before the
  // probe, so it is not a sample.
  EXPECT_EQ(Call(Nanos(0), milliseconds(30), true, 10), 1);
  EXPECT_EQ(limit_.baseline(), Nanos(0));
  // Probe window: 10 ms calls. Baseline 10 ms, limit back to 10.
  EXPECT_EQ(Window(milliseconds(10), true, 1), 10);
  EXPECT_EQ(limit_.baseline(), milliseconds(10));
  // 12 ms <= 1.5 * 10 ms and the limit was reached: 10 + floor(sqrt(10)) = 13.
  EXPECT_EQ(Window(milliseconds(12), true, 10), 13);
  // 20 ms > 15 ms: 13 * clamp(15 / 20, 0.5, 0.9) = 9.75 -> 9.
  EXPECT_EQ(Window(milliseconds(20), true, 13), 9);
  // 100 ms: the factor is clamped to 0.5: 4.5 -> 4.
  EXPECT_EQ(Window(milliseconds(100), true, 9), 4);
  // A failure backs off by `backoff`: 4 * 0.9 = 3.6 -> 3.
  EXPECT_EQ(Window(milliseconds(5), false, 4), 3);
  // Fast but never reaching the limit: unchanged.
  EXPECT_EQ(Window(milliseconds(5), true, 1), 3);
  // A window needs min_window_samples calls: one late call does not close it.
  EXPECT_EQ(Call(milliseconds(500), milliseconds(5), true, 3), 3);
  EXPECT_EQ(Call(Nanos(0), milliseconds(5), true, 3), 4);  // 3 + floor(sqrt(3))
}

TEST_F(LatencyLimitTest, ReprobesAfterTheIntervalAndKeepsTheLimit) {
  Call(Nanos(0), milliseconds(10), true, 1);
  Window(milliseconds(10), true, 1);  // probe: baseline 10 ms
  EXPECT_EQ(Window(milliseconds(12), true, 10), 13);
  // 10 s after the probe ended the next call starts a new probe.
  EXPECT_EQ(Call(std::chrono::seconds(10), milliseconds(12), true, 13), 1);
  // Calls granted before the probe began are not samples.
  EXPECT_EQ(Call(milliseconds(150), milliseconds(200), true, 5), 1);
  // The model got slower: the probe measures 20 ms and the limit returns to 13.
  EXPECT_EQ(Call(Nanos(0), milliseconds(20), true, 1), 13);
  EXPECT_EQ(limit_.baseline(), milliseconds(20));
  // 25 ms is within 1.5 * 20 ms now.
  EXPECT_EQ(Window(milliseconds(25), true, 13), 16);
}

TEST(LatencyLimitValidateTest, NamesTheBadField) {
  LatencyLimit::Options o;
  o.initial_limit = 0;
  EXPECT_NE(LatencyLimit::Validate(o).message().find("initial_limit"), std::string::npos);
  o = {};
  o.backoff = 1;
  EXPECT_NE(LatencyLimit::Validate(o).message().find("backoff"), std::string::npos);
  o = {};
  o.probe_interval = o.window;
  EXPECT_NE(LatencyLimit::Validate(o).message().find("probe_interval"), std::string::npos);
  EXPECT_TRUE(LatencyLimit::Validate({}).ok());
}

}  // namespace
}  // namespace hotpath::admission_internal
