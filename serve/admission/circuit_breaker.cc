#include "serve/admission/circuit_breaker.h"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace hotpath {
namespace {

constexpr uint8_t kFailed = 1;
constexpr uint8_t kSlow = 2;

std::string Percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%%", 100 * fraction);
  return buf;
}

std::string Seconds(Nanos d) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f s", static_cast<double>(d.count()) / 1e9);
  return buf;
}

double Rate(int part, int whole) { return whole == 0 ? 0 : static_cast<double>(part) / whole; }

}  // namespace

std::string_view CircuitStateName(CircuitBreaker::State state) {
  switch (state) {
    case CircuitBreaker::State::kClosed:
      return "closed";
    case CircuitBreaker::State::kOpen:
      return "open";
    case CircuitBreaker::State::kHalfOpen:
      return "half-open";
  }
  return "unknown";
}

Result<std::unique_ptr<CircuitBreaker>> CircuitBreaker::Create(const Options& o, const Clock& clock,
                                                               TransitionCallback on_transition) {
  if (o.name.empty()) return InvalidArgumentError("name must not be empty");
  if (!(o.failure_rate_threshold > 0 && o.failure_rate_threshold <= 1)) {
    return InvalidArgumentError("failure_rate_threshold must be in (0, 1]");
  }
  if (!(o.slow_call_rate_threshold > 0 && o.slow_call_rate_threshold <= 1)) {
    return InvalidArgumentError("slow_call_rate_threshold must be in (0, 1]");
  }
  if (o.slow_call_duration <= Nanos(0)) {
    return InvalidArgumentError("slow_call_duration must be > 0");
  }
  if (o.window_size < 1) return InvalidArgumentError("window_size must be >= 1");
  if (o.minimum_calls < 1 || o.minimum_calls > o.window_size) {
    return InvalidArgumentError("minimum_calls must be in [1, window_size]");
  }
  if (o.open_duration <= Nanos(0)) return InvalidArgumentError("open_duration must be > 0");
  if (o.half_open_calls < 1) return InvalidArgumentError("half_open_calls must be >= 1");
  return std::unique_ptr<CircuitBreaker>(new CircuitBreaker(o, clock, std::move(on_transition)));
}

CircuitBreaker::CircuitBreaker(const Options& options, const Clock& clock,
                               TransitionCallback on_transition)
    : options_(options), clock_(clock), on_transition_(std::move(on_transition)) {
  MutexLock lock(&mu_);
  ring_.assign(options.window_size, 0);
}

Result<CircuitBreaker::Ticket> CircuitBreaker::Allow() {
  std::vector<Event> events;
  Result<Ticket> result = Ticket{};
  {
    MutexLock lock(&mu_);
    const TimePoint now = clock_.Now();
    if (state_ == State::kOpen && now >= open_until_) {
      MoveTo(State::kHalfOpen, "open for " + Seconds(options_.open_duration), &events);
    }
    if (state_ == State::kOpen) {
      result =
          UnavailableError("model '" + options_.name + "' unavailable: circuit breaker open (" +
                           open_reason_ + "); retry in " + Seconds(open_until_ - now));
    } else if (state_ == State::kHalfOpen && trials_started_ >= options_.half_open_calls) {
      result = UnavailableError("model '" + options_.name +
                                "' unavailable: circuit breaker half-open, all " +
                                std::to_string(options_.half_open_calls) +
                                " trial calls in flight (" + open_reason_ + ")");
    } else {
      if (state_ == State::kHalfOpen) ++trials_started_;
      result = Ticket{generation_, now};
    }
  }
  Notify(events);
  return result;
}

void CircuitBreaker::Record(const Ticket& ticket, bool ok) {
  std::vector<Event> events;
  {
    MutexLock lock(&mu_);
    if (ticket.generation != generation_) return;
    const bool slow = clock_.Now() - ticket.start > options_.slow_call_duration;
    if (state_ == State::kClosed) {
      RecordClosed(!ok, slow, &events);
    } else if (state_ == State::kHalfOpen) {
      RecordHalfOpen(!ok, slow, &events);
    }
  }
  Notify(events);
}

void CircuitBreaker::RecordClosed(bool failed, bool slow, std::vector<Event>* events) {
  if (filled_ == options_.window_size) {
    const uint8_t old = ring_[next_];
    window_.failures -= (old & kFailed) ? 1 : 0;
    window_.slow -= (old & kSlow) ? 1 : 0;
  } else {
    ++filled_;
  }
  ring_[next_] = static_cast<uint8_t>((failed ? kFailed : 0) | (slow ? kSlow : 0));
  next_ = (next_ + 1) % options_.window_size;
  window_.calls = filled_;
  window_.failures += failed ? 1 : 0;
  window_.slow += slow ? 1 : 0;
  if (filled_ < options_.minimum_calls) return;
  std::string reason = TripReason(window_);
  if (!reason.empty()) MoveTo(State::kOpen, std::move(reason), events);
}

void CircuitBreaker::RecordHalfOpen(bool failed, bool slow, std::vector<Event>* events) {
  ++trials_.calls;
  trials_.failures += failed ? 1 : 0;
  trials_.slow += slow ? 1 : 0;
  if (trials_.calls < options_.half_open_calls) return;
  std::string reason = TripReason(trials_);
  if (!reason.empty()) {
    MoveTo(State::kOpen, "trial calls: " + reason, events);
    return;
  }
  MoveTo(State::kClosed,
         "trial calls passed (failure rate " + Percent(Rate(trials_.failures, trials_.calls)) +
             ", slow-call rate " + Percent(Rate(trials_.slow, trials_.calls)) + " over " +
             std::to_string(trials_.calls) + " calls)",
         events);
}

std::string CircuitBreaker::TripReason(const Tally& t) const {
  const double failure_rate = Rate(t.failures, t.calls);
  const double slow_rate = Rate(t.slow, t.calls);
  const std::string over = " over " + std::to_string(t.calls) + " calls";
  if (failure_rate >= options_.failure_rate_threshold) {
    return "failure rate " + Percent(failure_rate) +
           " >= " + Percent(options_.failure_rate_threshold) + over;
  }
  if (slow_rate >= options_.slow_call_rate_threshold) {
    return "slow-call rate " + Percent(slow_rate) +
           " >= " + Percent(options_.slow_call_rate_threshold) + " (calls over " +
           Seconds(options_.slow_call_duration) + ")" + over;
  }
  return "";
}

void CircuitBreaker::MoveTo(State to, std::string reason, std::vector<Event>* events) {
  events->push_back(Event{state_, to, reason});
  state_ = to;
  ++generation_;
  if (to == State::kOpen) {
    open_until_ = clock_.Now() + options_.open_duration;
    open_reason_ = std::move(reason);
  } else if (to == State::kHalfOpen) {
    trials_started_ = 0;
    trials_ = Tally{};
  } else {
    std::fill(ring_.begin(), ring_.end(), 0);
    next_ = 0;
    filled_ = 0;
    window_ = Tally{};
  }
}

void CircuitBreaker::Notify(const std::vector<Event>& events) const {
  if (!on_transition_) return;
  for (const Event& e : events) on_transition_(options_.name, e.from, e.to, e.reason);
}

CircuitBreaker::State CircuitBreaker::state() const {
  MutexLock lock(&mu_);
  return state_;
}

CircuitBreaker::Snapshot CircuitBreaker::snapshot() const {
  MutexLock lock(&mu_);
  const Tally& t = state_ == State::kHalfOpen ? trials_ : window_;
  return Snapshot{state_, t.calls, Rate(t.failures, t.calls), Rate(t.slow, t.calls)};
}

}  // namespace hotpath
