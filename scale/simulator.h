// Simulate: a discrete-time (1 s tick) simulation of a replica fleet driven by
// a demand trace under a scaling policy — cold starts, spot interruptions,
// queueing — reporting SLO-violation minutes, cost and replicas over time.
//
// Assumptions (docs/planning.md has the full list):
//  - demand is held constant within each trace step; the policy observes it
//    each second (after its configured metrics lag);
//  - each serving replica is an M/M/1 server with rate capacity_rps behind a
//    shared fluid backlog: the per-second p99 estimate is
//    ln(100)/(capacity·(1−ρ)) + backlog/(serving·capacity), ρ capped at 0.99;
//    requests that would wait longer than max_queue_s are dropped;
//  - a minute violates the SLO when its request-weighted p99 estimate exceeds
//    slo_p99_ms or its drop fraction exceeds max_drop_fraction;
//  - every provisioned replica (booting, ready or draining) is billed per second.
// Deterministic for a given seed. Thread-safe (no shared state).
#ifndef HOTPATH_SCALE_SIMULATOR_H_
#define HOTPATH_SCALE_SIMULATOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "scale/policy.h"
#include "scale/trace.h"

namespace hotpath::scale {

struct SimulationOptions {
  ReplicaFacts replica;                  // capacity (from `hotpath bench`), cold start, instance
  double slo_p99_ms = 250.0;             // > 0
  double max_drop_fraction = 0.001;      // per minute, [0, 1]
  double max_queue_s = 2.0;              // deadline: longer waits are dropped; > 0
  double history_s = 0.0;                // leading trace seconds used only as forecaster
                                         // history (a multiple of the forecast step)
  double interruption_notice_s = 120.0;  // spot reclaim warning (AWS: 120 s)
  uint64_t seed = 1;
};

struct MinuteStats {
  double t_s = 0.0;            // start of the minute, seconds since simulation start
  double demand_rps = 0.0;     // mean arrivals
  double capacity_rps = 0.0;   // mean serving capacity
  double replicas = 0.0;       // mean provisioned (not draining)
  double spot_replicas = 0.0;  // mean spot among them
  double forecast_rps = 0.0;   // mean forecast the policy used (0 without one)
  double p99_ms = 0.0;         // request-weighted p99 estimate
  double drop_fraction = 0.0;
  double cost = 0.0;  // spent during the minute
  bool violated = false;
};

struct SimulationReport {
  std::string policy;
  int minutes = 0;
  int slo_violation_minutes = 0;
  double cost = 0.0;                       // whole simulation
  double cost_per_million_requests = 0.0;  // per served request
  double mean_replicas = 0.0;
  int peak_replicas = 0;
  double requests = 0.0;
  double dropped_requests = 0.0;
  int spot_interruptions = 0;
  std::vector<MinuteStats> timeline;
};

// Runs `policy` over the part of `trace` after options.history_s.
// INVALID_ARGUMENT naming the option for bad options, a policy that fails
// ValidatePolicyConfig, a history too short for a predictive policy's
// forecaster (two days at least; two weeks enables the weekly cycle) or an
// empty simulated window.
Result<SimulationReport> Simulate(const Trace& trace, const PolicyConfig& policy,
                                  const SimulationOptions& options);

// The report's totals as one JSON object (no timeline).
std::string ReportSummaryJson(const SimulationReport& report);

// Writes the per-minute timeline as CSV (header: t_s,demand_rps,capacity_rps,
// replicas,spot_replicas,forecast_rps,p99_ms,drop_fraction,cost,violated).
// INTERNAL when the file cannot be written.
Status WriteTimelineCsv(const SimulationReport& report, const std::string& path);

// Writes an SVG with two panels: demand, forecast and capacity (requests/s),
// then replicas and spot replicas, with violated minutes shaded.
Status WriteTimelineSvg(const SimulationReport& report, const std::string& path);

}  // namespace hotpath::scale

#endif  // HOTPATH_SCALE_SIMULATOR_H_
