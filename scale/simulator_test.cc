#include "scale/simulator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "scale/synthetic_trace.h"

namespace hotpath::scale {
namespace {

SimulationOptions Options() {
  SimulationOptions o;
  o.replica.capacity_rps = 100.0;
  o.replica.cold_start_s = 119.0;
  o.replica.instance.name = "m";
  o.replica.instance.on_demand_per_hour = 0.36;
  o.replica.instance.spot_per_hour = 0.12;
  o.slo_p99_ms = 250.0;
  o.max_drop_fraction = 0.001;
  o.max_queue_s = 2.0;
  return o;
}

Trace Constant(double rps, int minutes) { return Trace{60, std::vector<double>(minutes, rps)}; }

TEST(SimulatorTest, ConstantLoadOnStaticFleetIsHandChecked) {
  PolicyConfig p = PolicyConfig::StaticPeak();
  p.static_replicas = 3;
  auto r = Simulate(Constant(150.0, 60), p, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->minutes, 60);
  EXPECT_EQ(r->slo_violation_minutes, 0);
  EXPECT_NEAR(r->cost, 3 * 0.36, 1e-9);  // 3 replicas for one hour
  EXPECT_DOUBLE_EQ(r->mean_replicas, 3.0);
  EXPECT_NEAR(r->requests, 150.0 * 3600, 1e-6);
  EXPECT_DOUBLE_EQ(r->dropped_requests, 0.0);
  // M/M/1 per replica at rho = 0.5: p99 = ln(100) / (100 * 0.5) s = 92.1 ms.
  EXPECT_NEAR(r->timeline[10].p99_ms, 1000.0 * std::log(100.0) / 50.0, 1e-6);
}

TEST(SimulatorTest, StaticSizesToThePeakAtTheTarget) {
  Trace t = Constant(100.0, 30);
  t.rps[12] = 690.0;
  PolicyConfig p = PolicyConfig::StaticPeak();
  p.target_utilization = 0.7;
  auto r = Simulate(t, p, Options());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->peak_replicas, 10);  // ceil(690 / 70)
  EXPECT_EQ(r->slo_violation_minutes, 0);
}

TEST(SimulatorTest, ColdStartGivesKnownViolationMinutes) {
  // 10 minutes at 50 rps on one replica, then 300 rps. With an instantaneous
  // metric and a 1 s sync, the policy sees the step at t=601 and the new
  // replicas serve from 601 + 119 = 720: seconds 600..719 are overloaded,
  // exactly minutes 10 and 11.
  Trace t = Constant(50.0, 20);
  for (int m = 10; m < 20; ++m) {
    t.rps[m] = 300.0;
  }
  PolicyConfig p = PolicyConfig::Kubernetes();
  p.target_utilization = 0.5;
  p.metrics_lag_s = 0.0;
  p.metric_window_s = 1.0;
  p.sync_period_s = 1.0;
  p.scale_up.max_percent = 10000;
  auto r = Simulate(t, p, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->slo_violation_minutes, 2);
  EXPECT_TRUE(r->timeline[10].violated);
  EXPECT_TRUE(r->timeline[11].violated);
  EXPECT_FALSE(r->timeline[12].violated);
  EXPECT_EQ(r->peak_replicas, 6);  // ceil(300 / 50)
  // One replica serves 100 rps with a 200-request queue cap: of the 120 s of
  // 300 rps, 100 are served per second, 200 fill the queue, the rest drop.
  EXPECT_NEAR(r->dropped_requests, 120 * 200.0 - 200.0, 1e-6);
}

TEST(SimulatorTest, SpotInterruptionsWithNoticeLongerThanColdStartAreAbsorbed) {
  SimulationOptions o = Options();
  o.replica.cold_start_s = 60.0;
  o.interruption_notice_s = 120.0;
  o.replica.instance.spot_interruption_rate_per_hour = 0.5;
  PolicyConfig p = PolicyConfig::Hotpath();
  p.predictive.enabled = false;
  p.spot.max_share = 0.8;
  p.spot.risk_budget = 1.0;
  auto r = Simulate(Constant(700.0, 600), p, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->spot_interruptions, 10);
  EXPECT_EQ(r->slo_violation_minutes, 0);
  // Cheaper than the same fleet on demand: 10 replicas at 0.36 for 10 hours.
  EXPECT_LT(r->cost, 10 * 0.36 * 10);
}

TEST(SimulatorTest, PredictivePolicyNeedsHistory) {
  auto r = Simulate(Constant(100.0, 600), PolicyConfig::Hotpath(), Options());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("history_s"), std::string::npos);
}

TEST(SimulatorTest, PredictiveScalesBeforeTheMorningRamp) {
  SyntheticTraceOptions g;
  g.days = 4;
  g.noise_fraction = 0.0;
  g.base_rps = 2000;
  const Trace t = GenerateTrace(g).trace;
  SimulationOptions o = Options();
  o.history_s = 3 * 86400;
  PolicyConfig hot = PolicyConfig::Hotpath();
  hot.spot.enabled = false;
  PolicyConfig k8s = PolicyConfig::Kubernetes();
  hot.target_utilization = k8s.target_utilization = 0.7;
  auto a = Simulate(t, hot, o);
  auto b = Simulate(t, k8s, o);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok());
  EXPECT_LE(a->slo_violation_minutes, b->slo_violation_minutes);
  // During the ramp (6:00-12:00) hotpath's capacity leads demand.
  double lead = 0.0;
  for (int m = 6 * 60; m < 12 * 60; ++m) {
    lead += a->timeline[m].capacity_rps - b->timeline[m].capacity_rps;
  }
  EXPECT_GT(lead, 0.0);
}

TEST(SimulatorTest, RejectsBadOptionsNamingThem) {
  SimulationOptions o = Options();
  o.slo_p99_ms = 0;
  auto r = Simulate(Constant(1, 10), PolicyConfig::Kubernetes(), o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("slo_p99_ms"), std::string::npos);
  o = Options();
  o.replica.instance = InstanceType{};
  r = Simulate(Constant(1, 10), PolicyConfig::Kubernetes(), o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("instance.on_demand_per_hour"), std::string::npos);
  o = Options();
  o.history_s = 6000;
  r = Simulate(Constant(1, 10), PolicyConfig::Kubernetes(), o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("history_s"), std::string::npos);
}

TEST(SimulatorTest, WritesCsvAndSvg) {
  PolicyConfig p = PolicyConfig::StaticPeak();
  auto r = Simulate(Constant(150.0, 30), p, Options());
  ASSERT_TRUE(r.ok());
  const std::string dir = ::testing::TempDir();
  ASSERT_TRUE(WriteTimelineCsv(*r, dir + "/sim.csv").ok());
  ASSERT_TRUE(WriteTimelineSvg(*r, dir + "/sim.svg").ok());
  std::ifstream csv(dir + "/sim.csv");
  int lines = 0;
  for (std::string line; std::getline(csv, line);) {
    ++lines;
  }
  EXPECT_EQ(lines, 31);
  std::stringstream svg;
  svg << std::ifstream(dir + "/sim.svg").rdbuf();
  EXPECT_EQ(svg.str().rfind("<svg", 0), 0u);
  EXPECT_NE(svg.str().find("polyline"), std::string::npos);
  EXPECT_NE(ReportSummaryJson(*r).find("\"slo_violation_minutes\":0"), std::string::npos);
  EXPECT_FALSE(WriteTimelineCsv(*r, "/nonexistent/dir/x.csv").ok());
}

}  // namespace
}  // namespace hotpath::scale
