#include "serve/admission/concurrency_limiter.h"

#include <cmath>
#include <optional>
#include <string>
#include <utility>

namespace hotpath {
namespace {

std::string Ms(Nanos d) { return std::to_string(static_cast<double>(d.count()) / 1e6) + " ms"; }

}  // namespace

ConcurrencyLimiter::Permit::Permit(Permit&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)),
      granted_(other.granted_),
      priority_(other.priority_) {}

ConcurrencyLimiter::Permit& ConcurrencyLimiter::Permit::operator=(Permit&& other) noexcept {
  if (this != &other) {
    if (owner_ != nullptr) owner_->Release(granted_, /*record=*/false, true);
    owner_ = std::exchange(other.owner_, nullptr);
    granted_ = other.granted_;
    priority_ = other.priority_;
  }
  return *this;
}

ConcurrencyLimiter::Permit::~Permit() {
  if (owner_ != nullptr) owner_->Release(granted_, /*record=*/false, true);
}

void ConcurrencyLimiter::Permit::Release(bool ok) {
  ConcurrencyLimiter* owner = std::exchange(owner_, nullptr);
  owner->Release(granted_, /*record=*/true, ok);
}

Result<std::unique_ptr<ConcurrencyLimiter>> ConcurrencyLimiter::Create(const Options& options,
                                                                       const Clock& clock) {
  RETURN_IF_ERROR(admission_internal::LatencyLimit::Validate(options.limit));
  if (options.priority_levels < 1) return InvalidArgumentError("priority_levels must be >= 1");
  if (!(options.priority_headroom >= 0) ||
      (options.priority_levels - 1) * options.priority_headroom >= 1) {
    return InvalidArgumentError(
        "priority_headroom must be >= 0 with (priority_levels - 1) * priority_headroom < 1");
  }
  if (options.max_queue_size < 0) return InvalidArgumentError("max_queue_size must be >= 0");
  if (options.codel_target <= Nanos(0)) return InvalidArgumentError("codel_target must be > 0");
  if (options.codel_interval < options.codel_target) {
    return InvalidArgumentError("codel_interval must be >= codel_target");
  }
  if (!(options.codel_target_baselines >= 0)) {
    return InvalidArgumentError("codel_target_baselines must be >= 0");
  }
  if (options.codel_min_target <= Nanos(0) || options.codel_min_target > options.codel_target) {
    return InvalidArgumentError("codel_min_target must be > 0 and <= codel_target");
  }
  return std::unique_ptr<ConcurrencyLimiter>(new ConcurrencyLimiter(options, clock));
}

ConcurrencyLimiter::ConcurrencyLimiter(const Options& options, const Clock& clock)
    : options_(options),
      clock_(clock),
      limit_(options.limit),
      codel_(options.codel_target, options.codel_interval),
      queues_(options.priority_levels) {}

ConcurrencyLimiter::~ConcurrencyLimiter() {
  std::vector<Answer> answers;
  {
    MutexLock lock(&mu_);
    for (auto& q : queues_) {
      for (auto& w : q) {
        answers.push_back({std::move(w.done), UnavailableError("overloaded: limiter shut down")});
      }
      q.clear();
    }
    queued_ = 0;
  }
  Run(&answers);
}

int ConcurrencyLimiter::Threshold(int p) const {
  const double share = 1.0 - (p - 1) * options_.priority_headroom;
  return std::max(1, static_cast<int>(std::ceil(limit_.limit() * share - 1e-9)));
}

bool ConcurrencyLimiter::HigherOrEqualWaiting(int p) const {
  for (int i = 0; i < p; ++i) {
    if (!queues_[i].empty()) return true;
  }
  return false;
}

void ConcurrencyLimiter::FollowBaseline(TimePoint now) {
  const Nanos base = limit_.baseline();
  if (options_.codel_target_baselines <= 0 || base <= Nanos(0)) return;
  const Nanos target = std::clamp(
      Nanos(static_cast<int64_t>(options_.codel_target_baselines * static_cast<double>(base.count()))),
      options_.codel_min_target, options_.codel_target);
  if (target == codel_.target()) return;
  const double ratio = static_cast<double>(options_.codel_interval.count()) /
                       static_cast<double>(options_.codel_target.count());
  codel_.SetLimits(target, Nanos(static_cast<int64_t>(ratio * static_cast<double>(target.count()))), now);
}

Nanos ConcurrencyLimiter::codel_target() const {
  MutexLock lock(&mu_);
  return codel_.target();
}

ConcurrencyLimiter::Permit ConcurrencyLimiter::Grant(TimePoint now, int p) {
  ++inflight_;
  ++stats_.granted;
  return Permit(this, now, p);
}

std::optional<ConcurrencyLimiter::Permit> ConcurrencyLimiter::GrantIfFree(int p, TimePoint now) {
  if (inflight_ >= Threshold(p) || HigherOrEqualWaiting(p)) return std::nullopt;
  if (queued_ == 0) {  // the request passes through an empty queue
    codel_.Timeout(now);
    codel_.OnDequeue(Nanos(0));
    codel_.OnDrained();
  }
  return Grant(now, p);
}

Result<ConcurrencyLimiter::Permit> ConcurrencyLimiter::TryAcquire(int priority) {
  if (priority < 1 || priority > options_.priority_levels) {
    return InvalidArgumentError("priority must be in [1, " +
                                std::to_string(options_.priority_levels) + "], got " +
                                std::to_string(priority));
  }
  MutexLock lock(&mu_);
  std::optional<Permit> permit = GrantIfFree(priority, clock_.Now());
  if (permit) return std::move(*permit);
  ++stats_.refused;
  return UnavailableError("overloaded: no free slot for priority " + std::to_string(priority) +
                          " (limit " + std::to_string(limit_.limit()) + ", in flight " +
                          std::to_string(inflight_) + ")");
}

void ConcurrencyLimiter::Acquire(int priority, GrantCallback done) {
  if (options_.max_queue_size == 0 || priority < 1 || priority > options_.priority_levels) {
    done(TryAcquire(priority));
    return;
  }
  std::optional<Permit> at_once;
  {
    MutexLock lock(&mu_);
    at_once = GrantIfFree(priority, clock_.Now());
  }
  if (at_once) {  // the common case: no allocation
    done(std::move(*at_once));
    return;
  }
  std::vector<Answer> answers;
  {
    MutexLock lock(&mu_);
    const TimePoint now = clock_.Now();
    if (!Enqueue(priority, Waiter{now, std::move(done)}, &answers)) ++stats_.refused;
    Drain(now, &answers);
  }
  Run(&answers);
}

bool ConcurrencyLimiter::Enqueue(int p, Waiter w, std::vector<Answer>* out) {
  if (queued_ >= options_.max_queue_size) {
    int victim = options_.priority_levels - 1;
    while (victim >= p && queues_[victim].empty()) --victim;
    if (victim < p) {
      out->push_back({std::move(w.done), UnavailableError("overloaded: queue full (" +
                                                          std::to_string(queued_) + " waiting)")});
      return false;
    }
    out->push_back({std::move(queues_[victim].back().done),
                    UnavailableError("overloaded: displaced by a priority " + std::to_string(p) +
                                     " request")});
    queues_[victim].pop_back();
    --queued_;
    ++stats_.displaced;
  }
  queues_[p - 1].push_back(std::move(w));
  ++queued_;
  return true;
}

void ConcurrencyLimiter::Drain(TimePoint now, std::vector<Answer>* out) {
  if (queued_ == 0) return;
  const Nanos timeout = codel_.Timeout(now);
  for (auto& q : queues_) {
    while (!q.empty() && now - q.front().enqueued > timeout) {
      out->push_back({std::move(q.front().done),
                      UnavailableError("overloaded: queued " + Ms(now - q.front().enqueued) +
                                       ", over the CoDel timeout of " + Ms(timeout))});
      q.pop_front();
      --queued_;
      ++stats_.shed;
    }
  }
  bool granted = false;
  for (int level = 0; level < options_.priority_levels; ++level) {
    auto& q = queues_[level];
    while (!q.empty() && inflight_ < Threshold(level + 1)) {
      granted = true;
      // Adaptive LIFO: the oldest waiter's age is the queue's standing delay.
      const Nanos standing = now - q.front().enqueued;
      codel_.OnDequeue(standing);
      const bool newest_first = standing > codel_.target();
      Waiter& w = newest_first ? q.back() : q.front();
      out->push_back({std::move(w.done), Grant(now, level + 1)});
      if (newest_first) {
        q.pop_back();
      } else {
        q.pop_front();
      }
      --queued_;
    }
    if (!q.empty()) return;
  }
  if (queued_ == 0 && granted) codel_.OnDrained();
}

void ConcurrencyLimiter::Release(TimePoint granted, bool record, bool ok) {
  std::vector<Answer> answers;
  {
    MutexLock lock(&mu_);
    const TimePoint now = clock_.Now();
    if (record) {
      limit_.OnCall(granted, now, ok, inflight_);
      FollowBaseline(now);
    }
    --inflight_;
    Drain(now, &answers);
  }
  Run(&answers);
}

void ConcurrencyLimiter::Run(std::vector<Answer>* answers) {
  for (Answer& a : *answers) a.done(std::move(a.permit));
}

int ConcurrencyLimiter::limit() const {
  MutexLock lock(&mu_);
  return limit_.limit();
}

int ConcurrencyLimiter::inflight() const {
  MutexLock lock(&mu_);
  return inflight_;
}

int ConcurrencyLimiter::queued() const {
  MutexLock lock(&mu_);
  return queued_;
}

ConcurrencyLimiter::Stats ConcurrencyLimiter::stats() const {
  MutexLock lock(&mu_);
  return stats_;
}

}  // namespace hotpath
