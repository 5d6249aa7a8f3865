#include "scale/internal/fleet.h"

#include <gtest/gtest.h>

namespace hotpath::scale::internal {
namespace {

FleetOptions Options(double rate_per_hour) {
  FleetOptions o;
  o.cold_start_s = 60.0;
  o.interruption_notice_s = 120.0;
  o.instance.name = "m";
  o.instance.on_demand_per_hour = 3.6;  // 0.001 per second
  o.instance.spot_per_hour = 1.8;
  o.instance.spot_interruption_rate_per_hour = rate_per_hour;
  return o;
}

TEST(FleetTest, LaunchedReplicasServeAfterTheColdStart) {
  Fleet f(Options(0.0));
  f.Warm(0, 2, 0);
  f.Reconcile(10, 5, 2);
  EXPECT_EQ(f.Active(), 5);
  EXPECT_EQ(f.Spot(), 2);
  EXPECT_EQ(f.Ready(69), 2);
  EXPECT_EQ(f.Ready(70), 5);
  // Billing counts booting replicas: 3 on demand at 0.001/s + 2 spot at 0.0005/s.
  EXPECT_NEAR(f.CostPerSecond(), 3 * 0.001 + 2 * 0.0005, 1e-12);
}

TEST(FleetTest, ScaleInRemovesBootingReplicasFirst) {
  Fleet f(Options(0.0));
  f.Warm(0, 3, 0);
  f.Reconcile(10, 5, 0);  // two booting until t = 70
  f.Reconcile(20, 3, 0);
  EXPECT_EQ(f.Active(), 3);
  EXPECT_EQ(f.Ready(20), 3);  // the three warm ones stayed
}

TEST(FleetTest, ScaleInSteersTowardsTheSpotTarget) {
  Fleet f(Options(0.0));
  f.Warm(0, 4, 2);
  f.Reconcile(100, 2, 0);
  EXPECT_EQ(f.Spot(), 0);
  EXPECT_EQ(f.Active(), 2);
}

TEST(FleetTest, ReclaimedSpotReplicaServesThroughItsNotice) {
  Fleet f(Options(3600.0));  // about one reclaim per second per spot replica
  f.Warm(0, 1, 1);
  int t = 0;
  while (f.Interruptions() == 0 && t < 100) {
    f.Advance(++t);
  }
  ASSERT_EQ(f.Interruptions(), 1);
  EXPECT_EQ(f.Active(), 0);    // no longer counted towards the desired size
  EXPECT_EQ(f.Serving(t), 1);  // but still serving during the notice
  f.Advance(t + 119);
  EXPECT_EQ(f.Serving(t + 119), 1);
  f.Advance(t + 120);
  EXPECT_EQ(f.Serving(t + 120), 0);
}

}  // namespace
}  // namespace hotpath::scale::internal
