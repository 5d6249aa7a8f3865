// Synthetic demand traces with known structure (diurnal and weekly cycles,
// trend, multiplicative noise, labelled flash spikes), used as ground truth by
// the forecaster's tests and the planner benchmark. Seeded and deterministic;
// pure functions, thread-safe.
#ifndef HOTPATH_SCALE_SYNTHETIC_TRACE_H_
#define HOTPATH_SCALE_SYNTHETIC_TRACE_H_

#include <cstdint>
#include <vector>

#include "scale/trace.h"

namespace hotpath::scale {

// A burst that recurs every day at the same time (a batch job, a broadcast):
// demand is multiplied by `factor` from start_hour for `minutes`.
struct DailyBurst {
  double start_hour = 9.0;
  double minutes = 15.0;
  double factor = 2.0;
};

struct SyntheticTraceOptions {
  int step_s = 60;                       // seconds per point
  double days = 28.0;                    // length
  double base_rps = 1000.0;              // mean level on weekdays at day 0
  double daily_amplitude = 0.6;          // peak-to-mean swing of the day cycle, fraction
  double peak_hour = 14.0;               // hour of day of the daily peak
  double weekend_dip = 0.0;              // Saturday/Sunday demand lowered by this fraction
  double trend_per_day = 0.0;            // level growth per day, fraction of base
  double noise_fraction = 0.05;          // sd of multiplicative Gaussian noise
  int spikes = 0;                        // flash spikes to inject
  double spike_min_factor = 1.5;         // demand multiplied by a factor in
  double spike_max_factor = 3.0;         //   [min, max] during a spike
  int spike_min_steps = 1;               // spike length in points, uniform in
  int spike_max_steps = 3;               //   [min, max]
  double spikes_after_days = 0.0;        // spikes are placed after this day only
  std::vector<DailyBurst> daily_bursts;  // part of the generating function
  uint64_t seed = 1;
};

struct SyntheticTrace {
  Trace trace;                   // observed demand (noise and spikes applied)
  std::vector<double> expected;  // [points] the noise-free generating function
  std::vector<bool> spike;       // [points] true where a spike was injected
};

// The generating function: expected demand (requests/s) at `t_s` seconds.
double ExpectedDemand(const SyntheticTraceOptions& o, double t_s);

// Generates a trace. Same options (seed included) → identical output.
SyntheticTrace GenerateTrace(const SyntheticTraceOptions& options);

}  // namespace hotpath::scale

#endif  // HOTPATH_SCALE_SYNTHETIC_TRACE_H_
