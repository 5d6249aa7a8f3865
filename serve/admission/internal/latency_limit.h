// LatencyLimit: the adaptive concurrency limit of ConcurrencyLimiter, from
// observed call latency (AIMD against a probed no-queue baseline).
//
// Calls are summarized in windows (at least `window` long and
// `min_window_samples` calls; a probe window needs one call). At the end of a window with average
// latency `avg` (successful calls only) and baseline `base`:
//   - any call failed (ok = false), or avg > tolerance * base:
//       limit = max(min_limit, floor(limit * clamp(tolerance * base / avg, 0.5, backoff)));
//   - else, when the limit was reached during the window:
//       limit = min(max_limit, limit + max(1, floor(sqrt(limit))));
//   - else unchanged (an application-limited window says nothing).
// The baseline is the latency with no queue in front of the server. It is
// measured by a probe window at min_limit: at the first call, and again every
// `probe_interval`. Only calls granted after the probe began count, so the
// probe sees no queue; the probe's average becomes the baseline and the limit
// goes back to its value before the probe. A probe costs about one window at
// min_limit per probe_interval (window / probe_interval of throughput).
//
// Not thread-safe: ConcurrencyLimiter calls it under its lock.
#ifndef HOTPATH_SERVE_ADMISSION_INTERNAL_LATENCY_LIMIT_H_
#define HOTPATH_SERVE_ADMISSION_INTERNAL_LATENCY_LIMIT_H_

#include <cstdint>

#include "core/clock.h"
#include "core/status.h"

namespace hotpath::admission_internal {

class LatencyLimit {
 public:
  struct Options {
    int initial_limit = 20;                         // >= min_limit, <= max_limit
    int min_limit = 1;                              // >= 1
    int max_limit = 1000;                           // >= min_limit
    Nanos window = std::chrono::milliseconds(100);  // > 0
    int min_window_samples = 20;                    // >= 1
    double tolerance = 1.5;  // latency allowed over the baseline before backing off, >= 1
    double backoff = 0.9;    // largest multiplicative decrease factor, in [0.5, 1)
    Nanos probe_interval = std::chrono::seconds(10);  // > window
  };

  // INVALID_ARGUMENT naming the first bad field, else OK.
  static Status Validate(const Options& options);
  // REQUIRES: Validate(options).ok().
  explicit LatencyLimit(const Options& options);

  // Records one finished call, granted at `granted` and finished at `now`.
  // `inflight` is the number of calls running when it finished, itself
  // included. Returns the limit in force afterwards.
  int OnCall(TimePoint granted, TimePoint now, bool ok, int inflight);

  int limit() const { return probing_ ? options_.min_limit : limit_; }
  // The current no-queue latency estimate; zero before the first probe ends.
  Nanos baseline() const { return Nanos(static_cast<int64_t>(baseline_ns_)); }

 private:
  void CloseWindow(TimePoint now);
  void Adjust(double avg_ns);
  void StartWindow(TimePoint now);

  const Options options_;
  int limit_;
  bool started_ = false;
  bool probing_ = false;
  TimePoint probe_start_{};
  TimePoint next_probe_{};
  TimePoint window_end_{};
  double baseline_ns_ = 0;
  // The open window.
  double sum_ns_ = 0;
  int64_t samples_ = 0;
  int64_t failures_ = 0;
  bool limited_ = false;
};

}  // namespace hotpath::admission_internal

#endif  // HOTPATH_SERVE_ADMISSION_INTERNAL_LATENCY_LIMIT_H_
