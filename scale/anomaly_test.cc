#include "scale/anomaly.h"

#include <gtest/gtest.h>

#include "scale/synthetic_trace.h"

namespace hotpath::scale {
namespace {

constexpr size_t kDay = 288;  // 5-minute points per day

SyntheticTraceOptions Spiky(int spikes) {
  SyntheticTraceOptions o;
  o.step_s = 300;
  o.days = 28;
  o.daily_amplitude = 0.6;
  o.weekend_dip = 0.3;
  o.noise_fraction = 0.04;
  o.spikes = spikes;
  o.spike_min_factor = 1.5;
  o.spike_max_factor = 3.0;
  o.spike_min_steps = 1;
  o.spike_max_steps = 3;
  o.spikes_after_days = 21;
  o.seed = 11;
  return o;
}

std::unique_ptr<HoltWinters> FitFirstThreeWeeks(const SyntheticTrace& t) {
  ForecastOptions f;
  f.day_period = 288;
  f.week_period = 2016;
  auto hw = HoltWinters::Fit(f, std::span(t.trace.rps).first(21 * kDay));
  EXPECT_TRUE(hw.ok()) << hw.status().ToString();
  return std::move(hw).value();
}

TEST(AnomalyTest, FindsInjectedSpikesWithHighPrecisionAndRecall) {
  const SyntheticTrace t = GenerateTrace(Spiky(25));
  auto hw = FitFirstThreeWeeks(t);
  const size_t from = 21 * kDay;
  auto found = DetectAnomalies(*hw, std::span(t.trace.rps).subspan(from), {});
  ASSERT_TRUE(found.ok());
  const std::vector<bool> labels(t.spike.begin() + from, t.spike.end());
  const DetectionScore s = ScoreDetections(*found, labels);
  EXPECT_GE(s.precision, 0.9) << s.false_positives << " false positives";
  EXPECT_GE(s.recall, 0.9) << s.false_negatives << " missed";
}

TEST(AnomalyTest, CleanSeriesRaisesAlmostNothing) {
  const SyntheticTrace t = GenerateTrace(Spiky(0));
  auto hw = FitFirstThreeWeeks(t);
  auto found = DetectAnomalies(*hw, std::span(t.trace.rps).subspan(21 * kDay), {});
  ASSERT_TRUE(found.ok());
  EXPECT_LE(found->size(), 2u);  // 2016 points of Gaussian noise at 4 robust sigmas
}

TEST(AnomalyTest, RobustUpdateKeepsForecastOnTrackAfterASpike) {
  SyntheticTraceOptions o = Spiky(0);
  o.noise_fraction = 0.0;
  const SyntheticTrace t = GenerateTrace(o);
  auto hw = FitFirstThreeWeeks(t);
  size_t i = 21 * kDay;
  for (int k = 0; k < 6; ++k, ++i) {
    (void)hw->Observe(t.trace.rps[i] * 5.0);  // a 30-minute 5x burst
  }
  const double truth = ExpectedDemand(o, (i + 0.5) * o.step_s);
  EXPECT_NEAR(hw->Forecast(1).mean / truth, 1.0, 0.05);
}

TEST(AnomalyTest, UpperOnlyIgnoresDips) {
  SyntheticTraceOptions o = Spiky(0);
  const SyntheticTrace t = GenerateTrace(o);
  auto hw = FitFirstThreeWeeks(t);
  std::vector<double> series(t.trace.rps.begin() + 21 * kDay, t.trace.rps.begin() + 22 * kDay);
  series[100] *= 0.1;
  auto found = DetectAnomalies(*hw, series, {4.0, true});
  ASSERT_TRUE(found.ok());
  for (const auto& d : *found) {
    EXPECT_NE(d.index, 100u);
  }
}

TEST(AnomalyTest, ScoreIsHandComputed) {
  // labels: anomalies at 1, 2, 5; detections at 1, 3, 5, 9 (9 is outside).
  const std::vector<bool> labels = {false, true, true, false, false, true, false};
  const std::vector<DetectedPoint> found = {{1, 0, 0, 5}, {3, 0, 0, 5}, {5, 0, 0, 5}, {9, 0, 0, 5}};
  const DetectionScore s = ScoreDetections(found, labels);
  EXPECT_EQ(s.true_positives, 2u);
  EXPECT_EQ(s.false_positives, 2u);
  EXPECT_EQ(s.false_negatives, 1u);
  EXPECT_DOUBLE_EQ(s.precision, 0.5);
  EXPECT_DOUBLE_EQ(s.recall, 2.0 / 3.0);
}

TEST(AnomalyTest, RejectsNonPositiveThreshold) {
  const SyntheticTrace t = GenerateTrace(Spiky(0));
  auto hw = FitFirstThreeWeeks(t);
  auto found = DetectAnomalies(*hw, std::span(t.trace.rps).first(10), {0.0, false});
  ASSERT_FALSE(found.ok());
  EXPECT_NE(found.status().message().find("threshold"), std::string::npos);
}

}  // namespace
}  // namespace hotpath::scale
