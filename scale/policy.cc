#include "scale/policy.h"

#include <algorithm>
#include <cmath>

#include "scale/internal/stats.h"

namespace hotpath::scale {

PolicyConfig PolicyConfig::Kubernetes() {
  PolicyConfig c;
  c.name = "kubernetes";
  return c;
}

PolicyConfig PolicyConfig::Hotpath() {
  PolicyConfig c;
  c.name = "hotpath";
  c.sync_period_s = 2.0;
  c.metric_window_s = 30.0;
  c.metrics_lag_s = 2.0;
  c.scale_up = {0.0, 1000.0, 1000, 2.0, 0.0};
  c.scale_down = {300.0, 100.0, 0, 15.0, 0.0};
  c.panic = {true, 6.0, 2.0, 60.0};
  c.predictive = {true, 0.0, 0.0, false, 300};
  c.spot = {true, 0.7, 0.01, 0.2};
  return c;
}

PolicyConfig PolicyConfig::StaticPeak() {
  PolicyConfig c;
  c.name = "static";
  c.mode = PolicyMode::kStatic;
  return c;
}

namespace {

Status Positive(double v, const char* field) {
  if (v > 0.0 && std::isfinite(v)) {
    return OkStatus();
  }
  return InvalidArgumentError(std::string(field) + ": must be > 0");
}

Status NonNegative(double v, const char* field) {
  if (v >= 0.0 && std::isfinite(v)) {
    return OkStatus();
  }
  return InvalidArgumentError(std::string(field) + ": must be >= 0");
}

Status ValidateDirection(const ScaleDirectionConfig& d, const char* stab, const char* pct,
                         const char* pods, const char* period, const char* cool) {
  RETURN_IF_ERROR(NonNegative(d.stabilization_s, stab));
  RETURN_IF_ERROR(NonNegative(d.max_percent, pct));
  RETURN_IF_ERROR(NonNegative(d.max_pods, pods));
  RETURN_IF_ERROR(Positive(d.period_s, period));
  return NonNegative(d.cooldown_s, cool);
}

Status ValidateExtras(const PolicyConfig& c) {
  RETURN_IF_ERROR(Positive(c.panic.window_s, "panic.window_s"));
  RETURN_IF_ERROR(Positive(c.panic.threshold, "panic.threshold"));
  RETURN_IF_ERROR(NonNegative(c.panic.hold_s, "panic.hold_s"));
  RETURN_IF_ERROR(NonNegative(c.predictive.lead_s, "predictive.lead_s"));
  RETURN_IF_ERROR(NonNegative(c.predictive.margin, "predictive.margin"));
  const int step = c.predictive.forecast_step_s;
  if (step <= 0 || 86400 % step != 0 || 86400 / step < 2) {
    return InvalidArgumentError("predictive.forecast_step_s: must divide 86400 (e.g. 300)");
  }
  if (!(c.spot.max_share >= 0.0 && c.spot.max_share <= 1.0)) {
    return InvalidArgumentError("spot.max_share: must be within [0, 1]");
  }
  if (!(c.spot.risk_budget >= 0.0 && c.spot.risk_budget <= 1.0)) {
    return InvalidArgumentError("spot.risk_budget: must be within [0, 1]");
  }
  return NonNegative(c.spot.min_saving, "spot.min_saving");
}

}  // namespace

Status ValidatePolicyConfig(const PolicyConfig& c) {
  if (!(c.target_utilization > 0.0 && c.target_utilization <= 1.0)) {
    return InvalidArgumentError("target_utilization: must be within (0, 1]");
  }
  RETURN_IF_ERROR(NonNegative(c.tolerance, "tolerance"));
  if (c.min_replicas < 0 || c.max_replicas < std::max(c.min_replicas, 1)) {
    return InvalidArgumentError("max_replicas: must be >= max(min_replicas, 1), min_replicas >= 0");
  }
  if (c.static_replicas < 0) {
    return InvalidArgumentError("static_replicas: must be >= 0");
  }
  RETURN_IF_ERROR(Positive(c.sync_period_s, "sync_period_s"));
  RETURN_IF_ERROR(Positive(c.metric_window_s, "metric_window_s"));
  RETURN_IF_ERROR(NonNegative(c.metrics_lag_s, "metrics_lag_s"));
  RETURN_IF_ERROR(ValidateDirection(c.scale_up, "scale_up.stabilization_s", "scale_up.max_percent",
                                    "scale_up.max_pods", "scale_up.period_s",
                                    "scale_up.cooldown_s"));
  RETURN_IF_ERROR(ValidateDirection(c.scale_down, "scale_down.stabilization_s",
                                    "scale_down.max_percent", "scale_down.max_pods",
                                    "scale_down.period_s", "scale_down.cooldown_s"));
  return ValidateExtras(c);
}

int SpotReplicas(const SpotConfig& spot, const ReplicaFacts& facts, double target_utilization,
                 int replicas) {
  const InstanceType& t = facts.instance;
  if (!spot.enabled || !t.has_spot() || replicas <= 0) {
    return 0;
  }
  if (1.0 - t.spot_per_hour / t.on_demand_per_hour < spot.min_saving) {
    return 0;
  }
  const double p = 1.0 - std::exp(-t.spot_interruption_rate_per_hour * facts.cold_start_s / 3600.0);
  const int spare = static_cast<int>(std::floor(replicas * (1.0 - target_utilization)));
  const int cap = static_cast<int>(std::floor(spot.max_share * replicas));
  int best = 0;
  for (int n = 1; n <= cap; ++n) {
    if (internal::BinomialUpperTail(n, p, spare) > spot.risk_budget) {
      break;
    }
    best = n;
  }
  return best;
}

Result<std::unique_ptr<Autoscaler>> Autoscaler::Create(const PolicyConfig& config,
                                                       const ReplicaFacts& facts) {
  RETURN_IF_ERROR(ValidatePolicyConfig(config));
  if (config.mode != PolicyMode::kAutoscale) {
    return InvalidArgumentError("mode: an Autoscaler needs mode \"autoscale\"");
  }
  RETURN_IF_ERROR(Positive(facts.capacity_rps, "capacity_rps"));
  RETURN_IF_ERROR(NonNegative(facts.cold_start_s, "cold_start_s"));
  return std::unique_ptr<Autoscaler>(new Autoscaler(config, facts));
}

Autoscaler::Autoscaler(const PolicyConfig& config, const ReplicaFacts& facts)
    : config_(config), facts_(facts), target_rps_(config.target_utilization * facts.capacity_rps) {}

double Autoscaler::LeadSeconds() const {
  return config_.predictive.lead_s > 0.0 ? config_.predictive.lead_s
                                         : facts_.cold_start_s + config_.sync_period_s;
}

void Autoscaler::RecordDemand(double t_s, double rps) {
  demand_.emplace_back(t_s, rps);
  const double keep =
      config_.metrics_lag_s + std::max(config_.metric_window_s, config_.panic.window_s) + 1.0;
  while (!demand_.empty() && demand_.front().first < t_s - keep) {
    demand_.pop_front();
  }
}

bool Autoscaler::Due(double t_s) const { return t_s >= next_sync_s_; }

double Autoscaler::MeanDemand(double end_s, double window_s) const {
  double sum = 0.0;
  int n = 0;
  for (const auto& [ts, rps] : demand_) {
    if (ts >= end_s - window_s && ts < end_s) {
      sum += rps, ++n;
    }
  }
  return n ? sum / n : -1.0;
}

int Autoscaler::Recommend(double metric, int current) const {
  if (current > 0) {
    const double ratio = metric / (current * target_rps_);
    if (std::abs(ratio - 1.0) <= config_.tolerance) {
      return current;
    }
  }
  return static_cast<int>(std::ceil(metric / target_rps_ - 1e-9));
}

int Autoscaler::Stabilize(double t_s, int rec, int current) {
  recs_.emplace_back(t_s, rec);
  const double keep =
      std::max(config_.scale_up.stabilization_s, config_.scale_down.stabilization_s);
  while (!recs_.empty() && recs_.front().first < t_s - keep) {
    recs_.pop_front();
  }
  int up = rec, down = rec;
  for (const auto& [ts, r] : recs_) {
    if (ts >= t_s - config_.scale_up.stabilization_s) {
      up = std::min(up, r);
    }
    if (ts >= t_s - config_.scale_down.stabilization_s) {
      down = std::max(down, r);
    }
  }
  return std::min(std::max(current, up), down);
}

int Autoscaler::RateLimit(double t_s, int desired, int current) const {
  int added = 0, removed = 0;
  for (const auto& [ts, delta] : events_) {
    if (delta > 0 && ts > t_s - config_.scale_up.period_s) {
      added += delta;
    }
    if (delta < 0 && ts > t_s - config_.scale_down.period_s) {
      removed -= delta;
    }
  }
  if (desired > current) {
    const int start = current - added;
    const auto& u = config_.scale_up;
    const int by_pct = static_cast<int>(std::ceil(start * (1.0 + u.max_percent / 100.0)));
    return std::min(desired, std::max({by_pct, start + u.max_pods, current}));
  }
  if (desired < current) {
    const int start = current + removed;
    const auto& d = config_.scale_down;
    int limit = static_cast<int>(std::floor(start * (1.0 - d.max_percent / 100.0)));
    if (d.max_pods > 0) {
      limit = std::min(limit, start - d.max_pods);
    }
    return std::max(desired, std::min(limit, current));
  }
  return desired;
}

int Autoscaler::ApplyCooldown(double t_s, int desired, int current, bool panic) const {
  const double since = t_s - last_event_s_;
  if (desired > current && !panic && since < config_.scale_up.cooldown_s) {
    return current;
  }
  if (desired < current && since < config_.scale_down.cooldown_s) {
    return current;
  }
  return desired;
}

void Autoscaler::ApplyPanic(double t_s, double seen_s, const FleetView& fleet, ScaleDecision& d) {
  if (!config_.panic.enabled) {
    return;
  }
  const double burst_rps = MeanDemand(seen_s, config_.panic.window_s);
  const double ready_target = std::max(fleet.ready, 0) * target_rps_;
  if (burst_rps > 0.0 && burst_rps >= config_.panic.threshold * ready_target) {
    panic_until_s_ = t_s + config_.panic.hold_s;
  }
  d.panic = t_s < panic_until_s_;
  if (!d.panic) {
    return;
  }
  const int burst = static_cast<int>(std::ceil(std::max(burst_rps, 0.0) / target_rps_ - 1e-9));
  const int held = std::max({d.replicas, fleet.replicas, burst});
  if (held > d.replicas) {
    d.reason = ScaleReason::kPanic;
  }
  d.replicas = held;
}

void Autoscaler::ApplyForecast(std::optional<double> forecast_rps, ScaleDecision& d) const {
  if (!config_.predictive.enabled || !forecast_rps) {
    return;
  }
  const double want = *forecast_rps * (1.0 + config_.predictive.margin) / target_rps_;
  const int predicted = static_cast<int>(std::ceil(want - 1e-9));
  if (predicted > d.replicas) {
    d.replicas = predicted, d.reason = ScaleReason::kPredictive;
  }
}

ScaleDecision Autoscaler::Decide(double t_s, const FleetView& fleet,
                                 std::optional<double> forecast_rps) {
  next_sync_s_ = t_s + config_.sync_period_s;
  const int current = fleet.replicas;
  const double seen = t_s - config_.metrics_lag_s;
  const double metric = MeanDemand(seen, config_.metric_window_s);
  ScaleDecision d{current, 0, false, ScaleReason::kHold};
  if (metric >= 0.0) {
    d.replicas = RateLimit(t_s, Stabilize(t_s, Recommend(metric, current), current), current);
    if (d.replicas != current) {
      d.reason = ScaleReason::kReactive;
    }
  }
  ApplyPanic(t_s, seen, fleet, d);
  ApplyForecast(forecast_rps, d);
  d.replicas = ApplyCooldown(t_s, d.replicas, current, d.panic);
  const int bounded = std::clamp(d.replicas, config_.min_replicas, config_.max_replicas);
  if (bounded != d.replicas) {
    d.replicas = bounded, d.reason = ScaleReason::kBounds;
  }
  if (d.replicas == current && d.reason != ScaleReason::kBounds) {
    d.reason = ScaleReason::kHold;
  }
  if (d.replicas != current) {
    events_.emplace_back(t_s, d.replicas - current);
    last_event_s_ = t_s;
  }
  const double keep = std::max(config_.scale_up.period_s, config_.scale_down.period_s);
  while (!events_.empty() && events_.front().first < t_s - keep) {
    events_.pop_front();
  }
  d.spot_replicas = SpotReplicas(config_.spot, facts_, config_.target_utilization, d.replicas);
  return d;
}

}  // namespace hotpath::scale
