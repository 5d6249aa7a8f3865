#include "serve/apps/cost_http.h"

#include <algorithm>
#include <chrono>
#include <ctime>

#include <nlohmann/json.hpp>

namespace hotpath {

Result<std::unique_ptr<CostHttpApp>> CostHttpApp::Create(const Options& options, MetricsRegistry* registry) {
  RETURN_IF_ERROR(options.catalog.Find(options.instance).status());
  if (options.replicas < 1) return InvalidArgumentError("cost: replicas must be >= 1");
  if (options.monthly_budget < 0) return InvalidArgumentError("cost: monthly_budget must be >= 0");
  std::unique_ptr<CostHttpApp> app(new CostHttpApp(options, registry));
  CostHttpApp* raw = app.get();
  RETURN_IF_ERROR(registry->AddSampled({"hotpath_cost_per_hour", "Cost of the fleet per hour (instance catalog).", {}},
                                       MetricType::kGauge, [raw] { return raw->PerHour(); }));
  app->Tick();
  return app;
}

std::map<std::string, CostHttpApp::Usage> CostHttpApp::ReadUsage() const {
  std::map<std::string, Usage> usage;
  for (const auto& [model, s] : HistogramTotals(*registry_, "hotpath_sched_compute_duration_seconds")) {
    usage[model].compute_s = s.sum;
  }
  for (const auto& [model, n] : CounterTotals(*registry_, "hotpath_sched_inferences_total")) {
    usage[model].inferences = static_cast<double>(n);
  }
  return usage;
}

void CostHttpApp::Tick() {
  std::map<std::string, Usage> now = ReadUsage();
  MutexLock l(&mu_);
  samples_.push_back(std::move(now));
  if (samples_.size() > 61) samples_.pop_front();
  const double span = static_cast<double>(samples_.size() - 1);
  rates_.clear();
  std::vector<scale::Workload> workloads;
  for (const auto& [model, u] : samples_.back()) {
    const auto it = samples_.front().find(model);
    const Usage first = it == samples_.front().end() ? Usage{} : it->second;
    const double vcpu = span > 0 ? (u.compute_s - first.compute_s) / span : 0;
    const double ips = span > 0 ? (u.inferences - first.inferences) / span : 0;
    rates_[model] = {vcpu, ips};
    scale::Workload w;
    w.model = model;
    w.used.vcpu = vcpu;  // each replica is assumed to run like this one
    w.replicas = options_.replicas;
    w.inferences_per_second = ips * options_.replicas;
    workloads.push_back(w);
  }
  const scale::NodePool pool{options_.instance, options_.spot, options_.replicas};
  Result<scale::CostReport> report = scale::AllocateCost(options_.catalog, std::span(&pool, 1), workloads);
  if (report.ok()) last_ = std::move(*report);
  if (seconds_ > 0) spent_ += last_.total_per_hour / 3600.0;
  seconds_ += 1;
}

double CostHttpApp::PerHour() const {
  MutexLock l(&mu_);
  return last_.total_per_hour;
}

std::string CostHttpApp::Report() {
  MutexLock l(&mu_);
  nlohmann::json models = nlohmann::json::array();
  for (const scale::ModelCost& m : last_.models) {
    const auto r = rates_[m.model];
    models.push_back({{"model", m.model}, {"used_vcpu", r.first}, {"inferences_per_s", r.second},
                      {"per_hour", m.per_hour}, {"per_million_inferences", m.per_million_inferences}});
  }
  nlohmann::json j = {{"instance", options_.instance}, {"replicas", options_.replicas},
                      {"total_per_hour", last_.total_per_hour}, {"idle_per_hour", last_.idle_per_hour},
                      {"models", models}};
  if (options_.monthly_budget > 0) {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const int year = tm.tm_year + 1900;
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    const double hours_in_month = 24.0 * (kDays[tm.tm_mon] + (tm.tm_mon == 1 && leap ? 1 : 0));
    const double hours_elapsed = std::max(1.0 / 3600, (tm.tm_mday - 1) * 24.0 + tm.tm_hour + tm.tm_min / 60.0);
    scale::BudgetOptions bo;
    bo.monthly_limit = options_.monthly_budget;
    Result<scale::BudgetStatus> b = scale::EvaluateBudget(bo, spent_, std::min(hours_elapsed, hours_in_month),
                                                          hours_in_month, last_.total_per_hour);
    if (b.ok()) {
      nlohmann::json alerts = nlohmann::json::array();
      for (const auto& a : b->alerts) alerts.push_back({{"threshold", a.threshold}, {"forecasted", a.forecasted}});
      j["budget"] = {{"monthly_limit", options_.monthly_budget}, {"spent_since_start", b->spent},
                     {"projected_month_end", b->projected_month_end}, {"alerts", alerts}};
    }
  }
  return j.dump();
}

bool CostHttpApp::Handle(const HttpAppRequest& r, Respond respond) {
  if (r.path != "/v1/cost") return false;
  if (r.method != "GET") {
    respond(JsonError(405, "use GET for /v1/cost"));
  } else {
    respond({200, "application/json", Report()});
  }
  return true;
}

}  // namespace hotpath
