#include "scale/forecast.h"

#include <gtest/gtest.h>

#include <cmath>

#include "scale/synthetic_trace.h"

namespace hotpath::scale {
namespace {

constexpr size_t kDay = 288;  // 5-minute points per day

constexpr int kStep = 300;  // 5-minute points: 288 a day, 2016 a week

SyntheticTraceOptions Weekly(double noise) {
  SyntheticTraceOptions o;
  o.step_s = kStep;
  o.days = 28;
  o.daily_amplitude = 0.6;
  o.weekend_dip = 0.35;
  o.noise_fraction = noise;
  o.seed = 7;
  return o;
}

ForecastOptions Periods() {
  ForecastOptions f;
  f.day_period = 86400 / kStep;
  f.week_period = 7 * f.day_period;
  return f;
}

// Mean absolute percentage error of the next `horizon` forecasts against the
// generating function, starting at point `from`.
double MapeAgainstTruth(const HoltWinters& hw, const SyntheticTraceOptions& o, size_t from,
                        int horizon) {
  double sum = 0.0;
  for (int h = 1; h <= horizon; ++h) {
    const double truth = ExpectedDemand(o, (static_cast<double>(from + h - 1) + 0.5) * o.step_s);
    sum += std::abs(hw.Forecast(h).mean - truth) / truth;
  }
  return sum / horizon;
}

TEST(HoltWintersTest, MultiplicativeRecoversDailyAndWeeklyPattern) {
  const SyntheticTraceOptions o = Weekly(0.03);
  const SyntheticTrace t = GenerateTrace(o);
  const size_t history = 21 * kDay;
  auto hw = HoltWinters::Fit(Periods(), std::span(t.trace.rps).first(history));
  ASSERT_TRUE(hw.ok()) << hw.status().ToString();
  EXPECT_LT(MapeAgainstTruth(**hw, o, history, 7 * kDay), 0.05);
}

TEST(HoltWintersTest, AdditiveModeAlsoRecoversThePattern) {
  const SyntheticTraceOptions o = Weekly(0.02);
  const SyntheticTrace t = GenerateTrace(o);
  ForecastOptions f = Periods();
  f.seasonality = Seasonality::kAdditive;
  const size_t history = 21 * kDay;
  auto hw = HoltWinters::Fit(f, std::span(t.trace.rps).first(history));
  ASSERT_TRUE(hw.ok()) << hw.status().ToString();
  EXPECT_LT(MapeAgainstTruth(**hw, o, history, 2 * kDay), 0.08);
}

TEST(HoltWintersTest, DailyProfileMatchesGeneratingShape) {
  SyntheticTraceOptions o = Weekly(0.0);
  o.weekend_dip = 0.0;
  const SyntheticTrace t = GenerateTrace(o);
  ForecastOptions f = Periods();
  f.week_period = 0;
  const size_t history = 7 * kDay;
  auto hw = HoltWinters::Fit(f, std::span(t.trace.rps).first(history));
  ASSERT_TRUE(hw.ok()) << hw.status().ToString();
  const std::vector<double> profile = (*hw)->DailyProfile();
  ASSERT_EQ(profile.size(), 288u);
  // The next point is midnight: the profile is the day cycle relative to its mean.
  double mean = 0.0;
  for (int i = 0; i < 288; ++i) {
    mean += ExpectedDemand(o, (i + 0.5) * kStep) / 288.0;
  }
  for (int i = 0; i < 288; i += 12) {
    EXPECT_NEAR(profile[i], ExpectedDemand(o, (i + 0.5) * kStep) / mean, 0.03) << "point " << i;
  }
}

TEST(HoltWintersTest, FollowsATrend) {
  SyntheticTraceOptions o = Weekly(0.02);
  o.trend_per_day = 0.02;
  const SyntheticTrace t = GenerateTrace(o);
  const size_t history = 21 * kDay;
  auto hw = HoltWinters::Fit(Periods(), std::span(t.trace.rps).first(history));
  ASSERT_TRUE(hw.ok()) << hw.status().ToString();
  EXPECT_LT(MapeAgainstTruth(**hw, o, history, 288), 0.05);
}

TEST(HoltWintersTest, SpikesInTheHistoryDoNotBendThePattern) {
  SyntheticTraceOptions o = Weekly(0.03);
  o.spikes = 40;  // ~2% of the history, x1.5-3
  const SyntheticTrace t = GenerateTrace(o);
  const size_t history = 21 * kDay;
  auto hw = HoltWinters::Fit(Periods(), std::span(t.trace.rps).first(history));
  ASSERT_TRUE(hw.ok()) << hw.status().ToString();
  EXPECT_LT(MapeAgainstTruth(**hw, o, history, 7 * 288), 0.06);
}

TEST(HoltWintersTest, IntervalsHaveRoughlyNominalCoverageOnHeldOutData) {
  const SyntheticTraceOptions o = Weekly(0.05);
  const SyntheticTrace t = GenerateTrace(o);
  const size_t history = 21 * kDay;
  ForecastOptions f = Periods();
  f.interval_coverage = 0.9;
  auto hw = HoltWinters::Fit(f, std::span(t.trace.rps).first(history));
  ASSERT_TRUE(hw.ok()) << hw.status().ToString();
  int inside = 0, total = 0;
  for (size_t i = history; i < t.trace.rps.size(); ++i, ++total) {
    const ForecastPoint p = (*hw)->Forecast(1);
    inside += t.trace.rps[i] >= p.lower && t.trace.rps[i] <= p.upper;
    (*hw)->Observe(t.trace.rps[i]);
  }
  const double coverage = static_cast<double>(inside) / total;
  EXPECT_GT(coverage, 0.85);
  EXPECT_LT(coverage, 0.95);
}

TEST(HoltWintersTest, IntervalsWidenWithHorizon) {
  const SyntheticTrace t = GenerateTrace(Weekly(0.05));
  auto hw = HoltWinters::Fit(Periods(), std::span(t.trace.rps).first(21 * kDay));
  ASSERT_TRUE(hw.ok());
  const ForecastPoint near = (*hw)->Forecast(1), far = (*hw)->Forecast(288);
  EXPECT_LT((near.upper - near.lower) / near.mean, (far.upper - far.lower) / far.mean);
  EXPECT_LE(near.lower, near.mean);
  EXPECT_GE(near.upper, near.mean);
}

TEST(HoltWintersTest, RejectsTooShortHistoryNamingIt) {
  std::vector<double> y(1000, 5.0);
  auto hw = HoltWinters::Fit(Periods(), y);
  ASSERT_FALSE(hw.ok());
  EXPECT_EQ(hw.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(hw.status().message().find("history"), std::string::npos);
}

TEST(HoltWintersTest, RejectsBadOptionsNamingTheField) {
  std::vector<double> y(5000, 5.0);
  ForecastOptions f = Periods();
  f.params = HoltWintersParams{1.5, 0.0, 0.1, 0.1};
  auto hw = HoltWinters::Fit(f, y);
  ASSERT_FALSE(hw.ok());
  EXPECT_NE(hw.status().message().find("params"), std::string::npos);
  f = Periods();
  f.week_period = 100;
  hw = HoltWinters::Fit(f, y);
  ASSERT_FALSE(hw.ok());
  EXPECT_NE(hw.status().message().find("week_period"), std::string::npos);
  y[3] = NAN;
  hw = HoltWinters::Fit(Periods(), y);
  ASSERT_FALSE(hw.ok());
  EXPECT_NE(hw.status().message().find("history"), std::string::npos);
}

TEST(HoltWintersTest, FixedParametersAreUsedAsGiven) {
  const SyntheticTrace t = GenerateTrace(Weekly(0.02));
  ForecastOptions f = Periods();
  f.params = HoltWintersParams{0.3, 0.01, 0.2, 0.1};
  auto hw = HoltWinters::Fit(f, std::span(t.trace.rps).first(14 * kDay));
  ASSERT_TRUE(hw.ok());
  EXPECT_DOUBLE_EQ((*hw)->params().alpha, 0.3);
  EXPECT_DOUBLE_EQ((*hw)->params().gamma_week, 0.1);
}

}  // namespace
}  // namespace hotpath::scale
