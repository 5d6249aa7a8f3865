#include "scale/plan.h"

#include <algorithm>
#include <cmath>

namespace hotpath::scale {

namespace {

Status ValidatePlan(const Trace& history, const PlanOptions& o) {
  if (history.step_s <= 0 || 86400 % history.step_s != 0 || 86400 / history.step_s < 2) {
    return InvalidArgumentError("history.step_s: must divide 86400 (e.g. 300)");
  }
  if (!(o.replica.capacity_rps > 0)) {
    return InvalidArgumentError("capacity_rps: must be > 0");
  }
  if (!(o.target_utilization > 0 && o.target_utilization <= 1)) {
    return InvalidArgumentError("target_utilization: must be within (0, 1]");
  }
  if (!(o.replica.instance.on_demand_per_hour > 0)) {
    return InvalidArgumentError("instance.on_demand_per_hour: must be > 0 (pick a catalog type)");
  }
  if (o.horizon_steps < 1) {
    return InvalidArgumentError("horizon_steps: must be >= 1");
  }
  if (o.min_replicas < 0) {
    return InvalidArgumentError("min_replicas: must be >= 0");
  }
  return OkStatus();
}

}  // namespace

Result<CapacityPlan> PlanCapacity(const Trace& history, const PlanOptions& o) {
  RETURN_IF_ERROR(ValidatePlan(history, o));
  ForecastOptions f;
  f.day_period = 86400 / history.step_s;
  f.week_period = history.DurationS() >= 14 * 86400.0 ? 7 * f.day_period : 0;
  f.interval_coverage = o.interval_coverage;
  ASSIGN_OR_RETURN(auto model, HoltWinters::Fit(f, history.rps));
  const double target = o.target_utilization * o.replica.capacity_rps;
  const double hours = history.step_s / 3600.0;
  const InstanceType& it = o.replica.instance;
  CapacityPlan plan;
  for (int h = 1; h <= o.horizon_steps; ++h) {
    PlannedStep s;
    s.t_s = static_cast<double>(h - 1) * history.step_s;
    s.demand = model->Forecast(h);
    const double need = (o.use_upper ? s.demand.upper : s.demand.mean) / target;
    s.replicas = std::max(o.min_replicas, static_cast<int>(std::ceil(need - 1e-9)));
    s.spot_replicas = SpotReplicas(o.spot, o.replica, o.target_utilization, s.replicas);
    s.cost = (s.spot_replicas * it.PricePerHour(true) +
              (s.replicas - s.spot_replicas) * it.PricePerHour(false)) *
             hours;
    plan.cost += s.cost;
    plan.cost_all_on_demand += s.replicas * it.PricePerHour(false) * hours;
    plan.peak_replicas = std::max(plan.peak_replicas, s.replicas);
    plan.steps.push_back(s);
  }
  return plan;
}

}  // namespace hotpath::scale
