#include "scale/plan.h"

#include <gtest/gtest.h>

#include <cmath>

#include "scale/synthetic_trace.h"

namespace hotpath::scale {
namespace {

PlanOptions Options() {
  PlanOptions o;
  o.replica.capacity_rps = 100.0;
  o.replica.instance.name = "m";
  o.replica.instance.on_demand_per_hour = 0.5;
  o.replica.instance.spot_per_hour = 0.2;
  o.target_utilization = 0.5;
  o.use_upper = false;
  return o;
}

TEST(PlanTest, ReplicasFollowTheGeneratingFunction) {
  SyntheticTraceOptions g;
  g.step_s = 300;
  g.days = 7;
  g.noise_fraction = 0.0;
  g.base_rps = 2000;
  const Trace history = GenerateTrace(g).trace;
  auto plan = PlanCapacity(history, Options());
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->steps.size(), 288u);
  for (size_t i = 0; i < plan->steps.size(); i += 6) {
    const double truth = ExpectedDemand(g, 7 * 86400.0 + (i + 0.5) * 300);
    const int want = static_cast<int>(std::ceil(truth / 50.0));
    EXPECT_NEAR(plan->steps[i].replicas, want, 1.0 + 0.03 * want) << "step " << i;
  }
}

TEST(PlanTest, CostIsReplicaHoursTimesPrice) {
  SyntheticTraceOptions g;
  g.step_s = 300;
  g.days = 3;
  const Trace history = GenerateTrace(g).trace;
  PlanOptions o = Options();
  o.spot = {true, 0.5, 1.0, 0.2};
  auto plan = PlanCapacity(history, o);
  ASSERT_TRUE(plan.ok());
  double cost = 0.0, on_demand = 0.0;
  for (const PlannedStep& s : plan->steps) {
    EXPECT_EQ(s.spot_replicas, s.replicas / 2);  // risk budget 1: the 50% cap
    cost += (s.spot_replicas * 0.2 + (s.replicas - s.spot_replicas) * 0.5) / 12.0;
    on_demand += s.replicas * 0.5 / 12.0;
  }
  EXPECT_NEAR(plan->cost, cost, 1e-9);
  EXPECT_NEAR(plan->cost_all_on_demand, on_demand, 1e-9);
}

TEST(PlanTest, UpperBoundPlansMoreThanTheMean) {
  SyntheticTraceOptions g;
  g.step_s = 300;
  g.days = 3;
  const Trace history = GenerateTrace(g).trace;
  PlanOptions o = Options();
  auto mean = PlanCapacity(history, o);
  o.use_upper = true;
  auto upper = PlanCapacity(history, o);
  ASSERT_TRUE(mean.ok() && upper.ok());
  EXPECT_GT(upper->cost, mean->cost);
}

TEST(PlanTest, RejectsBadStepAndShortHistory) {
  EXPECT_NE(PlanCapacity(Trace{7, std::vector<double>(100000, 1.0)}, Options())
                .status()
                .message()
                .find("step_s"),
            std::string::npos);
  EXPECT_NE(PlanCapacity(Trace{300, std::vector<double>(100, 1.0)}, Options())
                .status()
                .message()
                .find("history"),
            std::string::npos);
}

}  // namespace
}  // namespace hotpath::scale
