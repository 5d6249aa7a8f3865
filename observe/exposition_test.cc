#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "observe/metrics.h"
#include "observe/process_metrics.h"

namespace hotpath {
namespace {

TEST(ExpositionTest, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(exposition::EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(exposition::EscapeHelp("x\\y\n\"z\""), "x\\\\y\\n\"z\"");
}

TEST(ExpositionTest, FormatsSpecialValues) {
  EXPECT_EQ(exposition::FormatValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(exposition::FormatValue(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(exposition::FormatValue(0.0 / 0.0), "NaN");
  EXPECT_EQ(std::stod(exposition::FormatValue(1e-6)), 1e-6);
  EXPECT_EQ(std::stod(exposition::FormatValue(0.1 + 0.2)), 0.1 + 0.2);  // round-trips
}

// The text for a counter, a gauge and a histogram, written by hand from the
// format's definition: cumulative buckets, +Inf equal to _count.
TEST(ExpositionTest, MatchesHandWrittenText) {
  MetricsRegistry r;
  CounterFamily* c = r.AddCounter({"req_total", "Requests \\ done.", {"model", "reason"}}).value();
  c->WithLabels({"m\"1", "queue_full"}).value()->Increment(3);
  GaugeFamily* g = r.AddGauge({"depth", "Queue depth.", {}}).value();
  g->WithLabels({}).value()->Set(2.5);
  HistogramFamily* h = r.AddHistogram({"lat_seconds", "Latency.", {"model"}},
                                      HistogramBuckets::Explicit({0.001, 0.01}).value())
                           .value();
  Histogram* hm = h->WithLabels({"m"}).value();
  for (double v : {0.0005, 0.001, 0.005, 0.5}) hm->Observe(v);
  const std::string expected =
      "# HELP req_total Requests \\\\ done.\n"
      "# TYPE req_total counter\n"
      "req_total{model=\"m\\\"1\",reason=\"queue_full\"} 3\n"
      "# HELP depth Queue depth.\n"
      "# TYPE depth gauge\n"
      "depth 2.5\n"
      "# HELP lat_seconds Latency.\n"
      "# TYPE lat_seconds histogram\n"
      "lat_seconds_bucket{model=\"m\",le=\"0.001\"} 2\n"
      "lat_seconds_bucket{model=\"m\",le=\"0.01\"} 3\n"
      "lat_seconds_bucket{model=\"m\",le=\"+Inf\"} 4\n"
      "lat_seconds_sum{model=\"m\"} 0.5065\n"
      "lat_seconds_count{model=\"m\"} 4\n";
  EXPECT_EQ(r.ExpositionText(), expected);
}

// Runs `promtool check metrics` on `text`; returns its exit status and output.
std::pair<int, std::string> Promtool(const std::string& text) {
  static int calls = 0;
  const std::string path =
      "/tmp/hotpath_metrics_" + std::to_string(getpid()) + "_" + std::to_string(calls++);
  std::ofstream(path) << text;
  const std::string out_path = path + ".out";
  const std::string cmd = "promtool check metrics < " + path + " > " + out_path + " 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream in(out_path);
  std::string output((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(path.c_str());
  std::remove(out_path.c_str());
  return {rc, output};
}

bool HavePromtool() { return std::system("command -v promtool > /dev/null 2>&1") == 0; }

TEST(ExpositionTest, PromtoolAcceptsTheRegistry) {
  if (!HavePromtool()) GTEST_SKIP() << "promtool not installed (Debian package prometheus)";
  MetricsRegistry r;
  ASSERT_TRUE(RegisterProcessMetrics(r).ok());
  CounterFamily* c =
      r.AddCounter({"hotpath_test_requests_total", "Requests by outcome.", {"model", "outcome"}})
          .value();
  c->WithLabels({"fraud \"v2\"\n", "success"}).value()->Increment(7);
  HistogramFamily* h =
      r.AddHistogram(
           {"hotpath_test_queue_duration_seconds", "Time in queue.", {"model", "priority"}},
           HistogramBuckets::LatencySeconds())
          .value();
  for (int i = 0; i < 1000; ++i) h->WithLabels({"m", "1"}).value()->Observe(i * 1e-6);
  r.AddGauge({"hotpath_test_depth", "Depth.", {}}).value()->WithLabels({}).value()->Set(-1);
  const auto [rc, output] = Promtool(r.ExpositionText());
  EXPECT_EQ(rc, 0) << output;
  EXPECT_EQ(output, "") << output;
}

TEST(ExpositionTest, PromtoolRejectsALintProblem) {
  // The check above can fail: a counter without _total is flagged.
  if (!HavePromtool()) GTEST_SKIP() << "promtool not installed (Debian package prometheus)";
  MetricsRegistry r;
  r.AddCounter({"requests", "Requests.", {}}).value()->WithLabels({}).value()->Increment();
  const auto [rc, output] = Promtool(r.ExpositionText());
  EXPECT_NE(rc, 0);
  EXPECT_NE(output.find("_total"), std::string::npos) << output;
}

}  // namespace
}  // namespace hotpath
