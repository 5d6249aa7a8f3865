// CoDelTimeout: how long a request may wait in ConcurrencyLimiter's queue, by
// the CoDel rule as servers apply it to request queues (Facebook's "Fail at
// Scale", folly's Codel), with hysteresis.
//
// Time is cut into intervals of `interval`. The queue becomes overloaded at
// the end of an interval in which, at every dequeue, the oldest waiter had
// waited more than `target` (CoDel's standing queue: it never drained below
// target for a whole interval; with FIFO service the oldest waiter is the one
// dequeued, with adaptive LIFO it is not). It stays overloaded until the end of an interval in
// which granting a request emptied it (shedding that empties it does not count). While overloaded,
// a waiter whose sojourn (queue wait) exceeds `target` is shed; otherwise only one whose sojourn
// exceeds `interval` (a burst may queue that long). So a standing queue is cut to `target` within
// about two intervals, and a short burst is absorbed.
//
// Not thread-safe: ConcurrencyLimiter calls it under its lock.
#ifndef HOTPATH_SERVE_ADMISSION_INTERNAL_CODEL_H_
#define HOTPATH_SERVE_ADMISSION_INTERNAL_CODEL_H_

#include <algorithm>

#include "core/clock.h"

namespace hotpath::admission_internal {

class CoDelTimeout {
 public:
  // REQUIRES: 0 < target <= interval.
  CoDelTimeout(Nanos target, Nanos interval) : target_(target), interval_(interval) {}

  // Moves the target and interval (ConcurrencyLimiter follows the measured
  // no-queue latency); the interval in progress ends no later than one new
  // interval from `now`. REQUIRES: 0 < target <= interval.
  void SetLimits(Nanos target, Nanos interval, TimePoint now) {
    target_ = target;
    interval_ = interval;
    interval_end_ = std::min(interval_end_, now + interval);
  }
  Nanos target() const { return target_; }

  // The longest sojourn allowed now; ends the interval when it is over.
  Nanos Timeout(TimePoint now) {
    if (now >= interval_end_) {
      overloaded_ = overloaded_ ? !saw_empty_ : min_sojourn_ > target_;
      min_sojourn_ = Nanos::max();
      saw_empty_ = false;
      interval_end_ = now + interval_;
    }
    return overloaded_ ? target_ : interval_;
  }
  // Records the queue's standing delay when a request leaves it: the
  // sojourn of its oldest waiter (zero when the request never waited).
  void OnDequeue(Nanos standing) { min_sojourn_ = std::min(min_sojourn_, standing); }
  // Records that granting a request left the queue empty.
  void OnDrained() {
    saw_empty_ = true;
    min_sojourn_ = Nanos(0);
  }
  bool overloaded() const { return overloaded_; }

 private:
  Nanos target_;
  Nanos interval_;
  TimePoint interval_end_{};
  Nanos min_sojourn_ = Nanos(0);
  bool saw_empty_ = true;
  bool overloaded_ = false;
};

}  // namespace hotpath::admission_internal

#endif  // HOTPATH_SERVE_ADMISSION_INTERNAL_CODEL_H_
