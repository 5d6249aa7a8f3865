// Cost: what a fleet costs per hour, split per model and per million
// inferences the way OpenCost allocates (each workload pays for
// max(requested, used) of every resource at the node's per-unit price; the
// rest of the node is idle cost), plus budgets with actual and forecasted
// alerts and projected month-end spend. Pure functions; thread-safe.
#ifndef HOTPATH_SCALE_COST_H_
#define HOTPATH_SCALE_COST_H_

#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "scale/catalog.h"

namespace hotpath::scale {

struct Resources {
  double vcpu = 0.0;
  double memory_gib = 0.0;
  double gpus = 0.0;
};

// Per-unit hourly prices of one machine's resources.
struct UnitPrices {
  double per_vcpu_hour = 0.0;
  double per_gib_hour = 0.0;
  double per_gpu_hour = 0.0;
};

// Splits a machine's hourly price across its resources in proportion to
// OpenCost's default reference prices (vCPU 0.031611, GiB 0.004237,
// GPU 0.95 per hour), so that vcpu·cpu + gib·mem + gpus·gpu = price.
UnitPrices SplitPrice(const InstanceType& type, bool spot);

struct NodePool {
  std::string instance;  // a catalog name
  bool spot = false;
  int count = 0;  // machines, >= 0
};

struct Workload {
  std::string model;
  size_t pool = 0;                   // index into the pools it runs on
  int replicas = 1;                  // >= 0
  Resources requested;               // per replica
  Resources used;                    // per replica, measured average
  double inferences_per_second = 0;  // all replicas together, >= 0
};

struct ModelCost {
  std::string model;
  double per_hour = 0.0;
  // Cost of one million inferences at the measured rate; 0 when the rate is 0.
  double per_million_inferences = 0.0;
  Resources billed;  // max(requested, used) × replicas
};

struct CostReport {
  double total_per_hour = 0.0;      // all machines in all pools
  double allocated_per_hour = 0.0;  // sum over models
  double idle_per_hour = 0.0;       // total − allocated (>= 0 unless over-committed)
  std::vector<ModelCost> models;    // one per distinct model name, in first-seen order
};

// Allocates the pools' cost to the workloads. INVALID_ARGUMENT naming the
// workload or pool for an unknown instance, a bad pool index or negative
// quantities.
Result<CostReport> AllocateCost(const InstanceCatalog& catalog, std::span<const NodePool> pools,
                                std::span<const Workload> workloads);

struct BudgetOptions {
  double monthly_limit = 0.0;                        // currency, > 0
  std::vector<double> thresholds = {0.5, 0.8, 1.0};  // fractions of the limit, > 0
};

struct BudgetAlert {
  double threshold = 0.0;   // the crossed fraction
  bool forecasted = false;  // true: projected month-end crosses it; false: spend already has
};

struct BudgetStatus {
  double spent = 0.0;
  double projected_month_end = 0.0;  // spent + current rate × hours left
  std::vector<BudgetAlert> alerts;   // actual alerts first, then forecasted ones
};

// Evaluates a budget `hours_elapsed` into a month of `hours_in_month` with
// `spent` so far and the fleet now costing `per_hour_now`. A threshold already
// crossed by actual spend is not repeated as forecasted. INVALID_ARGUMENT for
// non-positive limits or hours, elapsed > month, or negative amounts.
Result<BudgetStatus> EvaluateBudget(const BudgetOptions& options, double spent,
                                    double hours_elapsed, double hours_in_month,
                                    double per_hour_now);

}  // namespace hotpath::scale

#endif  // HOTPATH_SCALE_COST_H_
