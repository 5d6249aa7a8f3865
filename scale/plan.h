// PlanCapacity: "how many replicas tomorrow, and at what cost" — forecasts
// demand from a history trace and turns each future step into a replica
// count (at the target utilisation, on the interval's upper bound by
// default), a spot split and a cost. Pure function; thread-safe.
#ifndef HOTPATH_SCALE_PLAN_H_
#define HOTPATH_SCALE_PLAN_H_

#include <vector>

#include "core/status.h"
#include "scale/forecast.h"
#include "scale/policy.h"
#include "scale/trace.h"

namespace hotpath::scale {

struct PlanOptions {
  ReplicaFacts replica;             // capacity, cold start, instance (prices)
  double target_utilization = 0.7;  // (0, 1]
  int horizon_steps = 288;          // future steps to plan, >= 1
  bool use_upper = true;            // size for the interval's upper bound
  double interval_coverage = 0.9;
  int min_replicas = 1;
  SpotConfig spot;  // spot share per step (disabled by default)
};

struct PlannedStep {
  double t_s = 0.0;      // seconds after the end of the history
  ForecastPoint demand;  // requests/s
  int replicas = 0;
  int spot_replicas = 0;
  double cost = 0.0;  // for this step
};

struct CapacityPlan {
  std::vector<PlannedStep> steps;
  double cost = 0.0;                // whole horizon
  double cost_all_on_demand = 0.0;  // same replicas without spot
  int peak_replicas = 0;
};

// Plans `options.horizon_steps` steps of history.step_s after `history`.
// The step must divide a day; a history of two weeks or more enables the
// weekly cycle, else it needs two days. INVALID_ARGUMENT naming the option or
// the history otherwise.
Result<CapacityPlan> PlanCapacity(const Trace& history, const PlanOptions& options);

}  // namespace hotpath::scale

#endif  // HOTPATH_SCALE_PLAN_H_
