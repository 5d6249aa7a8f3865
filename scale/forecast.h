// HoltWinters: double-seasonal exponential smoothing (Taylor 2003) of a demand
// series with a daily and a weekly cycle, fitted by grid search, giving point
// forecasts, prediction intervals and one-step residuals for anomaly scoring.
//
// Model (multiplicative form; the additive form replaces × by +):
//   ŷ(t+h) = (l + b·Σφ^j) · d[t+h mod m1] · w[t+h mod m2]
//   l' = α·y/(d·w) + (1−α)(l + b)        b' = β(l' − l) + (1−β)·φ·b
//   d' = δ·y/(l'·w) + (1−δ)·d            w' = ω·y/(l'·d) + (1−ω)·w
// Updates are robust (Gelper, Fried & Croux 2010): before updating, y is
// clipped to ŷ ± k·σ, σ = 1.4826·MAD of the in-sample residuals (at least
// 0.1% of the level), so a spike barely moves the state; the grid search uses
// the same clipping. Seasonal factors are renormalised daily (mean 1, or 0
// when additive).
//
// Thread-compatible: const methods may run concurrently; Observe may not.
#ifndef HOTPATH_SCALE_FORECAST_H_
#define HOTPATH_SCALE_FORECAST_H_

#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/status.h"

namespace hotpath::scale {

enum class Seasonality { kAdditive, kMultiplicative };

struct HoltWintersParams {
  double alpha = 0.1;       // level smoothing, (0, 1)
  double beta = 0.0;        // trend smoothing, [0, 1)
  double gamma_day = 0.1;   // daily seasonal smoothing, [0, 1)
  double gamma_week = 0.1;  // weekly seasonal smoothing, [0, 1)
};

struct ForecastOptions {
  int day_period = 288;    // points per day (288 at 5-minute steps); >= 2
  int week_period = 2016;  // points per week; 0 disables the weekly cycle,
                           // else a multiple of day_period
  Seasonality seasonality = Seasonality::kMultiplicative;
  // Fixed smoothing parameters; when empty they are fitted by grid search
  // minimising the sum of the mean absolute one-step and day-ahead errors on
  // the history (one-step error alone favours jumpy levels that forecast the
  // next day badly).
  std::optional<HoltWintersParams> params;
  double damping = 0.999;          // trend damping φ per step, (0, 1]
  double interval_coverage = 0.9;  // nominal coverage of [lower, upper], (0, 1)
  double robust_k = 4.0;           // clip at ŷ ± k·σ when updating; 0 disables
};

struct ForecastPoint {
  double mean = 0.0;   // point forecast (requests/s)
  double lower = 0.0;  // prediction interval at interval_coverage, >= 0
  double upper = 0.0;
};

// What one observation did to the model.
struct Observation {
  double forecast = 0.0;  // one-step forecast made before seeing y
  double residual = 0.0;  // y − forecast, divided by forecast in multiplicative mode
  double z = 0.0;         // (residual − median) / (1.4826·MAD) of in-sample residuals
};

class HoltWinters {
 public:
  // Fits on `history` (oldest first), which must hold at least two of the
  // longest cycle; values finite and >= 0 (> 0 somewhere for multiplicative).
  // INVALID_ARGUMENT naming the option or the history length otherwise.
  static Result<std::unique_ptr<HoltWinters>> Fit(const ForecastOptions& options,
                                                  std::span<const double> history);

  // Forecast h >= 1 steps past the last observed point. Intervals are the
  // in-sample residual quantiles widened by sqrt(1 + Σ_{j<h} (α(1 + jβ))²).
  ForecastPoint Forecast(int h) const;

  // Forecasts for h = 1..horizon.
  std::vector<ForecastPoint> ForecastRange(int horizon) const;

  // Feeds the next actual value (robust update) and reports the residual.
  Observation Observe(double y);

  const HoltWintersParams& params() const { return params_; }
  // 1.4826·MAD of in-sample residuals (relative in multiplicative mode).
  double residual_scale() const { return scale_; }
  // Mean absolute one-step error on the history (relative or absolute).
  double fit_error() const { return fit_error_; }

  // The day and week seasonal components, indexed by phase of the next point
  // (element 0 applies to the next observation). For tests and plots.
  std::vector<double> DailyProfile() const;

 private:
  struct State {
    double level = 0.0;
    double trend = 0.0;
    std::vector<double> day;   // [day_period]
    std::vector<double> week;  // [week_period] or [1] when disabled
    size_t t = 0;              // index of the next point
  };

  HoltWinters(const ForecastOptions& options, const HoltWintersParams& params, State state);

  // Initial state from the first two cycles of `y` (classical decomposition).
  static State Initialize(const ForecastOptions& o, std::span<const double> y);
  // Point forecast h >= 1 steps ahead from `s`; damp_sum = φ + … + φ^h.
  static double Ahead(const ForecastOptions& o, const State& s, size_t h, double damp_sum);
  // Applies observation y to `s` with parameters `p`.
  static void Update(const ForecastOptions& o, const HoltWintersParams& p, double y, State& s);
  // Mean absolute errors of one-step and day-ahead forecasts (relative in
  // multiplicative mode) over a filter pass.
  struct FilterErrors {
    double one_step = 0.0;
    double day_ahead = 0.0;
  };
  // Runs the filter over `y` from `s`, appending one-step residuals (after the
  // first day) to `res` when not null; residuals beyond ± clip (residual
  // units) are clipped before updating when clip > 0.
  static FilterErrors Filter(const ForecastOptions& o, const HoltWintersParams& p,
                             std::span<const double> y, double clip, State& s,
                             std::vector<double>* res);
  // Keeps the seasonal means at 1 (multiplicative) or 0 (additive); run daily.
  static void Renormalize(const ForecastOptions& o, State& s);
  // The grid point with the least mean absolute one-step error (clipped at clip).
  static HoltWintersParams GridSearch(const ForecastOptions& o, std::span<const double> y,
                                      const State& init, double clip);
  // Residual of y against forecast f in the configured mode.
  double Residual(double y, double f) const;

  ForecastOptions options_;
  HoltWintersParams params_;
  State state_;
  double center_ = 0.0;  // median in-sample residual
  double scale_ = 0.0;
  double q_lo_ = 0.0;  // residual quantiles for the intervals
  double q_hi_ = 0.0;
  double fit_error_ = 0.0;
};

}  // namespace hotpath::scale

#endif  // HOTPATH_SCALE_FORECAST_H_
