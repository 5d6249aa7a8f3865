#include "scale/policy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace hotpath::scale {
namespace {

// capacity 100 rps at target 0.5: the target is 50 rps per replica.
ReplicaFacts Facts() {
  ReplicaFacts f;
  f.capacity_rps = 100.0;
  f.cold_start_s = 60.0;
  f.instance.name = "m";
  f.instance.on_demand_per_hour = 1.0;
  f.instance.spot_per_hour = 0.3;
  return f;
}

// Kubernetes behaviour with an instantaneous metric, so hand-computed cases
// depend only on the rules under test.
PolicyConfig Plain() {
  PolicyConfig c = PolicyConfig::Kubernetes();
  c.target_utilization = 0.5;
  c.metrics_lag_s = 0.0;
  c.metric_window_s = 1.0;
  return c;
}

std::unique_ptr<Autoscaler> Make(const PolicyConfig& c) {
  auto a = Autoscaler::Create(c, Facts());
  EXPECT_TRUE(a.ok()) << a.status().ToString();
  return std::move(a).value();
}

// Records `rps` for the second that just ended, then decides at `t`.
int DecideAt(Autoscaler& a, double t, double rps, int current) {
  a.RecordDemand(t - 1, rps);
  return a.Decide(t, {current, current}, std::nullopt).replicas;
}

TEST(PolicyTest, RatioRuleRoundsUp) {
  auto a = Make(Plain());
  EXPECT_EQ(DecideAt(*a, 0, 260.0, 4), 6);  // ratio 1.3 -> ceil(260 / 50)
}

TEST(PolicyTest, ToleranceBandHolds) {
  auto a = Make(Plain());
  EXPECT_EQ(DecideAt(*a, 0, 210.0, 4), 4);   // ratio 1.05
  EXPECT_EQ(DecideAt(*a, 15, 181.0, 4), 4);  // ratio 0.905
  EXPECT_EQ(DecideAt(*a, 30, 230.0, 4), 5);  // ratio 1.15 -> ceil(4.6)
}

TEST(PolicyTest, ScaleUpIsRateLimitedLikeKubernetes) {
  auto a = Make(Plain());
  // Wants 20 from 2: max(2 + 100%, 2 + 4 pods) = 6 per 15 s period.
  EXPECT_EQ(DecideAt(*a, 0, 1000.0, 2), 6);
  // 15 s later the period restarts from 6: max(12, 10) = 12.
  EXPECT_EQ(DecideAt(*a, 15, 1000.0, 6), 12);
}

TEST(PolicyTest, ScaleDownWaitsForTheStabilisationWindow) {
  auto a = Make(Plain());
  EXPECT_EQ(DecideAt(*a, 0, 400.0, 8), 8);
  int first_down = -1;
  for (int t = 15; t <= 600; t += 15) {
    const int r = DecideAt(*a, t, 100.0, 8);
    if (r < 8) {
      first_down = t;
      EXPECT_EQ(r, 2);
      break;
    }
  }
  // The 8 recommended at t=0 stays in the 300 s window up to t=300 inclusive.
  EXPECT_EQ(first_down, 315);
}

TEST(PolicyTest, MetricsLagDelaysReaction) {
  PolicyConfig c = Plain();
  c.metrics_lag_s = 30.0;
  c.metric_window_s = 15.0;
  c.sync_period_s = 1.0;
  auto a = Make(c);
  int scaled_at = -1;
  for (int t = 0; t < 120; ++t) {
    const double rps = t < 60 ? 100.0 : 400.0;
    a->RecordDemand(t, rps);
    if (!a->Due(t)) {
      continue;
    }
    if (a->Decide(t, {2, 2}, std::nullopt).replicas > 2 && scaled_at < 0) {
      scaled_at = t;
    }
  }
  // The window [t-45, t-30) holds k = t-90 seconds of the step; its mean
  // 100 + 300·k/15 first leaves the 10% band at k = 1, so t = 91.
  EXPECT_EQ(scaled_at, 91);
}

TEST(PolicyTest, PanicScalesOutFastAndBlocksScaleIn) {
  PolicyConfig c = PolicyConfig::Hotpath();
  c.target_utilization = 0.5;
  c.predictive.enabled = false;
  c.spot.enabled = false;
  c.metrics_lag_s = 0;
  auto a = Make(c);
  for (int t = 0; t < 60; ++t) {
    a->RecordDemand(t, 200.0);  // 4 replicas' worth
  }
  ASSERT_FALSE(a->Decide(59, {4, 4}, std::nullopt).panic);
  for (int t = 60; t < 66; ++t) {
    a->RecordDemand(t, 1000.0);  // 5x the ready target
  }
  const ScaleDecision d = a->Decide(66, {4, 4}, std::nullopt);
  EXPECT_TRUE(d.panic);
  EXPECT_EQ(d.replicas, 20);  // ceil(1000 / 50) from the 6 s window
  EXPECT_EQ(d.reason, ScaleReason::kPanic);
  for (int t = 66; t < 100; ++t) {
    a->RecordDemand(t, 50.0);
  }
  const ScaleDecision held = a->Decide(99, {20, 20}, std::nullopt);
  EXPECT_TRUE(held.panic);
  EXPECT_EQ(held.replicas, 20);  // no scale-in while panicking
}

TEST(PolicyTest, PredictiveScalesOutAheadOfForecast) {
  PolicyConfig c = Plain();
  c.predictive.enabled = true;
  auto a = Make(c);
  a->RecordDemand(-1, 100.0);
  const ScaleDecision d = a->Decide(0, {2, 2}, 480.0);
  EXPECT_EQ(d.replicas, 10);  // ceil(480 / 50)
  EXPECT_EQ(d.reason, ScaleReason::kPredictive);
  EXPECT_DOUBLE_EQ(a->LeadSeconds(), 60.0 + 15.0);  // cold start + sync period
}

// Property: for any history, the decision with a forecast is never below the
// decision without one, and a forecast below that decision changes nothing.
TEST(PolicyTest, NeverScalesInOnAForecast) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> demand(0.0, 1500.0), forecast(0.0, 1500.0);
  PolicyConfig c = Plain();
  c.predictive.enabled = true;
  c.panic.enabled = true;
  c.metrics_lag_s = 5.0;
  c.metric_window_s = 20.0;
  for (int scenario = 0; scenario < 200; ++scenario) {
    auto with = Make(c), without = Make(c);
    int current = 1 + static_cast<int>(rng() % 30);
    for (int t = 0; t < 400; ++t) {
      const double rps = demand(rng);
      with->RecordDemand(t, rps);
      without->RecordDemand(t, rps);
      if (t % 15 != 0 || t == 390) {
        continue;
      }
      current = without->Decide(t, {current, current}, std::nullopt).replicas;
      (void)with->Decide(t, {current, current}, std::nullopt);
    }
    const double f = forecast(rng);
    const ScaleDecision a = with->Decide(390, {current, current}, f);
    const ScaleDecision b = without->Decide(390, {current, current}, std::nullopt);
    ASSERT_GE(a.replicas, b.replicas) << "scenario " << scenario;
    if (std::ceil(f / 50.0) <= b.replicas) {
      ASSERT_EQ(a.replicas, b.replicas);
    }
  }
}

TEST(PolicyTest, CooldownHoldsAfterAScaleEvent) {
  PolicyConfig c = Plain();
  c.scale_up.cooldown_s = 60.0;
  auto a = Make(c);
  EXPECT_EQ(DecideAt(*a, 0, 300.0, 4), 6);
  EXPECT_EQ(DecideAt(*a, 15, 500.0, 6), 6);   // within 60 s of the last event
  EXPECT_EQ(DecideAt(*a, 60, 500.0, 6), 10);  // cooldown over
}

TEST(PolicyTest, BoundsClamp) {
  PolicyConfig c = Plain();
  c.min_replicas = 3;
  c.max_replicas = 5;
  c.scale_up.max_pods = 100;
  auto a = Make(c);
  EXPECT_EQ(DecideAt(*a, 0, 10000.0, 4), 5);
  auto b = Make(c);
  EXPECT_EQ(DecideAt(*b, 0, 0.0, 4), 3);
}

// Independent binomial tail by direct product formula.
double Tail(int n, double p, int k) {
  double cdf = 0.0;
  for (int i = 0; i <= k && i <= n; ++i) {
    double c = 1.0;
    for (int j = 0; j < i; ++j) {
      c = c * (n - j) / (j + 1);
    }
    cdf += c * std::pow(p, i) * std::pow(1 - p, n - i);
  }
  return 1.0 - cdf;
}

TEST(PolicyTest, SpotShareIsBoundedByInterruptionRisk) {
  SpotConfig s{true, 0.8, 0.01, 0.2};
  ReplicaFacts f = Facts();
  f.instance.spot_interruption_rate_per_hour = 0.0;
  EXPECT_EQ(SpotReplicas(s, f, 0.7, 10), 8);  // no risk: the cap, floor(0.8 * 10)
  f.instance.spot_interruption_rate_per_hour = 1.0;
  f.cold_start_s = 600.0;
  const double p = 1.0 - std::exp(-600.0 / 3600.0);
  const int spare = 3;  // floor(10 * 0.3)
  int expect = 0;
  for (int n = 1; n <= 8 && Tail(n, p, spare) <= 0.01; ++n) {
    expect = n;
  }
  EXPECT_EQ(SpotReplicas(s, f, 0.7, 10), expect);
  EXPECT_LT(expect, 8);
  f.instance.spot_per_hour = 0.9;  // saving 10% < min_saving 20%
  EXPECT_EQ(SpotReplicas(s, f, 0.7, 10), 0);
  s.enabled = false;
  f.instance.spot_per_hour = 0.3;
  EXPECT_EQ(SpotReplicas(s, f, 0.7, 10), 0);
}

TEST(PolicyTest, ParsesOverridesOnAPreset) {
  auto c = ParsePolicyConfig(R"({"base": "kubernetes", "name": "k8s-60",
      "target_utilization": 0.6, "max_replicas": 50,
      "scale_down": {"stabilization_s": 120}, "spot": {"enabled": true, "max_share": 0.5}})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->name, "k8s-60");
  EXPECT_DOUBLE_EQ(c->target_utilization, 0.6);
  EXPECT_EQ(c->max_replicas, 50);
  EXPECT_DOUBLE_EQ(c->scale_down.stabilization_s, 120);
  EXPECT_DOUBLE_EQ(c->scale_down.max_percent, 100);  // kept from the preset
  EXPECT_TRUE(c->spot.enabled);
  EXPECT_DOUBLE_EQ(c->spot.max_share, 0.5);
  EXPECT_DOUBLE_EQ(c->sync_period_s, 15);
  auto s = ParsePolicyConfig(R"({"base": "static", "static_replicas": 7})");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->mode, PolicyMode::kStatic);
  EXPECT_EQ(s->static_replicas, 7);
}

TEST(PolicyTest, PolicyErrorsNameTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {"nonsense", "not valid JSON"},
      {R"({"base": "aws"})", "base"},
      {R"({"target_utilization": 2})", "target_utilization"},
      {R"({"tolerance": "x"})", "tolerance: expected a number"},
      {R"({"scale_down": {"stabilization_s": -1}})", "scale_down.stabilization_s"},
      {R"({"scale_up": 4})", "scale_up: expected an object"},
      {R"({"panic": {"enabled": 1}})", "panic.enabled: expected true or false"},
      {R"({"predictive": {"forecast_step_s": 7}})", "predictive.forecast_step_s"},
      {R"({"spot": {"max_share": 1.5}})", "spot.max_share"},
      {R"({"min_replicas": 10, "max_replicas": 5})", "max_replicas"},
      {R"({"mode": "manual"})", "mode"},
      {R"({"target_utilisation": 0.5})", "target_utilisation: unknown field"},
      {R"({"spot": {"max_shares": 0.5}})", "spot.max_shares: unknown field"},
  };
  for (const auto& [json, field] : cases) {
    auto c = ParsePolicyConfig(json);
    ASSERT_FALSE(c.ok()) << json;
    EXPECT_NE(c.status().message().find(field), std::string::npos)
        << json << " -> " << c.status().message();
  }
}

TEST(PolicyTest, CreateRejectsStaticAndBadFacts) {
  EXPECT_FALSE(Autoscaler::Create(PolicyConfig::StaticPeak(), Facts()).ok());
  ReplicaFacts f = Facts();
  f.capacity_rps = 0;
  EXPECT_FALSE(Autoscaler::Create(PolicyConfig::Hotpath(), f).ok());
}

}  // namespace
}  // namespace hotpath::scale
