// bench_planner: the planning side of hotpath measured end to end.
//
//  1. Forecast MAPE: fit on 3 weeks of a diurnal + weekly trace with 5% noise
//     (5-minute points), forecast the following week, compare with actuals.
//  2. Anomaly precision/recall on flash spikes injected into the 4th week.
//  3. Three traces (diurnal, weekly, flash spikes) through the fleet simulator
//     under static peak provisioning, Kubernetes' HPA with default behaviour,
//     and hotpath's policy: SLO-violation minutes and cost for each.
//
// Usage: bench_planner [--catalog PATH] [--instance NAME] [--seed N] [--out DIR]
//                      [--cold-start-s S] [--notice-s S]
// Progress goes to stderr; the last stdout line is one JSON object.
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "scale/anomaly.h"
#include "scale/catalog.h"
#include "scale/forecast.h"
#include "scale/simulator.h"
#include "scale/synthetic_trace.h"

namespace hotpath::scale {
namespace {

constexpr size_t kDay = 288;  // 5-minute points per day

struct Args {
  std::string catalog;
  std::string instance = "c7i.2xlarge";
  uint64_t seed = 42;
  std::string out;             // when set, CSV and SVG per trace and policy go here
  double cold_start_s = 90.0;  // node + container + model warm-up
  double notice_s = 120.0;     // spot reclaim warning (AWS: 120 s; GCP, Azure: 30 s)
};

// Shared demand shape: weekday peak 1.6× and night trough ~0.5× the mean.
SyntheticTraceOptions Shape(int step_s, double days, double weekend_dip, uint64_t seed) {
  SyntheticTraceOptions o;
  o.step_s = step_s;
  o.days = days;
  o.base_rps = 5000.0;
  o.daily_amplitude = 0.6;
  o.weekend_dip = weekend_dip;
  o.noise_fraction = 0.05;
  o.seed = seed;
  return o;
}

ForecastOptions FiveMinuteWeekly() {
  ForecastOptions f;
  f.day_period = 288;
  f.week_period = 2016;
  return f;
}

Result<double> MeasureMape(uint64_t seed) {
  const SyntheticTrace t = GenerateTrace(Shape(300, 28, 0.35, seed));
  const size_t history = 21 * kDay;
  ASSIGN_OR_RETURN(auto hw,
                   HoltWinters::Fit(FiveMinuteWeekly(), std::span(t.trace.rps).first(history)));
  double sum = 0.0;
  const int horizon = static_cast<int>(7 * kDay);
  for (int h = 1; h <= horizon; ++h) {
    const double actual = t.trace.rps[history + h - 1];
    sum += std::abs(hw->Forecast(h).mean - actual) / actual;
  }
  std::cerr << "forecast: alpha=" << hw->params().alpha << " beta=" << hw->params().beta
            << " gamma_day=" << hw->params().gamma_day << " gamma_week=" << hw->params().gamma_week
            << '\n';
  return sum / horizon;
}

Result<DetectionScore> MeasureAnomalies(uint64_t seed) {
  SyntheticTraceOptions o = Shape(300, 28, 0.35, seed + 1);
  o.spikes = 30;
  o.spike_min_factor = 1.3;
  o.spike_max_factor = 3.0;
  o.spike_min_steps = 1;
  o.spike_max_steps = 3;
  o.spikes_after_days = 21;
  const SyntheticTrace t = GenerateTrace(o);
  const size_t history = 21 * kDay;
  ASSIGN_OR_RETURN(auto hw,
                   HoltWinters::Fit(FiveMinuteWeekly(), std::span(t.trace.rps).first(history)));
  ASSIGN_OR_RETURN(auto found, DetectAnomalies(*hw, std::span(t.trace.rps).subspan(history), {}));
  return ScoreDetections(found, std::vector<bool>(t.spike.begin() + history, t.spike.end()));
}

struct Scenario {
  std::string name;
  Trace trace;
  double history_days;
};

// Minute-resolution traces: history for the forecaster, then the simulated days.
std::vector<Scenario> Scenarios(uint64_t seed) {
  std::vector<Scenario> out;
  SyntheticTraceOptions diurnal = Shape(60, 14 + 2, 0.0, seed + 10);
  diurnal.noise_fraction = 0.03;
  out.push_back({"diurnal", GenerateTrace(diurnal).trace, 14});
  SyntheticTraceOptions weekly = Shape(60, 21 + 7, 0.35, seed + 11);
  weekly.noise_fraction = 0.03;
  out.push_back({"weekly", GenerateTrace(weekly).trace, 21});
  SyntheticTraceOptions flash = Shape(60, 21 + 3, 0.35, seed + 12);
  flash.noise_fraction = 0.03;
  flash.spikes = 8;  // unforecastable: all in the simulated 3 days
  flash.spikes_after_days = 21;
  flash.spike_min_factor = 1.8;
  flash.spike_max_factor = 3.0;
  flash.spike_min_steps = 2;
  flash.spike_max_steps = 10;
  out.push_back({"flash", GenerateTrace(flash).trace, 21});
  return out;
}

// Not part of the headline figures: bursts that recur daily at 09:00 and
// 18:00 (forecastable), where the predictive part is expected to matter.
Scenario ScheduledScenario(uint64_t seed) {
  SyntheticTraceOptions o = Shape(60, 21 + 3, 0.35, seed + 13);
  o.noise_fraction = 0.03;
  o.daily_bursts = {{9.0, 20.0, 2.0}, {18.0, 15.0, 1.8}};
  return {"scheduled", GenerateTrace(o).trace, 21};
}

struct PolicyResult {
  SimulationReport report;
  std::string trace;
};

std::vector<PolicyConfig> Policies() {
  PolicyConfig stat = PolicyConfig::StaticPeak();
  PolicyConfig k8s = PolicyConfig::Kubernetes();
  PolicyConfig hot = PolicyConfig::Hotpath();
  PolicyConfig hot_od = PolicyConfig::Hotpath();
  hot_od.name = "hotpath_on_demand";
  hot_od.spot.enabled = false;
  for (PolicyConfig* p : {&stat, &k8s, &hot, &hot_od}) {
    p->target_utilization = 0.7;
  }
  return {stat, k8s, hot, hot_od};
}

Status MaybeWrite(const Args& args, const Scenario& s, const SimulationReport& r) {
  if (args.out.empty()) {
    return OkStatus();
  }
  std::error_code ec;
  std::filesystem::create_directories(args.out, ec);
  if (ec) {
    return InternalError("--out: cannot create '" + args.out + "': " + ec.message());
  }
  const std::string base = args.out + "/" + s.name + "_" + r.policy;
  RETURN_IF_ERROR(WriteTimelineCsv(r, base + ".csv"));
  return WriteTimelineSvg(r, base + ".svg");
}

// Parses a whole string as a number of type T.
template <typename T>
Status ParseNumber(const std::string& flag, const std::string& v, T& out) {
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec == std::errc() && ptr == v.data() + v.size()) {
    return OkStatus();
  }
  return InvalidArgumentError(flag + ": expected a number, got '" + v + "'");
}

Status ApplyFlag(const std::string& flag, const std::string& v, Args& a) {
  if (flag == "--catalog") {
    a.catalog = v;
  } else if (flag == "--instance") {
    a.instance = v;
  } else if (flag == "--out") {
    a.out = v;
  } else if (flag == "--seed") {
    return ParseNumber(flag, v, a.seed);
  } else if (flag == "--cold-start-s") {
    return ParseNumber(flag, v, a.cold_start_s);
  } else if (flag == "--notice-s") {
    return ParseNumber(flag, v, a.notice_s);
  } else {
    return InvalidArgumentError("unknown flag " + flag);
  }
  return OkStatus();
}

Result<Args> ParseArgs(int argc, char** argv) {
  Args a;
  std::error_code ec;
  a.catalog = std::filesystem::exists("examples/catalog/instances.json", ec)
                  ? "examples/catalog/instances.json"
                  : std::string(HOTPATH_SOURCE_DIR) + "/examples/catalog/instances.json";
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) {
      return InvalidArgumentError(flag + ": missing value");
    }
    RETURN_IF_ERROR(ApplyFlag(flag, argv[i + 1], a));
  }
  return a;
}

SimulationOptions SimOptions(const InstanceType& instance, const Args& args) {
  SimulationOptions o;
  o.replica.capacity_rps = 200.0;  // one replica's sustainable rate (hotpath bench)
  o.replica.cold_start_s = args.cold_start_s;
  o.replica.instance = instance;
  o.slo_p99_ms = 250.0;
  o.max_drop_fraction = 0.001;
  o.max_queue_s = 2.0;
  o.interruption_notice_s = args.notice_s;
  o.seed = args.seed;
  return o;
}

// Sums over scenarios, per policy name.
struct Totals {
  nlohmann::json per_trace = nlohmann::json::object();
  std::map<std::string, double> cost;
  std::map<std::string, int> slo;
};

Status RunScenario(const Args& args, const InstanceType& instance, const Scenario& s,
                   Totals& totals) {
  SimulationOptions o = SimOptions(instance, args);
  o.history_s = s.history_days * 86400.0;
  for (const PolicyConfig& p : Policies()) {
    auto r = Simulate(s.trace, p, o);
    if (!r.ok()) {
      return Status(r.status().code(), s.name + "/" + p.name + ": " + r.status().message());
    }
    RETURN_IF_ERROR(MaybeWrite(args, s, *r));
    std::cerr << s.name << " " << p.name << ": " << ReportSummaryJson(*r) << '\n';
    totals.per_trace[s.name][p.name] = {{"slo_violation_minutes", r->slo_violation_minutes},
                                        {"cost", r->cost},
                                        {"mean_replicas", r->mean_replicas},
                                        {"spot_interruptions", r->spot_interruptions}};
    totals.cost[p.name] += r->cost;
    totals.slo[p.name] += r->slo_violation_minutes;
  }
  return OkStatus();
}

// Forecast MAPE and anomaly scores, with progress on stderr.
Status MeasureForecasting(uint64_t seed, double& mape, DetectionScore& anomalies) {
  ASSIGN_OR_RETURN(mape, MeasureMape(seed));
  std::cerr << "forecast MAPE over the held-out week: " << mape << '\n';
  ASSIGN_OR_RETURN(anomalies, MeasureAnomalies(seed));
  std::cerr << "anomalies: precision " << anomalies.precision << " recall " << anomalies.recall
            << " (tp " << anomalies.true_positives << ", fp " << anomalies.false_positives
            << ", fn " << anomalies.false_negatives << ")\n";
  return OkStatus();
}

// The last-line JSON: headline figures over the three required traces.
nlohmann::json Summary(double mape, const DetectionScore& anomalies, Totals& t, Totals& extra) {
  auto& cost = t.cost;
  auto& slo = t.slo;
  const double vs_reactive = 1.0 - cost["hotpath"] / cost["kubernetes"];
  const double vs_static = 1.0 - cost["hotpath"] / cost["static"];
  const bool met = mape <= 0.10 && anomalies.precision >= 0.9 && anomalies.recall >= 0.9 &&
                   slo["hotpath"] <= slo["kubernetes"] && vs_reactive >= 0.25 && vs_static >= 0.40;
  return {{"mape", mape},
          {"anomaly_precision", anomalies.precision},
          {"anomaly_recall", anomalies.recall},
          {"saving_vs_reactive", vs_reactive},
          {"saving_vs_static", vs_static},
          {"saving_vs_reactive_without_spot", 1.0 - cost["hotpath_on_demand"] / cost["kubernetes"]},
          {"slo_minutes_hotpath", slo["hotpath"]},
          {"slo_minutes_reactive", slo["kubernetes"]},
          {"slo_minutes_static", slo["static"]},
          {"slo_minutes_hotpath_on_demand", slo["hotpath_on_demand"]},
          {"cost_hotpath", cost["hotpath"]},
          {"cost_reactive", cost["kubernetes"]},
          {"cost_static", cost["static"]},
          {"traces", t.per_trace},
          {"extra_scheduled_bursts", extra.per_trace["scheduled"]},
          {"goals_met", met}};
}

}  // namespace

int Main(int argc, char** argv) {
  const auto start = std::chrono::steady_clock::now();
  auto args = ParseArgs(argc, argv);
  if (!args.ok()) {
    std::cerr << args.status().ToString() << "\nusage: bench_planner [--catalog PATH] "
              << "[--instance NAME] [--seed N] [--out DIR] [--cold-start-s S] [--notice-s S]\n";
    return 2;
  }
  auto catalog = InstanceCatalog::Load(args->catalog);
  if (!catalog.ok()) {
    return std::cerr << catalog.status().ToString() << '\n', 1;
  }
  auto instance = catalog->Find(args->instance);
  if (!instance.ok()) {
    return std::cerr << instance.status().ToString() << '\n', 1;
  }

  std::cerr << "catalog " << args->catalog << ", instance " << args->instance << '\n';
  double mape = 0.0;
  DetectionScore anomalies;
  if (Status st = MeasureForecasting(args->seed, mape, anomalies); !st.ok()) {
    return std::cerr << st.ToString() << '\n', 1;
  }
  Totals headline, extra;
  for (const Scenario& s : Scenarios(args->seed)) {
    if (Status st = RunScenario(*args, *instance, s, headline); !st.ok()) {
      return std::cerr << st.ToString() << '\n', 1;
    }
  }
  if (Status st = RunScenario(*args, *instance, ScheduledScenario(args->seed), extra); !st.ok()) {
    return std::cerr << st.ToString() << '\n', 1;
  }
  nlohmann::json out = Summary(mape, anomalies, headline, extra);
  out["currency"] = catalog->currency();
  out["instance"] = args->instance;
  out["seed"] = args->seed;
  out["elapsed_s"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace hotpath::scale

int main(int argc, char** argv) {
  // Only allocation or filesystem failures can throw here; report them.
  try {
    return hotpath::scale::Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "bench_planner: " << e.what() << '\n';
    return 1;
  }
}
