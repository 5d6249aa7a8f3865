#include "scale/synthetic_trace.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>

namespace hotpath::scale {

double ExpectedDemand(const SyntheticTraceOptions& o, double t_s) {
  const double day = t_s / 86400.0;
  const double hour = std::fmod(t_s, 86400.0) / 3600.0;
  const double phase = 2.0 * std::numbers::pi * (hour - o.peak_hour) / 24.0;
  // A main daily harmonic plus a smaller second one: a broad day, a deep night.
  const double daily =
      1.0 + o.daily_amplitude * (0.8 * std::cos(phase) + 0.2 * std::cos(2 * phase));
  const int weekday = static_cast<int>(std::floor(day)) % 7;  // day 0 is a Monday
  const double weekly = weekday >= 5 ? 1.0 - o.weekend_dip : 1.0;
  double burst = 1.0;
  for (const DailyBurst& b : o.daily_bursts) {
    if (hour >= b.start_hour && hour < b.start_hour + b.minutes / 60.0) {
      burst *= b.factor;
    }
  }
  const double level = o.base_rps * (1.0 + o.trend_per_day * day);
  return std::max(0.0, level * daily * weekly * burst);
}

SyntheticTrace GenerateTrace(const SyntheticTraceOptions& o) {
  SyntheticTrace out;
  const size_t n = static_cast<size_t>(o.days * 86400.0 / o.step_s);
  out.trace.step_s = o.step_s;
  out.trace.rps.resize(n);
  out.expected.resize(n);
  out.spike.assign(n, false);
  std::mt19937_64 rng(o.seed);
  std::normal_distribution<double> noise(0.0, o.noise_fraction);
  for (size_t i = 0; i < n; ++i) {
    out.expected[i] = ExpectedDemand(o, (static_cast<double>(i) + 0.5) * o.step_s);
    out.trace.rps[i] = std::max(0.0, out.expected[i] * (1.0 + noise(rng)));
  }
  const size_t first = static_cast<size_t>(o.spikes_after_days * 86400.0 / o.step_s);
  if (o.spikes <= 0 || first + static_cast<size_t>(o.spike_max_steps) >= n) {
    return out;
  }
  std::uniform_int_distribution<size_t> where(first, n - 1 - o.spike_max_steps);
  std::uniform_real_distribution<double> factor(o.spike_min_factor, o.spike_max_factor);
  std::uniform_int_distribution<int> length(o.spike_min_steps, o.spike_max_steps);
  for (int s = 0; s < o.spikes; ++s) {
    const size_t at = where(rng);
    const double f = factor(rng);
    const int len = length(rng);
    for (int k = 0; k < len; ++k) {
      out.trace.rps[at + k] *= f;
      out.spike[at + k] = true;
    }
  }
  return out;
}

}  // namespace hotpath::scale
