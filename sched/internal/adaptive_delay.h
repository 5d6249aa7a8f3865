// AdaptiveDelay: picks the batcher's queue delay so that the p99 of observed
// request latency (queue wait + compute, as the worker measures it) meets a
// target.
//
// Latencies are collected in windows of `window` requests. At the end of each
// window the controller moves the delay by `gain` times the error:
//   delay' = clamp(delay + gain * (target_p99 - observed_p99), 0, max_delay).
// With latency ~= delay + service, the fixed point is delay = target - p99
// (service): the longest wait (the largest batches, the best throughput) that
// still meets the target. When even a zero delay misses the target the delay
// stays 0; when max_delay meets it easily the delay stays at max_delay.
// Not thread-safe: the batcher calls it under its lock. No allocation after
// construction.
#ifndef HOTPATH_SCHED_INTERNAL_ADAPTIVE_DELAY_H_
#define HOTPATH_SCHED_INTERNAL_ADAPTIVE_DELAY_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/clock.h"

namespace hotpath::sched_internal {

class AdaptiveDelay {
 public:
  struct Options {
    Nanos target_p99{1'000'000};  // > 0
    Nanos max_delay{0};           // >= 0; also the starting delay
    size_t window = 256;          // requests per adjustment, >= 100
    double gain = 0.5;            // in (0, 1]
  };

  // REQUIRES: options as documented.
  explicit AdaptiveDelay(const Options& options);

  // Adds one request's latency. Returns true when it closed a window and the
  // delay was recomputed.
  bool Record(Nanos latency);

  Nanos delay() const { return delay_; }
  // The p99 of the last closed window, zero before the first.
  Nanos last_p99() const { return last_p99_; }

 private:
  const Options options_;
  std::vector<int64_t> window_;  // [options.window] latencies in ns
  size_t filled_ = 0;
  Nanos delay_;
  Nanos last_p99_{0};
};

}  // namespace hotpath::sched_internal

#endif  // HOTPATH_SCHED_INTERNAL_ADAPTIVE_DELAY_H_
