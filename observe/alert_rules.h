// AlertRules: hotpath's alerting as a Prometheus rules file — threshold
// alerts (p95 latency, minimum throughput, error rate, CPU utilisation) and
// SLO burn-rate alerts with the standard multi-window pairs (Google SRE
// workbook): 1h/5m at 14.4x and 6h/30m at 6x page; 1d/2h at 3x and 3d/6h at
// 1x open a ticket. Expressions use the metric names of docs/observe.md.
#ifndef HOTPATH_OBSERVE_ALERT_RULES_H_
#define HOTPATH_OBSERVE_ALERT_RULES_H_

#include <string>
#include <vector>

#include "core/status.h"

namespace hotpath {

struct AlertRulesOptions {
  double availability_objective = 0.999;  // SLO on request success, in (0, 1)
  double p95_latency_ms = 5.0;            // compute + queue p95 per model, > 0
  double min_throughput_rps = 1.0;        // per model, over 10m, >= 0 (0 = no alert)
  double max_error_rate = 0.01;           // failed / all, over 5m, in (0, 1)
  double max_cpu_utilisation = 0.85;      // process CPU seconds per second per core, in (0, 1]
  int cores = 2;                          // cores the process may use, >= 1
  double max_hourly_cost = 0;             // currency per hour (hotpath_cost_per_hour); 0 = off
};

struct BurnRateWindow {
  const char* long_window;
  const char* short_window;
  double factor;
  const char* severity;
};

// The four standard window pairs, most urgent first.
const std::vector<BurnRateWindow>& BurnRateWindows();

// The rules file (YAML). INVALID_ARGUMENT naming an option out of range.
Result<std::string> PrometheusAlertRules(const AlertRulesOptions& options);

}  // namespace hotpath

#endif  // HOTPATH_OBSERVE_ALERT_RULES_H_
