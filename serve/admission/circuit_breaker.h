// CircuitBreaker: stops sending calls to a model that is failing or too slow,
// so the caller fails fast (or uses a fallback) instead of queueing behind it.
//
// States (Resilience4j's count-based breaker):
//   closed    calls pass; the last `window_size` outcomes are kept. Once the
//             window holds >= minimum_calls outcomes, the breaker opens when
//             the failure rate >= failure_rate_threshold or the slow-call rate
//             (calls longer than slow_call_duration, failed or not)
//             >= slow_call_rate_threshold.
//   open      calls are refused (UNAVAILABLE naming the model and the reason)
//             for open_duration; the first Allow after that moves to half-open.
//   half-open up to half_open_calls trial calls pass, the rest are refused.
//             When all trials have reported, their failure and slow rates
//             decide: either rate over its threshold reopens, else it closes
//             with an empty window.
// Outcomes of calls allowed before the latest transition are ignored.
//
// Thread-safety: all methods may be called from any thread; one lock per
// breaker. The transition callback runs after the lock is released, on the
// thread whose call caused the transition.
#ifndef HOTPATH_SERVE_ADMISSION_CIRCUIT_BREAKER_H_
#define HOTPATH_SERVE_ADMISSION_CIRCUIT_BREAKER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/thread_annotations.h"

namespace hotpath {

class CircuitBreaker {
 public:
  enum class State { kClosed, kOpen, kHalfOpen };

  struct Options {
    std::string name;                                    // the model; required
    double failure_rate_threshold = 0.5;                 // in (0, 1]
    double slow_call_rate_threshold = 1.0;               // in (0, 1]
    Nanos slow_call_duration = std::chrono::seconds(1);  // > 0
    int window_size = 100;                               // outcomes kept while closed, >= 1
    int minimum_calls = 20;                              // in [1, window_size]
    Nanos open_duration = std::chrono::seconds(5);       // > 0
    int half_open_calls = 5;                             // trial calls in half-open, >= 1
    bool operator==(const Options&) const = default;
  };

  // Called on every transition with the breaker's name, the states, and why
  // (e.g. "failure rate 60.0% >= 50.0% over 20 calls"). Must not call back
  // into this breaker's Record.
  using TransitionCallback =
      std::function<void(std::string_view name, State from, State to, const std::string& reason)>;

  // Proof that a call was allowed; hand it back to Record.
  struct Ticket {
    uint64_t generation = 0;
    TimePoint start{};
  };

  // What metrics export.
  struct Snapshot {
    State state = State::kClosed;
    int calls = 0;  // outcomes in the window (closed) or trials reported (half-open)
    double failure_rate = 0;
    double slow_call_rate = 0;
  };

  // Validates `options` (INVALID_ARGUMENT naming the field). `clock` must
  // outlive the breaker; `on_transition` may be empty.
  static Result<std::unique_ptr<CircuitBreaker>> Create(const Options& options,
                                                        const Clock& clock = RealClock(),
                                                        TransitionCallback on_transition = {});
  CircuitBreaker(const CircuitBreaker&) = delete;
  CircuitBreaker& operator=(const CircuitBreaker&) = delete;

  // OK with a ticket when the call may go ahead (then the caller must Record
  // it); UNAVAILABLE "model 'm' unavailable: circuit breaker open (reason)"
  // when open, or half-open with every trial taken.
  Result<Ticket> Allow() EXCLUDES(mu_);
  // Records the outcome of an allowed call; its latency is now - ticket.start.
  void Record(const Ticket& ticket, bool ok) EXCLUDES(mu_);

  State state() const EXCLUDES(mu_);
  Snapshot snapshot() const EXCLUDES(mu_);
  const std::string& name() const { return options_.name; }

 private:
  struct Event {
    State from;
    State to;
    std::string reason;
  };
  // Outcome counts over a set of calls.
  struct Tally {
    int calls = 0;
    int failures = 0;
    int slow = 0;
  };

  CircuitBreaker(const Options& options, const Clock& clock, TransitionCallback on_transition);
  void RecordClosed(bool failed, bool slow, std::vector<Event>* events) REQUIRES(mu_);
  void RecordHalfOpen(bool failed, bool slow, std::vector<Event>* events) REQUIRES(mu_);
  // The reason to open given `t`, or empty when the rates are under threshold.
  std::string TripReason(const Tally& t) const;
  void MoveTo(State to, std::string reason, std::vector<Event>* events) REQUIRES(mu_);
  void Notify(const std::vector<Event>& events) const;

  const Options options_;
  const Clock& clock_;
  const TransitionCallback on_transition_;

  mutable Mutex mu_;
  // Invariants: window_ tally == the outcomes in ring_[0, filled_); in
  // half-open, trials_.calls <= trials_started_ <= half_open_calls.
  State state_ GUARDED_BY(mu_) = State::kClosed;
  uint64_t generation_ GUARDED_BY(mu_) = 1;
  std::vector<uint8_t> ring_ GUARDED_BY(mu_);  // per outcome: bit 0 failed, bit 1 slow
  int next_ GUARDED_BY(mu_) = 0;
  int filled_ GUARDED_BY(mu_) = 0;
  Tally window_ GUARDED_BY(mu_);
  TimePoint open_until_ GUARDED_BY(mu_){};
  std::string open_reason_ GUARDED_BY(mu_);
  int trials_started_ GUARDED_BY(mu_) = 0;
  Tally trials_ GUARDED_BY(mu_);
};

// "closed", "open", "half-open".
std::string_view CircuitStateName(CircuitBreaker::State state);

}  // namespace hotpath

#endif  // HOTPATH_SERVE_ADMISSION_CIRCUIT_BREAKER_H_
