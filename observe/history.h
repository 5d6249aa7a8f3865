// MetricsHistory: a bounded ring of per-interval points (throughput, latency
// quantiles, errors) computed from cumulative metrics, for dashboards and the
// capacity planner to read without a Prometheus server.
//
// Whoever owns the scrape loop calls Record() once per interval (normally one
// second) with the cumulative latency histogram and error count; each point
// holds the deltas since the previous call. Points() returns them oldest first.
#ifndef HOTPATH_OBSERVE_HISTORY_H_
#define HOTPATH_OBSERVE_HISTORY_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/thread_annotations.h"
#include "observe/metrics.h"

namespace hotpath {

// One interval of history.
struct HistoryPoint {
  std::chrono::system_clock::time_point wall;  // end of the interval (Clock::WallNow)
  Nanos interval{0};                           // length of the interval
  uint64_t requests = 0;                       // latency observations in the interval
  uint64_t errors = 0;                         // errors in the interval
  double throughput_per_s = 0;                 // requests / interval
  double p50_s = 0, p95_s = 0, p99_s = 0;      // latency quantiles of the interval, seconds
};

class MetricsHistory {
 public:
  struct Options {
    // Points kept; older ones are overwritten. 3600 = one hour at 1 s. Must be >= 1.
    size_t capacity = 3600;
  };

  // INVALID_ARGUMENT naming `capacity` when it is 0. `clock` must outlive the history.
  static Result<std::unique_ptr<MetricsHistory>> Create(const Options& options, const Clock& clock);

  // Appends the point for the interval since the previous call, computed from
  // cumulative `latency` (seconds) and `errors_total`. The first call only sets
  // the baseline. Quantiles follow HistogramSnapshot::Quantile. Thread-safe.
  void Record(const HistogramSnapshot& latency, uint64_t errors_total) EXCLUDES(mu_);

  // The points kept, oldest first. Thread-safe.
  std::vector<HistoryPoint> Points() const EXCLUDES(mu_);

 private:
  MetricsHistory(const Options& options, const Clock& clock);

  const Clock& clock_;
  const size_t capacity_;
  mutable Mutex mu_;
  // ring_[(head_ + i) % capacity_] for i < size_ are the points, oldest first.
  std::vector<HistoryPoint> ring_ GUARDED_BY(mu_);
  size_t head_ GUARDED_BY(mu_) = 0;
  size_t size_ GUARDED_BY(mu_) = 0;
  bool has_baseline_ GUARDED_BY(mu_) = false;
  TimePoint last_at_ GUARDED_BY(mu_);
  HistogramSnapshot last_latency_ GUARDED_BY(mu_);
  uint64_t last_errors_ GUARDED_BY(mu_) = 0;
};

}  // namespace hotpath

#endif  // HOTPATH_OBSERVE_HISTORY_H_
