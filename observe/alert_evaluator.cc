#include "observe/alert_evaluator.h"

#include <algorithm>
#include <cstdio>

namespace hotpath {
namespace {

struct Window {
  double seconds = 0;
  uint64_t requests = 0, errors = 0;
  double max_p95_s = 0;
};

// Totals of the points in the last `span` seconds ending at the newest point.
Window Last(const std::vector<HistoryPoint>& points, double span) {
  Window w;
  if (points.empty()) return w;
  const auto end = points.back().wall;
  for (auto it = points.rbegin(); it != points.rend(); ++it) {
    if (std::chrono::duration<double>(end - it->wall).count() >= span) break;
    w.seconds += std::chrono::duration<double>(it->interval).count();
    w.requests += it->requests;
    w.errors += it->errors;
    if (it->requests > 0) w.max_p95_s = std::max(w.max_p95_s, it->p95_s);
  }
  return w;
}

double ErrorRatio(const Window& w) {
  const double all = static_cast<double>(w.requests + w.errors);
  return all > 0 ? static_cast<double>(w.errors) / all : 0.0;
}

}  // namespace

Result<std::unique_ptr<AlertEvaluator>> AlertEvaluator::Create(const AlertRulesOptions& options,
                                                               const MetricsHistory* history, AlertSink* sink,
                                                               Sources sources) {
  RETURN_IF_ERROR(PrometheusAlertRules(options).status());  // validates the thresholds
  if (history == nullptr || sink == nullptr) return InvalidArgumentError("AlertEvaluator needs a history and a sink");
  return std::unique_ptr<AlertEvaluator>(new AlertEvaluator(options, history, sink, std::move(sources)));
}

void AlertEvaluator::Update(const std::string& name, bool firing, double value, double threshold, int64_t at_ms) {
  bool& was = firing_[name];
  if (was == firing) return;
  was = firing;
  char json[256];
  std::snprintf(json, sizeof(json),
                "{\"alert\": \"%s\", \"state\": \"%s\", \"value\": %.6g, \"threshold\": %.6g, \"at_ms\": %lld}",
                name.c_str(), firing ? "firing" : "resolved", value, threshold, static_cast<long long>(at_ms));
  sink_->Publish(json);
}

void AlertEvaluator::EvaluateSources(int64_t at_ms) {
  if (options_.max_hourly_cost > 0 && sources_.hourly_cost) {
    const double cost = sources_.hourly_cost();
    Update("HotpathHourlyCostHigh", cost > options_.max_hourly_cost, cost, options_.max_hourly_cost, at_ms);
  }
  if (sources_.cpu_cores) {
    const double used = sources_.cpu_cores() / options_.cores;
    Update("HotpathCpuSaturated", used > options_.max_cpu_utilisation, used, options_.max_cpu_utilisation, at_ms);
  }
  if (sources_.minutes == nullptr) return;
  const std::vector<HistoryPoint> minutes = sources_.minutes->Points();
  const double budget = 1.0 - options_.availability_objective;
  for (const BurnRateWindow& w : BurnRateWindows()) {
    const std::string window = w.long_window;
    const double long_s = window == "6h" ? 6 * 3600 : window == "1d" ? 86400 : window == "3d" ? 3 * 86400 : 0;
    if (long_s == 0) continue;  // 1h/5m runs on the per-second history
    const double short_s = long_s / 12;  // 30m, 2h, 6h
    const double ratio_long = ErrorRatio(Last(minutes, long_s)), ratio_short = ErrorRatio(Last(minutes, short_s));
    Update(std::string("HotpathErrorBudgetBurn") + w.long_window,
           ratio_long > w.factor * budget && ratio_short > w.factor * budget, ratio_short, w.factor * budget, at_ms);
  }
}

std::vector<std::string> AlertEvaluator::Evaluate() {
  const std::vector<HistoryPoint> points = history_->Points();
  if (points.empty()) return {};
  const int64_t at_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(points.back().wall.time_since_epoch()).count();
  const Window w5 = Last(points, 300), w10 = Last(points, 600), w60 = Last(points, 3600);
  const double p95_ms = w5.max_p95_s * 1e3;
  Update("HotpathP95LatencyHigh", p95_ms > options_.p95_latency_ms, p95_ms, options_.p95_latency_ms, at_ms);
  const double tput = w10.seconds > 0 ? static_cast<double>(w10.requests) / w10.seconds : 0;
  Update("HotpathThroughputLow", options_.min_throughput_rps > 0 && w10.seconds >= 600 && tput < options_.min_throughput_rps,
         tput, options_.min_throughput_rps, at_ms);
  Update("HotpathErrorRateHigh", ErrorRatio(w5) > options_.max_error_rate, ErrorRatio(w5), options_.max_error_rate,
         at_ms);
  const double burn = 14.4 * (1.0 - options_.availability_objective);
  Update("HotpathErrorBudgetBurn1h", ErrorRatio(w60) > burn && ErrorRatio(w5) > burn, ErrorRatio(w5), burn, at_ms);
  EvaluateSources(at_ms);
  std::vector<std::string> firing;
  for (const auto& [name, on] : firing_) {
    if (on) firing.push_back(name);
  }
  return firing;
}

}  // namespace hotpath
