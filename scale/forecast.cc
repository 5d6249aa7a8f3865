#include "scale/forecast.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "scale/internal/stats.h"

namespace hotpath::scale {

namespace {

constexpr double kMadToSigma = 1.4826;
constexpr double kTiny = 1e-9;

bool Multiplicative(const ForecastOptions& o) {
  return o.seasonality == Seasonality::kMultiplicative;
}

// φ + φ² + … + φ^h: how much of the trend reaches h steps ahead.
double DampSum(double phi, int h) {
  double sum = 0.0, power = 1.0;
  for (int j = 1; j <= h; ++j) {
    sum += (power *= phi);
  }
  return sum;
}

double Mean(std::span<const double> v) {
  return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

// Normalises a seasonal vector to mean 1 (multiplicative) or mean 0 (additive).
void Normalize(std::vector<double>& s, bool mult) {
  const double m = Mean(s);
  for (double& x : s) {
    x = mult ? (m > kTiny ? x / m : 1.0) : x - m;
  }
}

Status ValidateOptions(const ForecastOptions& o, std::span<const double> history) {
  if (o.day_period < 2) {
    return InvalidArgumentError("day_period: must be >= 2");
  }
  if (o.week_period < 0 || (o.week_period > 0 && o.week_period % o.day_period != 0)) {
    return InvalidArgumentError("week_period: must be 0 or a multiple of day_period");
  }
  if (!(o.damping > 0.0 && o.damping <= 1.0)) {
    return InvalidArgumentError("damping: must be in (0, 1]");
  }
  if (!(o.interval_coverage > 0.0 && o.interval_coverage < 1.0)) {
    return InvalidArgumentError("interval_coverage: must be in (0, 1)");
  }
  if (o.robust_k < 0.0) {
    return InvalidArgumentError("robust_k: must be >= 0");
  }
  const size_t need = 2 * static_cast<size_t>(std::max(o.day_period, o.week_period));
  if (history.size() < need) {
    return InvalidArgumentError("history: " + std::to_string(history.size()) +
                                " points, need at least " + std::to_string(need) +
                                " (two of the longest cycle)");
  }
  for (double y : history) {
    if (!std::isfinite(y) || y < 0.0) {
      return InvalidArgumentError("history: values must be finite and >= 0");
    }
  }
  if (Multiplicative(o) && Mean(history) <= kTiny) {
    return InvalidArgumentError("history: all zero; multiplicative seasonality needs demand");
  }
  if (o.params) {
    const auto& p = *o.params;
    const bool ok = p.alpha > 0 && p.alpha < 1 && p.beta >= 0 && p.beta < 1 && p.gamma_day >= 0 &&
                    p.gamma_day < 1 && p.gamma_week >= 0 && p.gamma_week < 1;
    if (!ok) {
      return InvalidArgumentError("params: alpha in (0,1), beta and gammas in [0,1)");
    }
  }
  return OkStatus();
}

// The value the state is updated with: y, or the forecast ± clip when the
// residual r lies beyond the clip (clip <= 0 disables clipping).
double Clipped(bool mult, double y, double f, double r, double clip) {
  if (clip <= 0.0 || std::abs(r) <= clip) {
    return y;
  }
  const double rc = r > 0 ? clip : -clip;
  return mult ? f * (1.0 + rc) : f + rc;
}

// The smallest residual scale used for clipping and z-scores: 0.1% of the
// level, so a noise-free history still clips outliers instead of disabling it.
double ScaleFloor(const ForecastOptions& o, std::span<const double> history) {
  return Multiplicative(o) ? 1e-3 : 1e-3 * std::max(Mean(history), kTiny);
}

// 1.4826·MAD of the residuals, at least `floor`.
double RobustScale(std::span<const double> res, double floor) {
  return std::max(kMadToSigma * internal::MedianAbsDeviation(res), floor);
}

// Drops residuals from inside the initialisation window, which are optimistic
// (the state was built from those points), when a day of later ones remains.
void TrimInitWindow(const ForecastOptions& o, std::vector<double>& res) {
  const size_t day = static_cast<size_t>(o.day_period);
  const size_t skip = 2 * static_cast<size_t>(std::max(o.day_period, o.week_period)) - day;
  if (res.size() >= skip + day) {
    res.erase(res.begin(), res.begin() + static_cast<std::ptrdiff_t>(skip));
  }
}

// Running median of a circular series over ±half points; unlike a mean it
// keeps steps (a weekend starting at midnight) sharp.
std::vector<double> CircularMedian(const std::vector<double>& v, size_t half) {
  std::vector<double> out(v.size()), window(2 * half + 1);
  for (size_t j = 0; j < v.size(); ++j) {
    for (size_t k = 0; k <= 2 * half; ++k) {
      window[k] = v[(j + v.size() + k - half) % v.size()];
    }
    out[j] = internal::Median(window);
  }
  return out;
}

std::vector<HoltWintersParams> ParameterGrid(bool weekly) {
  const double alphas[] = {0.02, 0.05, 0.1, 0.2, 0.35};
  const double betas[] = {0.0, 0.005, 0.02};
  const double gammas[] = {0.02, 0.05, 0.1, 0.2, 0.35};
  std::vector<HoltWintersParams> grid;
  for (double a : alphas) {
    for (double b : betas) {
      for (double gd : gammas) {
        if (!weekly) {
          grid.push_back({a, b, gd, 0.0});
          continue;
        }
        for (double gw : gammas) {
          grid.push_back({a, b, gd, gw});
        }
      }
    }
  }
  return grid;
}

}  // namespace

HoltWinters::HoltWinters(const ForecastOptions& options, const HoltWintersParams& params,
                         State state)
    : options_(options), params_(params), state_(std::move(state)) {}

HoltWinters::State HoltWinters::Initialize(const ForecastOptions& o, std::span<const double> y) {
  const bool mult = Multiplicative(o);
  const size_t m1 = static_cast<size_t>(o.day_period);
  const size_t cycle = o.week_period > 0 ? static_cast<size_t>(o.week_period) : m1;
  const size_t n = 2 * cycle;
  State s;
  // Linear trend line through the means of the first two cycles.
  const double c1 = Mean(y.subspan(0, cycle)), c2 = Mean(y.subspan(cycle, cycle));
  s.trend = (c2 - c1) / static_cast<double>(cycle);
  auto line = [&](size_t t) { return c1 + s.trend * (static_cast<double>(t) - (cycle - 1) / 2.0); };
  auto detrend = [&](size_t t) {
    return mult ? (line(t) > kTiny ? y[t] / line(t) : 1.0) : y[t] - line(t);
  };
  s.level = line(0) - s.trend;  // the state before the first point
  // Daily profile: detrended values averaged per phase over every day.
  s.day.assign(m1, 0.0);
  for (size_t t = 0; t < n; ++t) {
    s.day[t % m1] += detrend(t) * static_cast<double>(m1) / n;
  }
  Normalize(s.day, mult);
  s.week.assign(o.week_period > 0 ? cycle : 1, mult ? 1.0 : 0.0);
  if (o.week_period == 0) {
    return s;
  }
  // Weekly component: what is left after trend and day profile, averaged over
  // both weeks per phase, then a running median over an hour damps the noise.
  std::vector<double> raw(cycle, 0.0);
  for (size_t t = 0; t < n; ++t) {
    const double d = s.day[t % m1], r = detrend(t);
    raw[t % cycle] += (mult ? (d > kTiny ? r / d : 1.0) : r - d) / 2.0;
  }
  s.week = CircularMedian(raw, m1 / 48);  // half an hour each side
  Normalize(s.week, mult);
  return s;
}

double HoltWinters::Ahead(const ForecastOptions& o, const State& s, size_t h, double damp_sum) {
  const size_t idx = s.t + h - 1;
  const double d = s.day[idx % s.day.size()], w = s.week[idx % s.week.size()];
  const double base = s.level + damp_sum * s.trend;
  return Multiplicative(o) ? std::max(0.0, base * d * w) : std::max(0.0, base + d + w);
}

void HoltWinters::Update(const ForecastOptions& o, const HoltWintersParams& p, double y, State& s) {
  double& d = s.day[s.t % s.day.size()];
  double& w = s.week[s.t % s.week.size()];
  const bool mult = Multiplicative(o);
  const double prev = s.level, base = s.level + o.damping * s.trend;
  if (mult) {
    s.level = std::max(kTiny, p.alpha * y / std::max(d * w, kTiny) + (1 - p.alpha) * base);
    const double d_old = d;
    d = p.gamma_day * y / std::max(s.level * w, kTiny) + (1 - p.gamma_day) * d;
    if (s.week.size() > 1) {
      w = p.gamma_week * y / std::max(s.level * d_old, kTiny) + (1 - p.gamma_week) * w;
    }
  } else {
    s.level = p.alpha * (y - d - w) + (1 - p.alpha) * base;
    const double d_old = d;
    d = p.gamma_day * (y - s.level - w) + (1 - p.gamma_day) * d;
    if (s.week.size() > 1) {
      w = p.gamma_week * (y - s.level - d_old) + (1 - p.gamma_week) * w;
    }
  }
  s.trend = p.beta * (s.level - prev) + (1 - p.beta) * o.damping * s.trend;
  ++s.t;
  if (s.t % s.day.size() == 0) {
    Renormalize(o, s);
  }
}

void HoltWinters::Renormalize(const ForecastOptions& o, State& s) {
  // Level and seasonal factors can drift in opposite directions while their
  // product stays put (Archibald & Koehler 2003); pull the seasonal means
  // back to 1 (or 0) and move the difference into the level.
  for (std::vector<double>* season : {&s.day, &s.week}) {
    if (season->size() < 2) {
      continue;
    }
    const double m = Mean(*season);
    if (Multiplicative(o)) {
      if (m <= kTiny) {
        continue;
      }
      for (double& x : *season) {
        x /= m;
      }
      s.level *= m;
      s.trend *= m;
    } else {
      for (double& x : *season) {
        x -= m;
      }
      s.level += m;
    }
  }
}

HoltWinters::FilterErrors HoltWinters::Filter(const ForecastOptions& o, const HoltWintersParams& p,
                                              std::span<const double> y, double clip, State& s,
                                              std::vector<double>* res) {
  const bool mult = Multiplicative(o);
  const size_t day = static_cast<size_t>(o.day_period);
  const double day_damp = DampSum(o.damping, o.day_period);
  std::vector<double> ahead(day, -1.0);  // day-ahead forecasts, by index mod day
  double one_sum = 0.0, day_sum = 0.0;
  size_t one_n = 0, day_n = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    const double f = Ahead(o, s, 1, o.damping);
    const double r = mult ? (y[i] - f) / std::max(f, kTiny) : y[i] - f;
    if (i >= day) {
      one_sum += std::abs(r), ++one_n;
      if (res != nullptr) {
        res->push_back(r);
      }
    }
    if (const double fd = ahead[i % day]; fd >= 0.0) {
      day_sum += std::abs(mult ? (y[i] - fd) / std::max(fd, kTiny) : y[i] - fd), ++day_n;
    }
    Update(o, p, Clipped(mult, y[i], f, r, clip), s);
    ahead[i % day] = Ahead(o, s, day, day_damp);
  }
  return {one_n ? one_sum / static_cast<double>(one_n) : 0.0,
          day_n ? day_sum / static_cast<double>(day_n) : 0.0};
}

HoltWintersParams HoltWinters::GridSearch(const ForecastOptions& o, std::span<const double> y,
                                          const State& init, double clip) {
  HoltWintersParams best;
  double best_err = std::numeric_limits<double>::infinity();
  for (const auto& p : ParameterGrid(o.week_period > 0)) {
    State s = init;
    const FilterErrors e = Filter(o, p, y, clip, s, nullptr);
    const double err = e.one_step + e.day_ahead;
    if (err < best_err) {
      best_err = err, best = p;
    }
  }
  return best;
}

Result<std::unique_ptr<HoltWinters>> HoltWinters::Fit(const ForecastOptions& options,
                                                      std::span<const double> history) {
  RETURN_IF_ERROR(ValidateOptions(options, history));
  const State init = Initialize(options, history);
  const double floor = ScaleFloor(options, history);
  // A first robust scale from default parameters, so that spikes in the
  // history neither steer the grid search nor the final state.
  std::vector<double> res;
  State s = init;
  Filter(options, options.params.value_or(HoltWintersParams{}), history, 0.0, s, &res);
  const double clip0 = options.robust_k * RobustScale(res, floor);
  const HoltWintersParams best =
      options.params ? *options.params : GridSearch(options, history, init, clip0);
  res.clear();
  s = init;
  Filter(options, best, history, clip0, s, &res);
  const double clip = options.robust_k * RobustScale(res, floor);
  res.clear();
  s = init;
  const double err = Filter(options, best, history, clip, s, &res).one_step;
  TrimInitWindow(options, res);
  auto hw = std::unique_ptr<HoltWinters>(new HoltWinters(options, best, std::move(s)));
  hw->fit_error_ = err;
  hw->center_ = internal::Median(res);
  hw->scale_ = RobustScale(res, floor);
  const double tail = (1.0 - options.interval_coverage) / 2.0;
  hw->q_lo_ = internal::Quantile(res, tail);
  hw->q_hi_ = internal::Quantile(res, 1.0 - tail);
  return hw;
}

ForecastPoint HoltWinters::Forecast(int h) const {
  h = std::max(h, 1);
  double widen = 1.0;
  for (int j = 1; j < h; ++j) {
    widen += std::pow(params_.alpha * (1.0 + j * params_.beta), 2.0);
  }
  widen = std::sqrt(widen);
  ForecastPoint fp;
  fp.mean = Ahead(options_, state_, static_cast<size_t>(h), DampSum(options_.damping, h));
  if (Multiplicative(options_)) {
    fp.lower = std::max(0.0, fp.mean * (1.0 + q_lo_ * widen));
    fp.upper = std::max(0.0, fp.mean * (1.0 + q_hi_ * widen));
  } else {
    fp.lower = std::max(0.0, fp.mean + q_lo_ * widen);
    fp.upper = std::max(0.0, fp.mean + q_hi_ * widen);
  }
  return fp;
}

std::vector<ForecastPoint> HoltWinters::ForecastRange(int horizon) const {
  std::vector<ForecastPoint> out;
  out.reserve(static_cast<size_t>(std::max(horizon, 0)));
  for (int h = 1; h <= horizon; ++h) {
    out.push_back(Forecast(h));
  }
  return out;
}

double HoltWinters::Residual(double y, double f) const {
  return Multiplicative(options_) ? (y - f) / std::max(f, kTiny) : y - f;
}

Observation HoltWinters::Observe(double y) {
  Observation ob;
  ob.forecast = Ahead(options_, state_, 1, options_.damping);
  ob.residual = Residual(y, ob.forecast);
  ob.z = scale_ > 0.0 ? (ob.residual - center_) / scale_ : 0.0;
  const double used =
      Clipped(Multiplicative(options_), y, ob.forecast, ob.residual, options_.robust_k * scale_);
  Update(options_, params_, used, state_);
  return ob;
}

std::vector<double> HoltWinters::DailyProfile() const {
  std::vector<double> out(state_.day.size());
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = state_.day[(state_.t + i) % state_.day.size()];
  }
  return out;
}

}  // namespace hotpath::scale
