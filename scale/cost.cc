#include "scale/cost.h"

#include <algorithm>
#include <map>

namespace hotpath::scale {

namespace {

constexpr double kRefVcpu = 0.031611;
constexpr double kRefGib = 0.004237;
constexpr double kRefGpu = 0.95;

double Billed(double requested, double used) { return std::max(requested, used); }

Status ValidateWorkload(const Workload& w, size_t i, size_t pools) {
  const std::string path = "workloads[" + std::to_string(i) + "]";
  if (w.pool >= pools) {
    return InvalidArgumentError(path + ".pool: index out of range");
  }
  if (w.replicas < 0) {
    return InvalidArgumentError(path + ".replicas: must be >= 0");
  }
  const Resources* rs[] = {&w.requested, &w.used};
  for (const Resources* r : rs) {
    if (r->vcpu < 0 || r->memory_gib < 0 || r->gpus < 0) {
      return InvalidArgumentError(path + ": resources must be >= 0");
    }
  }
  if (w.inferences_per_second < 0) {
    return InvalidArgumentError(path + ".inferences_per_second: must be >= 0");
  }
  return OkStatus();
}

}  // namespace

UnitPrices SplitPrice(const InstanceType& type, bool spot) {
  const double ref = type.vcpu * kRefVcpu + type.memory_gib * kRefGib + type.gpus * kRefGpu;
  const double scale = ref > 0.0 ? type.PricePerHour(spot) / ref : 0.0;
  return {kRefVcpu * scale, kRefGib * scale, kRefGpu * scale};
}

namespace {

// Unit prices per pool; adds the pools' cost to report.total_per_hour.
Result<std::vector<UnitPrices>> PricePools(const InstanceCatalog& catalog,
                                           std::span<const NodePool> pools, CostReport& report) {
  std::vector<UnitPrices> prices;
  for (size_t i = 0; i < pools.size(); ++i) {
    const std::string path = "pools[" + std::to_string(i) + "]";
    auto type = catalog.Find(pools[i].instance);
    if (!type.ok()) {
      return InvalidArgumentError(path + ".instance: " + type.status().message());
    }
    if (pools[i].count < 0) {
      return InvalidArgumentError(path + ".count: must be >= 0");
    }
    prices.push_back(SplitPrice(*type, pools[i].spot));
    report.total_per_hour += pools[i].count * type->PricePerHour(pools[i].spot);
  }
  return prices;
}

// max(requested, used) per resource, times the replica count.
Resources BilledResources(const Workload& w) {
  return {Billed(w.requested.vcpu, w.used.vcpu) * w.replicas,
          Billed(w.requested.memory_gib, w.used.memory_gib) * w.replicas,
          Billed(w.requested.gpus, w.used.gpus) * w.replicas};
}

}  // namespace

Result<CostReport> AllocateCost(const InstanceCatalog& catalog, std::span<const NodePool> pools,
                                std::span<const Workload> workloads) {
  CostReport report;
  ASSIGN_OR_RETURN(std::vector<UnitPrices> prices, PricePools(catalog, pools, report));
  std::map<std::string, size_t> index;
  std::vector<double> rate;  // inferences/s per model
  for (size_t i = 0; i < workloads.size(); ++i) {
    const Workload& w = workloads[i];
    RETURN_IF_ERROR(ValidateWorkload(w, i, pools.size()));
    const UnitPrices& p = prices[w.pool];
    const Resources b = BilledResources(w);
    auto [it, fresh] = index.emplace(w.model, report.models.size());
    if (fresh) {
      report.models.push_back({w.model, 0.0, 0.0, {}});
      rate.push_back(0.0);
    }
    ModelCost& m = report.models[it->second];
    m.per_hour +=
        b.vcpu * p.per_vcpu_hour + b.memory_gib * p.per_gib_hour + b.gpus * p.per_gpu_hour;
    m.billed = {m.billed.vcpu + b.vcpu, m.billed.memory_gib + b.memory_gib, m.billed.gpus + b.gpus};
    rate[it->second] += w.inferences_per_second;
  }
  for (size_t i = 0; i < report.models.size(); ++i) {
    ModelCost& m = report.models[i];
    const double per_hour_inferences = rate[i] * 3600.0;
    m.per_million_inferences =
        per_hour_inferences > 0 ? m.per_hour / per_hour_inferences * 1e6 : 0.0;
    report.allocated_per_hour += m.per_hour;
  }
  report.idle_per_hour = report.total_per_hour - report.allocated_per_hour;
  return report;
}

Result<BudgetStatus> EvaluateBudget(const BudgetOptions& options, double spent,
                                    double hours_elapsed, double hours_in_month,
                                    double per_hour_now) {
  if (!(options.monthly_limit > 0)) {
    return InvalidArgumentError("monthly_limit: must be > 0");
  }
  for (double t : options.thresholds) {
    if (!(t > 0)) {
      return InvalidArgumentError("thresholds: each must be > 0");
    }
  }
  if (!(hours_in_month > 0) || hours_elapsed < 0 || hours_elapsed > hours_in_month) {
    return InvalidArgumentError("hours_elapsed: must be within [0, hours_in_month], month > 0");
  }
  if (spent < 0 || per_hour_now < 0) {
    return InvalidArgumentError("spent: amounts must be >= 0");
  }
  BudgetStatus st;
  st.spent = spent;
  st.projected_month_end = spent + per_hour_now * (hours_in_month - hours_elapsed);
  std::vector<double> sorted = options.thresholds;
  std::sort(sorted.begin(), sorted.end());
  for (double t : sorted) {
    if (spent >= t * options.monthly_limit) {
      st.alerts.push_back({t, false});
    }
  }
  for (double t : sorted) {
    const double amount = t * options.monthly_limit;
    if (spent < amount && st.projected_month_end >= amount) {
      st.alerts.push_back({t, true});
    }
  }
  return st;
}

}  // namespace hotpath::scale
