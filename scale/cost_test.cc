#include "scale/cost.h"

#include <gtest/gtest.h>

namespace hotpath::scale {
namespace {

InstanceCatalog Catalog() {
  auto c = InstanceCatalog::Parse(R"({"instances": [
    {"name": "cpu4", "vcpu": 4, "memory_gib": 16, "on_demand_per_hour": 0.20, "spot_per_hour": 0.08},
    {"name": "gpu1", "kind": "gpu", "vcpu": 8, "memory_gib": 32, "gpus": 1, "on_demand_per_hour": 1.0}]})");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return std::move(c).value();
}

TEST(CostTest, SplitPriceAddsBackToTheMachinePrice) {
  const InstanceCatalog c = Catalog();
  for (const InstanceType& t : c.instances()) {
    for (bool spot : {false, true}) {
      const UnitPrices p = SplitPrice(t, spot);
      EXPECT_NEAR(
          t.vcpu * p.per_vcpu_hour + t.memory_gib * p.per_gib_hour + t.gpus * p.per_gpu_hour,
          t.PricePerHour(spot), 1e-12);
    }
  }
}

TEST(CostTest, AllocatesMaxOfRequestedAndUsedByHand) {
  const InstanceCatalog c = Catalog();
  const NodePool pools[] = {{"cpu4", false, 2}};
  // Model a: 2 replicas, requests 1 vCPU / 2 GiB, uses 1.5 vCPU / 1 GiB -> billed 1.5 / 2 each.
  // Model b: 1 replica, requests 2 vCPU / 4 GiB, uses 0.5 / 6 -> billed 2 / 6.
  const Workload w[] = {{"a", 0, 2, {1, 2, 0}, {1.5, 1, 0}, 100.0},
                        {"b", 0, 1, {2, 4, 0}, {0.5, 6, 0}, 0.0}};
  auto r = AllocateCost(c, pools, w);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // cpu4 at 0.20/h: reference cost 4*0.031611 + 16*0.004237 = 0.194236.
  const double k = 0.20 / 0.194236;
  const double vcpu = 0.031611 * k, gib = 0.004237 * k;
  const double a = 2 * (1.5 * vcpu + 2 * gib), b = 2 * vcpu + 6 * gib;
  ASSERT_EQ(r->models.size(), 2u);
  EXPECT_NEAR(r->models[0].per_hour, a, 1e-12);
  EXPECT_NEAR(r->models[1].per_hour, b, 1e-12);
  EXPECT_NEAR(r->models[0].billed.vcpu, 3.0, 1e-12);
  EXPECT_NEAR(r->models[0].per_million_inferences, a / (100.0 * 3600) * 1e6, 1e-9);
  EXPECT_DOUBLE_EQ(r->models[1].per_million_inferences, 0.0);
  EXPECT_NEAR(r->total_per_hour, 0.40, 1e-12);
  EXPECT_NEAR(r->idle_per_hour, 0.40 - a - b, 1e-12);
}

TEST(CostTest, SpotPoolsArePricedAtSpot) {
  const InstanceCatalog c = Catalog();
  const NodePool pools[] = {{"cpu4", true, 1}, {"gpu1", false, 1}};
  const Workload w[] = {{"m", 0, 1, {4, 16, 0}, {0, 0, 0}, 10},
                        {"m", 1, 1, {8, 32, 1}, {0, 0, 0}, 10}};
  auto r = AllocateCost(c, pools, w);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->models.size(), 1u);  // same model on two pools is summed
  EXPECT_NEAR(r->models[0].per_hour, 0.08 + 1.0, 1e-12);
  EXPECT_NEAR(r->idle_per_hour, 0.0, 1e-12);
}

TEST(CostTest, RejectsBadReferencesNamingThem) {
  const InstanceCatalog c = Catalog();
  const NodePool bad_pool[] = {{"nope", false, 1}};
  auto r = AllocateCost(c, bad_pool, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("pools[0].instance"), std::string::npos);
  const NodePool pools[] = {{"cpu4", false, 1}};
  const Workload w[] = {{"m", 3, 1, {}, {}, 0}};
  r = AllocateCost(c, pools, w);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("workloads[0].pool"), std::string::npos);
}

TEST(CostTest, BudgetProjectsMonthEndAndRaisesAlerts) {
  // $600 spent after 15 of 30 days, now burning $1.5/h: 600 + 1.5*360 = 1140.
  auto b = EvaluateBudget({1000.0, {0.5, 0.8, 1.0}}, 600.0, 360.0, 720.0, 1.5);
  ASSERT_TRUE(b.ok());
  EXPECT_DOUBLE_EQ(b->projected_month_end, 1140.0);
  ASSERT_EQ(b->alerts.size(), 3u);
  EXPECT_EQ(b->alerts[0].threshold, 0.5);
  EXPECT_FALSE(b->alerts[0].forecasted);
  EXPECT_EQ(b->alerts[1].threshold, 0.8);
  EXPECT_TRUE(b->alerts[1].forecasted);
  EXPECT_EQ(b->alerts[2].threshold, 1.0);
  EXPECT_TRUE(b->alerts[2].forecasted);
}

TEST(CostTest, BudgetWithinLimitsIsQuiet) {
  auto b = EvaluateBudget({1000.0, {0.5, 0.8, 1.0}}, 100.0, 360.0, 720.0, 0.5);
  ASSERT_TRUE(b.ok());
  EXPECT_DOUBLE_EQ(b->projected_month_end, 280.0);
  EXPECT_TRUE(b->alerts.empty());
}

TEST(CostTest, BudgetRejectsNonsense) {
  EXPECT_FALSE(EvaluateBudget({0.0, {}}, 0, 0, 720, 0).ok());
  EXPECT_FALSE(EvaluateBudget({10.0, {}}, 0, 800, 720, 0).ok());
  EXPECT_FALSE(EvaluateBudget({10.0, {-1}}, 0, 0, 720, 0).ok());
  EXPECT_FALSE(EvaluateBudget({10.0, {}}, -5, 0, 720, 0).ok());
}

}  // namespace
}  // namespace hotpath::scale
