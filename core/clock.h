// Clock: the injectable source of time for everything that waits or expires
// (batcher queue delays, feature windows, circuit breakers, the planner).
//
// Production code takes a `Clock&`; tests pass a FakeClock and advance it by
// hand, so nothing time-dependent is tested by sleeping.
#ifndef HOTPATH_CORE_CLOCK_H_
#define HOTPATH_CORE_CLOCK_H_

#include <atomic>
#include <chrono>

namespace hotpath {

using Nanos = std::chrono::nanoseconds;
// A point on a Clock's monotonic timeline, in nanoseconds since its epoch.
using TimePoint = std::chrono::time_point<std::chrono::steady_clock, Nanos>;

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic now. Thread-safe.
  virtual TimePoint Now() const = 0;
  // Wall-clock time since the Unix epoch (for timestamps shown to users). Thread-safe.
  virtual std::chrono::system_clock::time_point WallNow() const = 0;
};

// The real clock (steady_clock / system_clock). Thread-safe; a process-wide
// instance is returned by RealClock().
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override {
    return std::chrono::time_point_cast<Nanos>(std::chrono::steady_clock::now());
  }
  std::chrono::system_clock::time_point WallNow() const override {
    return std::chrono::system_clock::now();
  }
};

// Returns a process-wide SystemClock. Never null; lives for the whole process.
Clock& RealClock();

// A clock that only moves when told. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint(Nanos(1'000'000'000))) : now_(start.time_since_epoch().count()) {}
  TimePoint Now() const override { return TimePoint(Nanos(now_.load(std::memory_order_acquire))); }
  std::chrono::system_clock::time_point WallNow() const override {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(Nanos(now_.load())));
  }
  void Advance(Nanos d) { now_.fetch_add(d.count(), std::memory_order_acq_rel); }

 private:
  std::atomic<int64_t> now_;
};

// A point in time after which work is no longer wanted. Default: no deadline.
class Deadline {
 public:
  Deadline() : at_(TimePoint::max()) {}
  explicit Deadline(TimePoint at) : at_(at) {}
  static Deadline After(const Clock& clock, Nanos timeout) { return Deadline(clock.Now() + timeout); }
  static Deadline Infinite() { return Deadline(); }

  bool IsInfinite() const { return at_ == TimePoint::max(); }
  bool Expired(const Clock& clock) const { return !IsInfinite() && clock.Now() >= at_; }
  // Time left, zero when expired, Nanos::max() when infinite.
  Nanos Remaining(const Clock& clock) const {
    if (IsInfinite()) return Nanos::max();
    Nanos left = at_ - clock.Now();
    return left.count() > 0 ? left : Nanos(0);
  }
  TimePoint at() const { return at_; }
  friend bool operator<(const Deadline& a, const Deadline& b) { return a.at_ < b.at_; }

 private:
  TimePoint at_;
};

}  // namespace hotpath

#endif  // HOTPATH_CORE_CLOCK_H_
