#include "scale/simulator.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "scale/forecast.h"
#include "scale/internal/fleet.h"
#include "scale/internal/stats.h"
#include "scale/svg_plot.h"

namespace hotpath::scale {

namespace {

constexpr double kLn100 = 4.605170185988092;  // ln(100): p99 of an exponential
constexpr double kMaxRho = 0.99;

Status ValidateSimOptions(const Trace& trace, const SimulationOptions& o) {
  if (trace.step_s <= 0 || trace.rps.empty()) {
    return InvalidArgumentError("trace: empty");
  }
  if (!(o.replica.capacity_rps > 0)) {
    return InvalidArgumentError("capacity_rps: must be > 0");
  }
  if (!(o.replica.cold_start_s >= 0)) {
    return InvalidArgumentError("cold_start_s: must be >= 0");
  }
  if (!(o.slo_p99_ms > 0)) {
    return InvalidArgumentError("slo_p99_ms: must be > 0");
  }
  if (!(o.max_drop_fraction >= 0 && o.max_drop_fraction <= 1)) {
    return InvalidArgumentError("max_drop_fraction: must be within [0, 1]");
  }
  if (!(o.replica.instance.on_demand_per_hour > 0)) {
    return InvalidArgumentError("instance.on_demand_per_hour: must be > 0 (pick a catalog type)");
  }
  if (!(o.max_queue_s > 0)) {
    return InvalidArgumentError("max_queue_s: must be > 0");
  }
  if (!(o.interruption_notice_s >= 0)) {
    return InvalidArgumentError("interruption_notice_s: must be >= 0");
  }
  if (!(o.history_s >= 0) || std::fmod(o.history_s, trace.step_s) != 0.0) {
    return InvalidArgumentError("history_s: must be a multiple of the trace step");
  }
  if (o.history_s + trace.step_s > trace.DurationS()) {
    return InvalidArgumentError("history_s: leaves no trace to simulate");
  }
  return OkStatus();
}

// The fluid backlog in front of the serving replicas.
struct QueueModel {
  double backlog = 0.0;  // requests waiting

  struct Step {
    double served = 0.0;
    double dropped = 0.0;
    double p99_ms = 0.0;
  };

  // Advances one second with `arrivals` requests and `serving` replicas.
  Step Advance(double arrivals, int serving, const SimulationOptions& o) {
    const double mu = o.replica.capacity_rps, cap = serving * mu;
    Step s;
    const double work = backlog + arrivals;
    s.served = std::min(work, cap);
    backlog = work - s.served;
    const double limit = cap * o.max_queue_s;
    if (backlog > limit) {
      s.dropped = backlog - limit, backlog = limit;
    }
    if (serving == 0) {
      s.p99_ms = o.max_queue_s * 1000.0;
      return s;
    }
    const double rho = std::min(arrivals / cap, kMaxRho);
    s.p99_ms = 1000.0 * (kLn100 / (mu * (1.0 - rho)) + backlog / cap);
    return s;
  }
};

// Rolls a Holt-Winters forecaster forward over the simulated demand.
class DemandForecast {
 public:
  static Result<std::unique_ptr<DemandForecast>> Create(const Trace& trace, double history_s,
                                                        const PredictiveConfig& p) {
    const int step = p.forecast_step_s;
    if (step % trace.step_s != 0) {
      return InvalidArgumentError(
          "predictive.forecast_step_s: must be a multiple of the trace step");
    }
    if (std::fmod(history_s, step) != 0.0 || history_s < 2 * 86400.0) {
      return InvalidArgumentError(
          "history_s: a predictive policy needs >= 2 days of history, "
          "a multiple of predictive.forecast_step_s");
    }
    const auto history = SplitTrace(trace, static_cast<size_t>(history_s / trace.step_s)).first;
    ASSIGN_OR_RETURN(Trace coarse, Resample(history, step));
    ForecastOptions fo;
    fo.day_period = 86400 / step;
    fo.week_period = history_s >= 14 * 86400.0 ? 7 * fo.day_period : 0;
    ASSIGN_OR_RETURN(auto hw, HoltWinters::Fit(fo, coarse.rps));
    auto f = std::unique_ptr<DemandForecast>(new DemandForecast(std::move(hw), step, p.use_upper));
    f->observed_ = coarse.rps.size();
    return f;
  }

  // Adds the next second of demand.
  void Record(double rps) {
    sum_ += rps;
    if (++seconds_ < step_) {
      return;
    }
    model_->Observe(sum_ / step_);
    ++observed_;
    sum_ = 0.0;
    seconds_ = 0;
  }

  // Forecast demand for the step containing absolute trace time t_abs.
  double At(double t_abs) const {
    const long bucket = static_cast<long>(std::floor(t_abs / step_));
    const int h = static_cast<int>(std::max<long>(1, bucket - static_cast<long>(observed_) + 1));
    const ForecastPoint p = model_->Forecast(h);
    return upper_ ? p.upper : p.mean;
  }

 private:
  DemandForecast(std::unique_ptr<HoltWinters> m, int step, bool upper)
      : model_(std::move(m)), step_(step), upper_(upper) {}

  std::unique_ptr<HoltWinters> model_;
  int step_;
  bool upper_;
  size_t observed_ = 0;
  double sum_ = 0.0;
  int seconds_ = 0;
};

// Collects one minute of per-second samples.
struct MinuteAccumulator {
  std::vector<double> p99, weight;
  double demand = 0, capacity = 0, replicas = 0, spot = 0, forecast = 0, dropped = 0, cost = 0;

  MinuteStats Close(double t_s, const SimulationOptions& o) {
    const double n = static_cast<double>(p99.size());
    MinuteStats m;
    m.t_s = t_s;
    m.demand_rps = demand / n;
    m.capacity_rps = capacity / n;
    m.replicas = replicas / n;
    m.spot_replicas = spot / n;
    m.forecast_rps = forecast / n;
    m.p99_ms = internal::WeightedQuantile(p99, weight, 0.99);
    m.drop_fraction = demand > 0 ? dropped / demand : 0.0;
    m.cost = cost;
    m.violated = m.p99_ms > o.slo_p99_ms || m.drop_fraction > o.max_drop_fraction;
    *this = MinuteAccumulator();
    return m;
  }
};

class Run {
 public:
  Run(const Trace& trace, const PolicyConfig& policy, const SimulationOptions& o)
      : trace_(trace),
        policy_(policy),
        o_(o),
        fleet_({o.replica.cold_start_s, o.interruption_notice_s, o.replica.instance, o.seed}) {}

  Status Init();
  SimulationReport Execute();

 private:
  double DemandAt(double t_abs) const {
    const size_t i = std::min(static_cast<size_t>(t_abs / trace_.step_s), trace_.rps.size() - 1);
    return trace_.rps[i];
  }
  void Tick(double t);

  const Trace& trace_;
  PolicyConfig policy_;
  SimulationOptions o_;
  internal::Fleet fleet_;
  std::unique_ptr<Autoscaler> scaler_;
  std::unique_ptr<DemandForecast> forecast_;
  QueueModel queue_;
  MinuteAccumulator minute_;
  SimulationReport report_;
  int desired_ = 0, spot_target_ = 0;
  double last_forecast_ = 0.0;
};

Status Run::Init() {
  const double target = policy_.target_utilization * o_.replica.capacity_rps;
  const size_t first = static_cast<size_t>(o_.history_s / trace_.step_s);
  if (policy_.mode == PolicyMode::kStatic) {
    const double peak = *std::max_element(trace_.rps.begin() + first, trace_.rps.end());
    desired_ = policy_.static_replicas > 0
                   ? policy_.static_replicas
                   : std::max(1, static_cast<int>(std::ceil(peak / target)));
    fleet_.Warm(0.0, desired_, 0);
    return OkStatus();
  }
  ASSIGN_OR_RETURN(scaler_, Autoscaler::Create(policy_, o_.replica));
  if (policy_.predictive.enabled) {
    ASSIGN_OR_RETURN(forecast_, DemandForecast::Create(trace_, o_.history_s, policy_.predictive));
  }
  desired_ = std::clamp(static_cast<int>(std::ceil(trace_.rps[first] / target)),
                        std::max(policy_.min_replicas, 1), policy_.max_replicas);
  spot_target_ = SpotReplicas(policy_.spot, o_.replica, policy_.target_utilization, desired_);
  fleet_.Warm(0.0, desired_, spot_target_);
  return OkStatus();
}

void Run::Tick(double t) {
  const double t_abs = o_.history_s + t;
  const double rps = DemandAt(t_abs);
  fleet_.Advance(t);
  if (scaler_ && scaler_->Due(t)) {
    std::optional<double> f;
    if (forecast_) {
      f = last_forecast_ = forecast_->At(t_abs + scaler_->LeadSeconds());
    }
    const ScaleDecision d = scaler_->Decide(t, {fleet_.Active(), fleet_.Ready(t)}, f);
    desired_ = d.replicas;
    spot_target_ = d.spot_replicas;
  }
  fleet_.Reconcile(t, desired_, spot_target_);
  const int serving = fleet_.Serving(t);
  const QueueModel::Step q = queue_.Advance(rps, serving, o_);
  if (scaler_) {
    scaler_->RecordDemand(t, rps);
  }
  if (forecast_) {
    forecast_->Record(rps);
  }
  const int active = fleet_.Active();
  const double cost = fleet_.CostPerSecond();
  report_.cost += cost;
  report_.requests += rps;
  report_.dropped_requests += q.dropped;
  report_.mean_replicas += active;
  report_.peak_replicas = std::max(report_.peak_replicas, active);
  minute_.p99.push_back(q.p99_ms);
  minute_.weight.push_back(rps);
  minute_.demand += rps, minute_.capacity += serving * o_.replica.capacity_rps;
  minute_.replicas += active, minute_.spot += fleet_.Spot(), minute_.forecast += last_forecast_;
  minute_.dropped += q.dropped, minute_.cost += cost;
}

SimulationReport Run::Execute() {
  const long seconds = static_cast<long>(trace_.DurationS() - o_.history_s);
  report_.policy = policy_.name;
  for (long s = 0; s < seconds; ++s) {
    Tick(static_cast<double>(s));
    if ((s + 1) % 60 == 0 || s + 1 == seconds) {
      report_.timeline.push_back(
          minute_.Close(std::floor(static_cast<double>(s) / 60.0) * 60.0, o_));
    }
  }
  report_.minutes = static_cast<int>(report_.timeline.size());
  for (const auto& m : report_.timeline) {
    report_.slo_violation_minutes += m.violated ? 1 : 0;
  }
  report_.mean_replicas /= static_cast<double>(std::max<long>(seconds, 1));
  const double served = report_.requests - report_.dropped_requests;
  report_.cost_per_million_requests = served > 0 ? report_.cost / served * 1e6 : 0.0;
  report_.spot_interruptions = fleet_.Interruptions();
  return std::move(report_);
}

}  // namespace

Result<SimulationReport> Simulate(const Trace& trace, const PolicyConfig& policy,
                                  const SimulationOptions& options) {
  RETURN_IF_ERROR(ValidateSimOptions(trace, options));
  RETURN_IF_ERROR(ValidatePolicyConfig(policy));
  Run run(trace, policy, options);
  RETURN_IF_ERROR(run.Init());
  return run.Execute();
}

std::string ReportSummaryJson(const SimulationReport& r) {
  nlohmann::json j = {{"policy", r.policy},
                      {"minutes", r.minutes},
                      {"slo_violation_minutes", r.slo_violation_minutes},
                      {"cost", r.cost},
                      {"cost_per_million_requests", r.cost_per_million_requests},
                      {"mean_replicas", r.mean_replicas},
                      {"peak_replicas", r.peak_replicas},
                      {"requests", r.requests},
                      {"dropped_requests", r.dropped_requests},
                      {"spot_interruptions", r.spot_interruptions}};
  return j.dump();
}

Status WriteTimelineCsv(const SimulationReport& r, const std::string& path) {
  std::ofstream out(path);
  if (!out) {
    return InternalError("cannot write timeline to '" + path + "'");
  }
  out << "t_s,demand_rps,capacity_rps,replicas,spot_replicas,forecast_rps,p99_ms,drop_fraction,"
         "cost,violated\n";
  for (const MinuteStats& m : r.timeline) {
    out << m.t_s << ',' << m.demand_rps << ',' << m.capacity_rps << ',' << m.replicas << ','
        << m.spot_replicas << ',' << m.forecast_rps << ',' << m.p99_ms << ',' << m.drop_fraction
        << ',' << m.cost << ',' << (m.violated ? 1 : 0) << '\n';
  }
  return out ? OkStatus() : InternalError("short write to '" + path + "'");
}

namespace {

// Merges violated minutes into contiguous shaded ranges, in hours.
std::vector<std::pair<double, double>> ViolatedRanges(const SimulationReport& r) {
  std::vector<std::pair<double, double>> out;
  for (const MinuteStats& m : r.timeline) {
    if (!m.violated) {
      continue;
    }
    const double from = m.t_s / 3600.0, to = (m.t_s + 60.0) / 3600.0;
    if (!out.empty() && std::abs(out.back().second - from) < 1e-9) {
      out.back().second = to;
    } else {
      out.emplace_back(from, to);
    }
  }
  return out;
}

}  // namespace

Status WriteTimelineSvg(const SimulationReport& r, const std::string& path) {
  std::vector<double> hours;
  Series demand{"demand", "#1f77b4", {}}, capacity{"capacity", "#2ca02c", {}};
  Series forecast{"forecast", "#ff7f0e", {}};
  Series replicas{"replicas", "#9467bd", {}}, spot{"spot replicas", "#8c564b", {}};
  for (const MinuteStats& m : r.timeline) {
    hours.push_back(m.t_s / 3600.0);
    demand.y.push_back(m.demand_rps);
    capacity.y.push_back(m.capacity_rps);
    forecast.y.push_back(m.forecast_rps > 0 ? m.forecast_rps : NAN);
    replicas.y.push_back(m.replicas);
    spot.y.push_back(m.spot_replicas);
  }
  const auto shaded = ViolatedRanges(r);
  SvgPlot plot("policy " + r.policy + ": " + std::to_string(r.slo_violation_minutes) +
                             " SLO-violation minutes (shaded)",
                         std::move(hours), "hours");
  plot.AddPanel(
      {"requests/s", {std::move(demand), std::move(capacity), std::move(forecast)}, shaded});
  plot.AddPanel({"replicas", {std::move(replicas), std::move(spot)}, shaded});
  std::ofstream out(path);
  if (!out) {
    return InternalError("cannot write plot to '" + path + "'");
  }
  out << plot.Render();
  return out ? OkStatus() : InternalError("short write to '" + path + "'");
}

}  // namespace hotpath::scale
