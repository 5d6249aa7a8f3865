#include "sched/internal/adaptive_delay.h"

#include <algorithm>
#include <cmath>

namespace hotpath::sched_internal {

AdaptiveDelay::AdaptiveDelay(const Options& options)
    : options_(options), window_(options.window), delay_(options.max_delay) {}

bool AdaptiveDelay::Record(Nanos latency) {
  window_[filled_++] = latency.count();
  if (filled_ < window_.size()) return false;
  filled_ = 0;
  // Nearest-rank p99: the ceil(0.99 n)-th smallest.
  const size_t rank = static_cast<size_t>(std::ceil(0.99 * static_cast<double>(window_.size())));
  auto nth = window_.begin() + static_cast<std::ptrdiff_t>(rank - 1);
  std::nth_element(window_.begin(), nth, window_.end());
  last_p99_ = Nanos(*nth);
  const double error = static_cast<double>((options_.target_p99 - last_p99_).count());
  const double next = static_cast<double>(delay_.count()) + options_.gain * error;
  const double clamped = std::clamp(next, 0.0, static_cast<double>(options_.max_delay.count()));
  delay_ = Nanos(static_cast<int64_t>(clamped));
  return true;
}

}  // namespace hotpath::sched_internal
