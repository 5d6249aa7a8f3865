// Alert evaluation over a real history fed with hand-built seconds (fake
// clock): each rule fires at its threshold and resolves, and each change is
// delivered once to the sink.
#include "observe/alert_evaluator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

namespace hotpath {
namespace {

// A sink that keeps what it is sent (delivery itself is alert_sink_test's).
class RecordingSink final : public AlertSink {
 public:
  RecordingSink() : AlertSink(AlertSink::Options{}) { Start(); }
  ~RecordingSink() override { Stop(); }
  std::vector<std::string> Sent() {
    MutexLock l(&mu_);
    return sent_;
  }

 private:
  Status Send(const std::string& json) override {
    MutexLock l(&mu_);
    sent_.push_back(json);
    return OkStatus();
  }
  Mutex mu_;
  std::vector<std::string> sent_ GUARDED_BY(mu_);
};

class AlertEvaluatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    history_ = std::move(MetricsHistory::Create({}, clock_)).value();
    latency_ = std::make_unique<Histogram>(HistogramBuckets::LatencySeconds());
    history_->Record(latency_->Snapshot(), 0);  // baseline
  }
  // One second with `n` requests of `latency_ms` and `failed` errors.
  void Second(int n, double latency_ms, uint64_t failed) {
    for (int i = 0; i < n; ++i) latency_->Observe(latency_ms / 1e3);
    errors_ += failed;
    clock_.Advance(std::chrono::seconds(1));
    history_->Record(latency_->Snapshot(), errors_);
  }
  FakeClock clock_;
  std::unique_ptr<MetricsHistory> history_;
  std::unique_ptr<Histogram> latency_;
  uint64_t errors_ = 0;
  RecordingSink sink_;
};

bool Has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

TEST_F(AlertEvaluatorTest, LatencyAndErrorRulesFireAndResolve) {
  AlertRulesOptions o;
  o.p95_latency_ms = 5;
  o.max_error_rate = 0.05;
  o.min_throughput_rps = 0;
  auto eval = AlertEvaluator::Create(o, history_.get(), &sink_, AlertEvaluator::Sources{});
  ASSERT_TRUE(eval.ok());
  for (int s = 0; s < 10; ++s) Second(100, 1.0, 0);
  EXPECT_TRUE((*eval)->Evaluate().empty());
  Second(100, 20.0, 0);  // one slow second: its p95 is far above 5 ms
  auto firing = (*eval)->Evaluate();
  EXPECT_TRUE(Has(firing, "HotpathP95LatencyHigh"));
  for (int s = 0; s < 20; ++s) Second(100, 1.0, 30);  // 30 failed per 130 = 23%
  firing = (*eval)->Evaluate();
  EXPECT_TRUE(Has(firing, "HotpathErrorRateHigh"));
  EXPECT_TRUE(Has(firing, "HotpathErrorBudgetBurn1h"));  // 23% > 14.4 x 0.1%
  clock_.Advance(std::chrono::seconds(400));  // the slow and failing seconds leave the 5-min window
  for (int s = 0; s < 10; ++s) Second(100, 1.0, 0);
  firing = (*eval)->Evaluate();
  EXPECT_FALSE(Has(firing, "HotpathP95LatencyHigh"));
  EXPECT_FALSE(Has(firing, "HotpathErrorRateHigh"));
}

TEST_F(AlertEvaluatorTest, EachChangeIsDeliveredOnce) {
  AlertRulesOptions o;
  o.p95_latency_ms = 5;
  o.min_throughput_rps = 0;
  auto eval = AlertEvaluator::Create(o, history_.get(), &sink_, AlertEvaluator::Sources{});
  ASSERT_TRUE(eval.ok());
  Second(100, 20.0, 0);
  (*eval)->Evaluate();
  (*eval)->Evaluate();  // still firing: nothing new
  clock_.Advance(std::chrono::seconds(400));
  Second(100, 1.0, 0);
  (*eval)->Evaluate();
  for (int i = 0; i < 200 && sink_.Sent().size() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto sent = sink_.Sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_NE(sent[0].find("\"alert\": \"HotpathP95LatencyHigh\", \"state\": \"firing\""), std::string::npos) << sent[0];
  EXPECT_NE(sent[1].find("\"state\": \"resolved\""), std::string::npos) << sent[1];
}

TEST_F(AlertEvaluatorTest, HourlyCostAboveTheBudgetFires) {
  AlertRulesOptions o;
  o.min_throughput_rps = 0;
  o.max_hourly_cost = 10;
  double cost = 12;
  double cores = 1.9;  // of 2
  AlertEvaluator::Sources sources;
  sources.hourly_cost = [&cost] { return cost; };
  sources.cpu_cores = [&cores] { return cores; };
  auto eval = AlertEvaluator::Create(o, history_.get(), &sink_, sources);
  ASSERT_TRUE(eval.ok());
  Second(10, 1.0, 0);
  auto firing = (*eval)->Evaluate();
  EXPECT_TRUE(Has(firing, "HotpathHourlyCostHigh"));
  EXPECT_TRUE(Has(firing, "HotpathCpuSaturated"));  // 0.95 > 0.85
  cost = 8;
  cores = 1.0;
  firing = (*eval)->Evaluate();
  EXPECT_FALSE(Has(firing, "HotpathHourlyCostHigh"));
  EXPECT_FALSE(Has(firing, "HotpathCpuSaturated"));
}

TEST_F(AlertEvaluatorTest, LongBurnPairsUseTheMinuteHistory) {
  auto minutes = std::move(MetricsHistory::Create({3 * 1440}, clock_)).value();
  Histogram latency(HistogramBuckets::LatencySeconds());
  uint64_t errors = 0;
  minutes->Record(latency.Snapshot(), 0);
  for (int m = 0; m < 7 * 60; ++m) {  // seven hours at 100 failed per 1,100
    for (int i = 0; i < 1000; ++i) latency.Observe(0.001);
    errors += 100;
    clock_.Advance(std::chrono::minutes(1));
    minutes->Record(latency.Snapshot(), errors);
  }
  Second(10, 1.0, 0);  // the per-second history has a point at the same time
  AlertRulesOptions o;
  o.min_throughput_rps = 0;
  AlertEvaluator::Sources sources;
  sources.minutes = minutes.get();
  auto eval = AlertEvaluator::Create(o, history_.get(), &sink_, sources);
  ASSERT_TRUE(eval.ok());
  const auto firing = (*eval)->Evaluate();
  EXPECT_TRUE(Has(firing, "HotpathErrorBudgetBurn6h"));  // 9.1% > 6 x 0.1%
  EXPECT_TRUE(Has(firing, "HotpathErrorBudgetBurn1d"));  // 9.1% > 3 x 0.1%
  EXPECT_TRUE(Has(firing, "HotpathErrorBudgetBurn3d"));  // 9.1% > 1 x 0.1% (over the 7 h kept)
  EXPECT_FALSE(Has(firing, "HotpathErrorBudgetBurn1h"));  // the last 5 min of seconds had no errors
}

}  // namespace
}  // namespace hotpath
