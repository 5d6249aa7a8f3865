// Autoscaler: turns observed demand (and optionally a demand forecast) into a
// replica count and a spot/on-demand split, following Kubernetes' HPA ratio
// rule and behaviour (tolerance, stabilisation windows, rate limits), with
// Knative-style panic mode, predictive scale-out and cooldowns on top.
//
// At each sync (every sync_period_s):
//   metric   = mean rps of the seconds in [t − lag − window, t − lag)
//   ratio    = metric / (current · target)          target = utilisation · capacity
//   rec      = current if |ratio − 1| <= tolerance else ceil(metric / target)
//   reactive = clamp(current, min(recs in up window), max(recs in down window)),
//              then limited to the scale-up / scale-down rates per period
//   panic    : when the panic-window rps >= threshold · ready · target, no
//              scale-in for hold_s and scale-out to ceil(panic rps / target)
//   predict  = ceil(forecast(t + lead) · (1 + margin) / target)
//   final    = clamp(max(reactive, predict), min_replicas, max_replicas)
// A forecast can only raise `final`; it never causes a scale-in.
// Not thread-safe: one Autoscaler per controlled deployment, one caller.
#ifndef HOTPATH_SCALE_POLICY_H_
#define HOTPATH_SCALE_POLICY_H_

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "scale/catalog.h"

namespace hotpath::scale {

struct ScaleDirectionConfig {
  double stabilization_s = 0.0;  // window of recommendations considered
  double max_percent = 100.0;    // per period, of replicas at the period's start
  int max_pods = 4;              // per period; the larger of the two limits wins
  double period_s = 15.0;
  double cooldown_s = 0.0;  // min time since the last scale event of any kind
};

struct PanicConfig {
  bool enabled = false;
  double window_s = 6.0;   // short averaging window
  double threshold = 2.0;  // panic when short-window demand >= threshold × ready target
  double hold_s = 60.0;    // stay in panic (no scale-in) this long after the last trigger
};

struct PredictiveConfig {
  bool enabled = false;
  double lead_s = 0.0;        // look-ahead; 0 = cold start + sync period
  double margin = 0.0;        // extra fraction on the forecast, >= 0
  bool use_upper = false;     // scale to the interval's upper bound, not the mean
  int forecast_step_s = 300;  // forecaster resolution; divides 86400
};

struct SpotConfig {
  bool enabled = false;
  double max_share = 0.7;     // cap on spot replicas / replicas (correlated reclaims)
  double risk_budget = 0.01;  // allowed P(more spot losses in one cold start than headroom)
  double min_saving = 0.2;    // use spot only when 1 − spot/on-demand >= this
};

enum class PolicyMode { kStatic, kAutoscale };

struct PolicyConfig {
  std::string name = "hotpath";
  PolicyMode mode = PolicyMode::kAutoscale;
  int static_replicas = 0;          // kStatic: fixed count; 0 = size to the trace's peak
  double target_utilization = 0.7;  // of a replica's capacity, (0, 1]
  double tolerance = 0.1;
  int min_replicas = 1;
  int max_replicas = 1000;
  double sync_period_s = 15.0;
  double metric_window_s = 15.0;
  double metrics_lag_s = 15.0;  // age of the newest sample the controller sees
  ScaleDirectionConfig scale_up{0.0, 100.0, 4, 15.0, 0.0};
  ScaleDirectionConfig scale_down{300.0, 100.0, 0, 15.0, 0.0};
  PanicConfig panic;
  PredictiveConfig predictive;
  SpotConfig spot;

  // Kubernetes HPA defaults: 15 s sync, ~15 s metrics pipeline, 10% tolerance,
  // up: no stabilisation, max(100%, 4 pods) per 15 s; down: 300 s, 100% per 15 s.
  static PolicyConfig Kubernetes();
  // hotpath: in-process metrics (2 s tick, 30 s window, 2 s lag), panic mode,
  // predictive scale-out, spot share; the same 10% tolerance and 300 s
  // scale-down stabilisation as Kubernetes.
  static PolicyConfig Hotpath();
  // Static provisioning sized to the trace's peak at the target utilisation.
  static PolicyConfig StaticPeak();
};

// Validates `config`; INVALID_ARGUMENT naming the field.
Status ValidatePolicyConfig(const PolicyConfig& config);

// Parses a policy JSON document: {"base": "hotpath"|"kubernetes"|"static", ...}
// where every other field (same names as PolicyConfig; nested objects
// "scale_up", "scale_down", "panic", "predictive", "spot") overrides the base
// preset. INVALID_ARGUMENT naming the field on malformed input.
Result<PolicyConfig> ParsePolicyConfig(std::string_view json_text);
// Reads and parses `path`; NOT_FOUND when it cannot be read.
Result<PolicyConfig> LoadPolicyConfig(const std::string& path);

// What the controlled fleet looks like now.
struct FleetView {
  int replicas = 0;  // desired count last applied (starting + ready, not draining)
  int ready = 0;     // replicas serving
};

enum class ScaleReason { kHold, kReactive, kPanic, kPredictive, kBounds };

struct ScaleDecision {
  int replicas = 0;       // desired total
  int spot_replicas = 0;  // of which on spot, <= replicas
  bool panic = false;
  ScaleReason reason = ScaleReason::kHold;
};

// The facts about a replica the policy needs.
struct ReplicaFacts {
  double capacity_rps = 100.0;  // sustainable requests/s of one replica, > 0
  double cold_start_s = 60.0;   // from launch to serving, >= 0
  InstanceType instance;        // prices and spot interruption rate
};

// Largest number of spot replicas out of `replicas` such that the chance of
// more interruptions within one cold start than the target's headroom
// (floor(replicas × (1 − target_utilization))) stays within the risk budget,
// capped at max_share; 0 when spot is disabled, unavailable or not cheaper by
// min_saving.
int SpotReplicas(const SpotConfig& spot, const ReplicaFacts& facts, double target_utilization,
                 int replicas);

class Autoscaler {
 public:
  // INVALID_ARGUMENT for an invalid config or facts. The config must be kAutoscale.
  static Result<std::unique_ptr<Autoscaler>> Create(const PolicyConfig& config,
                                                    const ReplicaFacts& facts);

  // Records the demand observed during the second [t_s, t_s + 1) (requests/s).
  // Call once per second with non-decreasing t_s; a decision at time t sees
  // seconds that ended by t − metrics_lag_s.
  void RecordDemand(double t_s, double rps);

  // True when a decision is due at `t_s` (every sync_period_s).
  bool Due(double t_s) const;

  // Decides the fleet size at `t_s`. `forecast_rps` is the forecast demand at
  // t_s + LeadSeconds(); ignored unless predictive is enabled.
  ScaleDecision Decide(double t_s, const FleetView& fleet, std::optional<double> forecast_rps);

  // How far ahead the predictive part looks, in seconds.
  double LeadSeconds() const;
  const PolicyConfig& config() const { return config_; }

 private:
  Autoscaler(const PolicyConfig& config, const ReplicaFacts& facts);

  double MeanDemand(double t_s, double window_s) const;
  int Recommend(double metric, int current) const;
  int Stabilize(double t_s, int rec, int current);
  int RateLimit(double t_s, int desired, int current) const;
  int ApplyCooldown(double t_s, int desired, int current, bool panic) const;
  // Enters or keeps panic mode; in panic, never below current or the burst need.
  void ApplyPanic(double t_s, double seen_s, const FleetView& fleet, ScaleDecision& d);
  // Raises d.replicas to the forecast need; never lowers it.
  void ApplyForecast(std::optional<double> forecast_rps, ScaleDecision& d) const;

  PolicyConfig config_;
  ReplicaFacts facts_;
  double target_rps_ = 0.0;                       // per replica
  std::deque<std::pair<double, double>> demand_;  // (t_s, rps) samples
  std::deque<std::pair<double, int>> recs_;       // (t_s, recommendation)
  std::deque<std::pair<double, int>> events_;     // (t_s, replica delta) scale events
  double next_sync_s_ = 0.0;
  double panic_until_s_ = -1.0;
  double last_event_s_ = -1e18;
};

}  // namespace hotpath::scale

#endif  // HOTPATH_SCALE_POLICY_H_
