// ConcurrencyLimiter: keeps a server out of overload by bounding the calls in
// flight with an adaptive limit and shedding requests that queue too long, so
// that at several times its capacity a server still completes nearly its
// peak rate at nearly its unloaded latency.
//
// The limit adapts to observed latency (internal/latency_limit.h: AIMD
// against a probed no-queue baseline). A request that finds no free slot
// waits in a bounded queue; the queue sheds by the CoDel rule
// (internal/codel.h): waiters older than `codel_target` while the queue is
// standing, older than `codel_interval` otherwise.
//
// Adaptive LIFO (Facebook's "adaptive LIFO + CoDel"): a freed slot goes to
// the oldest waiter while that one has waited at most the CoDel target, and
// to the newest once it has waited longer (the queue is standing). Under
// overload the old waiters are those CoDel sheds anyway; serving the newest
// keeps the server busy while admitted requests barely queue. A burst that
// drains within the target is served in arrival order.
//
// Priorities: 1 is the highest, priority_levels the lowest. Lower priorities
// are shed first, by three rules:
//   1. A request at priority p takes a slot only while
//      inflight < max(1, ceil(limit * (1 - (p - 1) * priority_headroom))),
//      so the top slots are kept for higher priorities.
//   2. The queue serves higher priorities first (adaptive LIFO within a
//      priority), so lower ones wait longer and reach the CoDel timeout first.
//   3. When the queue is full, an arrival displaces the newest waiter of the
//      lowest priority below its own; with none, the arrival is refused.
// Every refusal or shed is UNAVAILABLE with a message starting "overloaded"
// (HTTP 503).
//
// Thread-safety: every method may be called from any thread. One lock per
// limiter guards its state and is held for O(priority_levels) work per call
// plus the waiters it hands out; callbacks run after it is released.
#ifndef HOTPATH_SERVE_ADMISSION_CONCURRENCY_LIMITER_H_
#define HOTPATH_SERVE_ADMISSION_CONCURRENCY_LIMITER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/thread_annotations.h"
#include "serve/admission/internal/codel.h"
#include "serve/admission/internal/latency_limit.h"

namespace hotpath {

class ConcurrencyLimiter {
 public:
  struct Options {
    // The adaptive limit: initial/min/max limit, window, tolerance, backoff,
    // probe interval (see internal/latency_limit.h for defaults and units).
    admission_internal::LatencyLimit::Options limit;
    int priority_levels = 3;         // >= 1; 1 is the highest
    double priority_headroom = 0.1;  // >= 0, (priority_levels - 1) * headroom < 1
    int max_queue_size = 1000;       // waiters at once, >= 0; 0 = Acquire never queues
    Nanos codel_target = std::chrono::milliseconds(5);      // > 0
    Nanos codel_interval = std::chrono::milliseconds(100);  // >= codel_target
    // When > 0, the CoDel target follows the probed no-queue latency:
    // target = clamp(codel_target_baselines * baseline, codel_min_target,
    // codel_target), and the interval keeps its ratio to the target. A queue
    // then holds requests for about the service's own latency, not a fixed
    // 5 ms, so admitted requests stay near the unloaded latency.
    double codel_target_baselines = 0;                        // >= 0
    Nanos codel_min_target = std::chrono::microseconds(100);  // > 0, <= codel_target

    // What `hotpath serve --concurrency-limit` uses: the defaults above with
    // the CoDel target at one baseline and the interval at five targets, so
    // a waiter the adaptive LIFO leaves behind waits at most five no-queue
    // latencies (0.5 ms at the 0.1 ms floor; a 1:20 ratio let it wait 2 ms).
    static Options ForModelServer() {
      Options o;
      o.codel_target_baselines = 1;
      o.codel_interval = 5 * o.codel_target;
      return o;
    }
  };

  // The right to run one call. Move-only. Release reports how the call went;
  // a permit destroyed unreleased frees its slot without a latency sample
  // (e.g. the client went away).
  class Permit {
   public:
    Permit() = default;
    Permit(Permit&& other) noexcept;
    Permit& operator=(Permit&& other) noexcept;
    ~Permit();

    // Frees the slot and records the call's latency (from the grant to now on
    // the limiter's clock). `ok` = false for a failure that signals overload
    // further down (timeout, DEADLINE_EXCEEDED, UNAVAILABLE): the limit backs
    // off. Report client errors as ok. REQUIRES: held().
    void Release(bool ok);
    bool held() const { return owner_ != nullptr; }
    int priority() const { return priority_; }

   private:
    friend class ConcurrencyLimiter;
    Permit(ConcurrencyLimiter* owner, TimePoint granted, int priority)
        : owner_(owner), granted_(granted), priority_(priority) {}

    ConcurrencyLimiter* owner_ = nullptr;
    TimePoint granted_{};
    int priority_ = 0;
  };

  // Runs exactly once per Acquire: with a permit, or UNAVAILABLE
  // ("overloaded: ..."), or INVALID_ARGUMENT for a bad priority. It may run inside Acquire or
  // inside another caller's Release (after the limiter's lock is released), so it must be quick and
  // must not block on a call that needs a permit.
  using GrantCallback = std::function<void(Result<Permit>)>;

  // What the limiter has done so far, for metrics.
  struct Stats {
    int64_t granted = 0;
    int64_t refused = 0;    // rule 1 with no queue, or queue full (rule 3)
    int64_t displaced = 0;  // waiters displaced by a higher priority (rule 3)
    int64_t shed = 0;       // waiters over the CoDel timeout
  };

  // Validates `options` (INVALID_ARGUMENT naming the field). `clock` must
  // outlive the limiter, and the limiter must outlive its permits.
  static Result<std::unique_ptr<ConcurrencyLimiter>> Create(const Options& options,
                                                            const Clock& clock = RealClock());
  ConcurrencyLimiter(const ConcurrencyLimiter&) = delete;
  ConcurrencyLimiter& operator=(const ConcurrencyLimiter&) = delete;
  // Answers every waiter UNAVAILABLE. REQUIRES: no permit outstanding.
  ~ConcurrencyLimiter();

  // A permit now, or UNAVAILABLE when rule 1 allows no slot or others wait.
  // INVALID_ARGUMENT for a priority outside [1, priority_levels]. Never queues.
  Result<Permit> TryAcquire(int priority) EXCLUDES(mu_);

  // A permit now or when one frees up, through `done` (see GrantCallback).
  // With max_queue_size = 0 this is TryAcquire with a callback.
  void Acquire(int priority, GrantCallback done) EXCLUDES(mu_);

  int priority_levels() const { return options_.priority_levels; }
  int limit() const EXCLUDES(mu_);
  int inflight() const EXCLUDES(mu_);
  int queued() const EXCLUDES(mu_);
  // The CoDel target in force (moves with the baseline when adaptive).
  Nanos codel_target() const EXCLUDES(mu_);
  Stats stats() const EXCLUDES(mu_);

 private:
  struct Waiter {
    TimePoint enqueued;
    GrantCallback done;
  };
  // A callback to run once the lock is released.
  struct Answer {
    GrantCallback done;
    Result<Permit> permit;
  };

  ConcurrencyLimiter(const Options& options, const Clock& clock);
  // Frees one slot; records the call's latency when `record`.
  void Release(TimePoint granted, bool record, bool ok) EXCLUDES(mu_);
  // The most permits priority `p` may leave in flight (rule 1).
  int Threshold(int p) const REQUIRES(mu_);
  // Whether a waiter of priority at most `p` (numerically) is queued.
  bool HigherOrEqualWaiting(int p) const REQUIRES(mu_);
  // A permit when rule 1 leaves a slot for `p` and no equal or higher
  // priority waits; else nothing.
  std::optional<Permit> GrantIfFree(int p, TimePoint now) REQUIRES(mu_);
  // Queues `w` at priority `p`, displacing a lower waiter when full (rule 3).
  // Returns false when the queue is full of equal or higher priorities.
  bool Enqueue(int p, Waiter w, std::vector<Answer>* out) REQUIRES(mu_);
  // Sheds stale waiters, then grants permits while slots are free.
  void Drain(TimePoint now, std::vector<Answer>* out) REQUIRES(mu_);
  Permit Grant(TimePoint now, int p) REQUIRES(mu_);
  static void Run(std::vector<Answer>* answers);
  // Moves the CoDel target after the baseline when codel_target_baselines > 0.
  void FollowBaseline(TimePoint now) REQUIRES(mu_);

  const Options options_;
  const Clock& clock_;

  mutable Mutex mu_;
  // Invariants: 0 <= inflight_; queued_ == total size of queues_ <= max_queue_size.
  admission_internal::LatencyLimit limit_ GUARDED_BY(mu_);
  admission_internal::CoDelTimeout codel_ GUARDED_BY(mu_);
  std::vector<std::deque<Waiter>> queues_ GUARDED_BY(mu_);  // [priority - 1]
  int inflight_ GUARDED_BY(mu_) = 0;
  int queued_ GUARDED_BY(mu_) = 0;
  Stats stats_ GUARDED_BY(mu_);
};

}  // namespace hotpath

#endif  // HOTPATH_SERVE_ADMISSION_CONCURRENCY_LIMITER_H_
