// CostHttpApp: what this server costs now, per model and per million
// inferences, allocated the OpenCost way (scale/cost.h: each model pays for
// max(requested, used) vCPU; the rest of the machine is idle cost), and the
// month's budget with projected month-end spend.
//   GET /v1/cost -> {"instance", "replicas", "total_per_hour", "idle_per_hour",
//     "models": [{"model", "used_vcpu", "inferences_per_s", "per_hour",
//     "per_million_inferences"}], "budget": {"monthly_limit", "spent",
//     "projected_month_end", "alerts": [{"threshold", "forecasted"}]}}
// "Used" vCPU of a model is its batchers' compute seconds per second
// (hotpath_sched_compute_duration_seconds), averaged over the last minute;
// spend accrues from the server's start. The hourly cost is also exported as
// the gauge hotpath_cost_per_hour (for the Prometheus alert).
#ifndef HOTPATH_SERVE_APPS_COST_HTTP_H_
#define HOTPATH_SERVE_APPS_COST_HTTP_H_

#include <deque>
#include <map>
#include <memory>
#include <string>

#include "core/thread_annotations.h"
#include "observe/metrics.h"
#include "scale/catalog.h"
#include "scale/cost.h"
#include "serve/http_app.h"

namespace hotpath {

class CostHttpApp final : public HttpApp {
 public:
  struct Options {
    scale::InstanceCatalog catalog;
    std::string instance;          // a catalog name
    bool spot = false;
    int replicas = 1;              // machines like this one, >= 1
    double monthly_budget = 0;     // currency; 0: no budget
  };
  // INVALID_ARGUMENT for an unknown instance or bad numbers. `registry` is
  // borrowed (the batchers' metrics are read from it; the gauge is added, so
  // the app must outlive every later scrape of `registry`).
  static Result<std::unique_ptr<CostHttpApp>> Create(const Options& options, MetricsRegistry* registry);

  // Samples usage and accrues spend; call once a second. Thread-safe.
  void Tick() EXCLUDES(mu_);
  // The current hourly cost of the fleet. Thread-safe.
  double PerHour() const EXCLUDES(mu_);
  bool Handle(const HttpAppRequest& request, Respond respond) override;

 private:
  struct Usage {
    double compute_s = 0;  // cumulative compute seconds
    double inferences = 0; // cumulative inferences
  };
  CostHttpApp(Options options, MetricsRegistry* registry) : options_(std::move(options)), registry_(registry) {}
  std::map<std::string, Usage> ReadUsage() const;
  std::string Report() EXCLUDES(mu_);

  const Options options_;
  MetricsRegistry* registry_;
  mutable Mutex mu_;
  std::deque<std::map<std::string, Usage>> samples_ GUARDED_BY(mu_);  // last 61 seconds
  double spent_ GUARDED_BY(mu_) = 0;
  double seconds_ GUARDED_BY(mu_) = 0;
  scale::CostReport last_ GUARDED_BY(mu_);
  std::map<std::string, std::pair<double, double>> rates_ GUARDED_BY(mu_);  // model -> (vcpu, inferences/s)
};

}  // namespace hotpath

#endif  // HOTPATH_SERVE_APPS_COST_HTTP_H_
