#include "serve/admission/testing/overload_sim.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <queue>
#include <random>

namespace hotpath::admission_testing {
namespace {

using Permit = ConcurrencyLimiter::Permit;

struct Job {
  TimePoint arrival;
  int priority = 1;
  Permit permit;  // held while in the server; empty without a limiter
};

struct Event {
  int64_t at_ns;
  uint64_t seq;
  int worker;  // -1 = arrival
  bool operator>(const Event& o) const { return at_ns != o.at_ns ? at_ns > o.at_ns : seq > o.seq; }
};

class Sim {
 public:
  Sim(const OverloadSimOptions& o, std::unique_ptr<ConcurrencyLimiter> limiter, FakeClock* clock)
      : o_(o),
        clock_(*clock),
        limiter_(std::move(limiter)),
        rng_(o.seed),
        service_(1.0 / static_cast<double>(o.mean_service.count())),
        interarrival_(o.load * o.workers / static_cast<double>(o.mean_service.count())),
        pick_(o.priority_mix.begin(), o.priority_mix.end()),
        workers_(o.workers),
        warmup_end_(clock->Now() + o.warmup),
        end_(clock->Now() + o.duration) {
    result_.offered.assign(o.priority_mix.size(), 0);
    result_.completed.assign(o.priority_mix.size(), 0);
  }

  OverloadSimResult Run() {
    Schedule(clock_.Now() + Draw(interarrival_), -1);
    while (!events_.empty() && events_.top().at_ns < end_.time_since_epoch().count()) {
      const Event e = events_.top();
      events_.pop();
      clock_.Advance(Nanos(e.at_ns) - clock_.Now().time_since_epoch());
      if (e.worker < 0) {
        Arrive();
      } else {
        Complete(e.worker);
      }
    }
    Finish();
    return Summarize();
  }

 private:
  Nanos Draw(std::exponential_distribution<double>& d) {
    return Nanos(std::max<int64_t>(1, static_cast<int64_t>(d(rng_))));
  }
  void Schedule(TimePoint at, int worker) {
    events_.push(Event{at.time_since_epoch().count(), seq_++, worker});
  }

  void Arrive() {
    const TimePoint now = clock_.Now();
    const int p = pick_(rng_) + 1;
    if (now >= warmup_end_) ++result_.offered[p - 1];
    Schedule(now + Draw(interarrival_), -1);
    if (!limiter_) {
      Admit(Job{now, p, Permit()});
    } else {
      Acquire(now, p);
    }
    Track();
  }

  void Acquire(TimePoint now, int p) {
    limiter_->Acquire(p, [this, now, p](Result<Permit> r) {
      if (!r.ok()) {
        ++result_.refused;
      } else if (stopped_) {
        parked_.push_back(std::move(r).value());
      } else {
        Admit(Job{now, p, std::move(r).value()});
      }
    });
  }

  void Admit(Job job) {
    for (size_t w = 0; w < workers_.size(); ++w) {
      if (!workers_[w]) {
        workers_[w] = std::move(job);
        Schedule(clock_.Now() + Draw(service_), static_cast<int>(w));
        return;
      }
    }
    queue_.push_back(std::move(job));
  }

  void Complete(int w) {
    Job job = std::move(*workers_[w]);
    workers_[w].reset();
    const TimePoint now = clock_.Now();
    if (job.arrival >= warmup_end_) {
      ++result_.completed[job.priority - 1];
      latencies_.push_back(now - job.arrival);
    }
    if (!queue_.empty()) {
      Job next = std::move(queue_.front());
      queue_.pop_front();
      Admit(std::move(next));
    }
    if (job.permit.held()) job.permit.Release(true);
  }

  void Track() {
    int64_t held = static_cast<int64_t>(queue_.size()) + (limiter_ ? limiter_->queued() : 0);
    for (const auto& w : workers_) held += w ? 1 : 0;
    result_.max_waiting = std::max(result_.max_waiting, held);
  }

  // Returns every permit before the limiter goes; its remaining waiters are
  // answered UNAVAILABLE by its destructor.
  void Finish() {
    stopped_ = true;
    if (limiter_) {
      result_.final_limit = limiter_->limit();
      result_.limiter = limiter_->stats();
    }
    queue_.clear();
    for (auto& w : workers_) w.reset();
    while (!parked_.empty()) {
      std::vector<Permit> drop = std::move(parked_);
      parked_.clear();
    }
    limiter_.reset();
  }

  OverloadSimResult Summarize() {
    const double seconds = static_cast<double>((end_ - warmup_end_).count()) / 1e9;
    result_.capacity_rps = o_.workers * 1e9 / static_cast<double>(o_.mean_service.count());
    result_.goodput_rps = static_cast<double>(latencies_.size()) / seconds;
    result_.goodput_fraction = result_.goodput_rps / result_.capacity_rps;
    if (!latencies_.empty()) {
      std::sort(latencies_.begin(), latencies_.end());
      result_.p50 = latencies_[latencies_.size() / 2];
      result_.p99 = latencies_[std::min(latencies_.size() - 1, latencies_.size() * 99 / 100)];
    }
    return result_;
  }

  const OverloadSimOptions& o_;
  FakeClock& clock_;
  std::unique_ptr<ConcurrencyLimiter> limiter_;
  std::mt19937_64 rng_;
  std::exponential_distribution<double> service_;       // ns
  std::exponential_distribution<double> interarrival_;  // ns
  std::discrete_distribution<int> pick_;
  std::vector<std::optional<Job>> workers_;
  std::deque<Job> queue_;
  std::vector<Permit> parked_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  uint64_t seq_ = 0;
  bool stopped_ = false;
  const TimePoint warmup_end_;
  const TimePoint end_;
  std::vector<Nanos> latencies_;
  OverloadSimResult result_;
};

Status Validate(const OverloadSimOptions& o) {
  if (o.workers < 1) return InvalidArgumentError("workers must be >= 1");
  if (o.mean_service <= Nanos(0)) return InvalidArgumentError("mean_service must be > 0");
  if (!(o.load > 0)) return InvalidArgumentError("load must be > 0");
  if (o.warmup < Nanos(0) || o.duration <= o.warmup) {
    return InvalidArgumentError("need 0 <= warmup < duration");
  }
  if (o.priority_mix.empty()) return InvalidArgumentError("priority_mix must not be empty");
  return OkStatus();
}

}  // namespace

Result<OverloadSimResult> RunOverloadSim(const OverloadSimOptions& options) {
  RETURN_IF_ERROR(Validate(options));
  FakeClock clock;
  std::unique_ptr<ConcurrencyLimiter> limiter;
  if (options.use_limiter) {
    ASSIGN_OR_RETURN(limiter, ConcurrencyLimiter::Create(options.limiter, clock));
  }
  Sim sim(options, std::move(limiter), &clock);
  return sim.Run();
}

}  // namespace hotpath::admission_testing
