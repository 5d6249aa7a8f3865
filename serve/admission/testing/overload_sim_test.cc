// Overload behaviour of ConcurrencyLimiter in the discrete-event simulation:
// a 4-worker server with exponential service times (mean 1 ms, capacity
// 4000 requests/s) under Poisson load at 1x, 2x and 3x capacity.
//
// The oracles are analytic: capacity = workers / mean service, and the
// unloaded p99 latency is the p99 of one exponential service time,
// mean * ln(100). The goal (issue 4): at up to 3x capacity, goodput >= 90% of
// capacity and admitted requests' p99 <= 2x the unloaded p99, with bounded
// memory.
#include "serve/admission/testing/overload_sim.h"

#include <gtest/gtest.h>

#include <cmath>

namespace hotpath::admission_testing {
namespace {

using std::chrono::milliseconds;

OverloadSimOptions Scenario(double load) {
  OverloadSimOptions o;
  o.workers = 4;
  o.mean_service = milliseconds(1);
  o.load = load;
  o.duration = std::chrono::seconds(12);
  o.warmup = std::chrono::seconds(2);
  // The queue may hold a request for half a service time in a standing
  // queue, five service times in a burst.
  o.limiter.codel_target = std::chrono::microseconds(500);
  o.limiter.codel_interval = milliseconds(5);
  return o;
}

Nanos UnloadedP99(const OverloadSimOptions& o) {
  return Nanos(static_cast<int64_t>(static_cast<double>(o.mean_service.count()) * std::log(100)));
}

class OverloadSimTest : public ::testing::TestWithParam<double> {};

TEST_P(OverloadSimTest, KeepsGoodputAndLatencyUnderLoad) {
  const OverloadSimOptions o = Scenario(GetParam());
  Result<OverloadSimResult> r = RunOverloadSim(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Nanos unloaded = UnloadedP99(o);
  RecordProperty("goodput_fraction", std::to_string(r->goodput_fraction));
  RecordProperty("p99_ratio", std::to_string(static_cast<double>(r->p99.count()) /
                                             static_cast<double>(unloaded.count())));
  EXPECT_DOUBLE_EQ(r->capacity_rps, 4000);
  // Goodput: at least 90% of capacity, or of the offered load when that is lower.
  EXPECT_GE(r->goodput_fraction, 0.9 * std::min(1.0, o.load)) << "load " << o.load;
  EXPECT_LE(r->p99, 2 * unloaded) << "load " << o.load << " p99 " << r->p99.count() << " ns";
  // Memory: never more held than the queue bound plus the largest limit.
  EXPECT_LE(r->max_waiting, o.limiter.max_queue_size + o.limiter.limit.max_limit);
}

INSTANTIATE_TEST_SUITE_P(Loads, OverloadSimTest, ::testing::Values(1.0, 2.0, 3.0));

TEST(OverloadSimNoQueueTest, RejectingAtOnceAlsoHoldsAtThreeTimesCapacity) {
  OverloadSimOptions o = Scenario(3.0);
  o.limiter.max_queue_size = 0;
  Result<OverloadSimResult> r = RunOverloadSim(o);
  ASSERT_TRUE(r.ok());
  EXPECT_GE(r->goodput_fraction, 0.9);
  EXPECT_LE(r->p99, 2 * UnloadedP99(o));
  EXPECT_EQ(r->limiter.shed, 0);
  EXPECT_LE(r->max_waiting, o.limiter.limit.max_limit);
}

TEST(OverloadSimBaselineTest, WithoutAdmissionControlLatencyGrowsWithoutBound) {
  OverloadSimOptions o = Scenario(2.0);
  o.use_limiter = false;
  o.duration = std::chrono::seconds(4);
  o.warmup = std::chrono::seconds(1);
  Result<OverloadSimResult> r = RunOverloadSim(o);
  ASSERT_TRUE(r.ok());
  // Half of the arrivals pile up: after 1 s of 2x load the queue alone holds
  // ~4000 requests, about 1 s of work.
  EXPECT_GT(r->p99, 100 * UnloadedP99(o));
  EXPECT_GT(r->max_waiting, 4000);
}

TEST(OverloadSimPriorityTest, ShedsLowerPriorityFirst) {
  // 3x capacity: priority 1 offers 0.6x capacity, priority 2 offers 2.4x.
  OverloadSimOptions o = Scenario(3.0);
  o.priority_mix = {0.2, 0.8};
  o.limiter.priority_levels = 2;
  Result<OverloadSimResult> r = RunOverloadSim(o);
  ASSERT_TRUE(r.ok());
  const double high = static_cast<double>(r->completed[0]) / static_cast<double>(r->offered[0]);
  const double low = static_cast<double>(r->completed[1]) / static_cast<double>(r->offered[1]);
  // Priority 1 fits in capacity: nearly all of it is served; priority 2 gets
  // what is left (at most (1 - 0.6) / 2.4 of its offer).
  EXPECT_GE(high, 0.95);
  EXPECT_LE(low, 0.4 / 2.4 + 0.02);
  EXPECT_GE(r->goodput_fraction, 0.9);
}

}  // namespace
}  // namespace hotpath::admission_testing
