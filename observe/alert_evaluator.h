// AlertEvaluator: hotpath's own evaluation of its alert rules over the
// per-second history (observe/history.h), delivering each firing and each
// resolution to an AlertSink (a webhook or a Redis stream), so a deployment
// without Prometheus/Alertmanager is still alerted. The same rules are
// exported for Prometheus by PrometheusAlertRules (alert_rules.h).
//
// Rules (thresholds from AlertRulesOptions):
//  - HotpathP95LatencyHigh: the slowest per-second p95 of the last 5 min
//    (seconds with traffic) is above p95_latency_ms;
//  - HotpathThroughputLow: over the last 10 min of history (full), fewer than
//    min_throughput_rps requests/s;
//  - HotpathErrorRateHigh: failed/all over the last 5 min above max_error_rate;
//  - HotpathErrorBudgetBurn1h: failed/all above 14.4 x (1 - objective) over
//    both the last hour and the last 5 min; with a per-minute history (three
//    days), also the 6h/30m (6x), 1d/2h (3x) and 3d/6h (1x) pairs;
//  - HotpathCpuSaturated: busy cores / cores above max_cpu_utilisation over
//    the last 5 min (from `cpu_cores`);
//  - HotpathHourlyCostHigh: the fleet's cost per hour above max_hourly_cost.
// Thread-compatible: call Evaluate from one thread (the server's tick).
#ifndef HOTPATH_OBSERVE_ALERT_EVALUATOR_H_
#define HOTPATH_OBSERVE_ALERT_EVALUATOR_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "observe/alert_rules.h"
#include "observe/alert_sink.h"
#include "observe/history.h"

namespace hotpath {

class AlertEvaluator {
 public:
  // Optional inputs beyond the per-second history.
  struct Sources {
    const MetricsHistory* minutes = nullptr;  // per-minute history: the 6h and 1d burn pairs
    std::function<double()> hourly_cost;      // the fleet's cost per hour
    std::function<double()> cpu_cores;        // busy cores over the last 5 min
  };
  // `history`, `sink` and the sources are borrowed and must outlive the evaluator.
  static Result<std::unique_ptr<AlertEvaluator>> Create(const AlertRulesOptions& options,
                                                        const MetricsHistory* history, AlertSink* sink,
                                                        Sources sources);

  // Evaluates every rule on the history now; publishes
  // {"alert", "state": "firing"|"resolved", "value", "threshold", "at_ms"}
  // for each rule whose state changed. Returns the rules firing now.
  std::vector<std::string> Evaluate();

 private:
  AlertEvaluator(const AlertRulesOptions& o, const MetricsHistory* h, AlertSink* s, Sources sources)
      : options_(o), history_(h), sink_(s), sources_(std::move(sources)) {}
  void EvaluateSources(int64_t at_ms);
  void Update(const std::string& name, bool firing, double value, double threshold, int64_t at_ms);

  const AlertRulesOptions options_;
  const MetricsHistory* history_;
  AlertSink* sink_;
  Sources sources_;
  std::map<std::string, bool> firing_;
};

}  // namespace hotpath

#endif  // HOTPATH_OBSERVE_ALERT_EVALUATOR_H_
