#include "serve/admission/concurrency_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace hotpath {
namespace {

using std::chrono::milliseconds;
using Permit = ConcurrencyLimiter::Permit;

// Options with the limit pinned to `limit` (min = max), so only the
// admission and queue rules are under test.
ConcurrencyLimiter::Options Fixed(int limit, int levels, double headroom, int queue) {
  ConcurrencyLimiter::Options o;
  o.limit.initial_limit = o.limit.min_limit = o.limit.max_limit = limit;
  o.priority_levels = levels;
  o.priority_headroom = headroom;
  o.max_queue_size = queue;
  o.codel_target = milliseconds(5);
  o.codel_interval = milliseconds(100);
  return o;
}

std::unique_ptr<ConcurrencyLimiter> Make(const ConcurrencyLimiter::Options& o, const Clock& c) {
  auto r = ConcurrencyLimiter::Create(o, c);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(r).value();
}

// One successful call of `service` on the fake clock, at priority 1.
void RunCall(ConcurrencyLimiter& limiter, FakeClock& clock, Nanos service) {
  Permit p = std::move(limiter.TryAcquire(1)).value();
  clock.Advance(service);
  p.Release(true);
}

// Records what each Acquire was answered.
struct Answers {
  ConcurrencyLimiter::GrantCallback For(const std::string& name) {
    return [this, name](Result<Permit> r) {
      if (r.ok()) {
        order.push_back(name);
        permits.push_back(std::move(r).value());
      } else {
        refusals.push_back(name + ": " + r.status().message());
      }
    };
  }
  std::vector<std::string> order;  // granted, in grant order
  std::vector<Permit> permits;     // same order
  std::vector<std::string> refusals;
};

TEST(ConcurrencyLimiterTest, LowerPrioritiesStopShortOfTheLimit) {
  FakeClock clock;
  auto limiter = Make(Fixed(10, 3, 0.1, 0), clock);
  // Thresholds: ceil(10 * (1 - (p - 1) * 0.1)): p3 -> 8, p2 -> 9, p1 -> 10.
  std::vector<Permit> held;
  held.reserve(10);
  for (int i = 0; i < 8; ++i) held.push_back(std::move(limiter->TryAcquire(3)).value());
  Result<Permit> refused = limiter->TryAcquire(3);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(refused.status().message().rfind("overloaded", 0), 0u) << refused.status().message();
  held.push_back(std::move(limiter->TryAcquire(2)).value());
  EXPECT_FALSE(limiter->TryAcquire(2).ok());
  held.push_back(std::move(limiter->TryAcquire(1)).value());
  EXPECT_FALSE(limiter->TryAcquire(1).ok());
  EXPECT_EQ(limiter->inflight(), 10);
  held.pop_back();  // an unreleased permit frees its slot when destroyed
  EXPECT_EQ(limiter->inflight(), 9);
  EXPECT_FALSE(limiter->TryAcquire(2).ok());
  EXPECT_TRUE(limiter->TryAcquire(1).ok());
  EXPECT_EQ(limiter->TryAcquire(0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(limiter->TryAcquire(4).status().code(), StatusCode::kInvalidArgument);
}

TEST(ConcurrencyLimiterTest, QueueServesHigherPrioritiesFirstFifoWithin) {
  FakeClock clock;
  auto limiter = Make(Fixed(2, 2, 0, 10), clock);
  Answers a;
  limiter->Acquire(2, a.For("first"));
  limiter->Acquire(2, a.For("second"));
  ASSERT_EQ(a.order.size(), 2u);
  limiter->Acquire(2, a.For("low-1"));
  limiter->Acquire(1, a.For("high-1"));
  limiter->Acquire(2, a.For("low-2"));
  limiter->Acquire(1, a.For("high-2"));
  EXPECT_EQ(limiter->queued(), 4);
  EXPECT_FALSE(limiter->TryAcquire(1).ok());  // others are waiting
  for (int i = 0; i < 4; ++i) a.permits[i].Release(true);
  const std::vector<std::string> want = {"first", "second", "high-1", "high-2", "low-1", "low-2"};
  EXPECT_EQ(a.order, want);
  EXPECT_EQ(limiter->queued(), 0);
  EXPECT_TRUE(a.refusals.empty());
}

TEST(ConcurrencyLimiterTest, FullQueueDisplacesTheNewestLowerWaiter) {
  FakeClock clock;
  auto limiter = Make(Fixed(1, 3, 0, 2), clock);
  Answers a;
  limiter->Acquire(1, a.For("running"));
  limiter->Acquire(3, a.For("p3-old"));
  limiter->Acquire(3, a.For("p3-new"));
  limiter->Acquire(2, a.For("p2"));       // full: displaces p3-new
  limiter->Acquire(3, a.For("p3-late"));  // full, nothing below priority 3: refused
  ASSERT_EQ(a.refusals.size(), 2u);
  EXPECT_EQ(a.refusals[0], "p3-new: overloaded: displaced by a priority 2 request");
  EXPECT_EQ(a.refusals[1], "p3-late: overloaded: queue full (2 waiting)");
  a.permits[0].Release(true);
  a.permits[1].Release(true);
  EXPECT_EQ(a.order, (std::vector<std::string>{"running", "p2", "p3-old"}));
  const ConcurrencyLimiter::Stats s = limiter->stats();
  EXPECT_EQ(s.granted, 3);
  EXPECT_EQ(s.displaced, 1);
  EXPECT_EQ(s.refused, 1);
  EXPECT_EQ(s.shed, 0);
}

// Limit 1, one priority, queue 10, target 5 ms, interval 100 ms, on a fake
// clock set in ms from the start.
struct CoDelScenario {
  void At(int ms) { clock.Advance(start + milliseconds(ms) - clock.Now()); }

  FakeClock clock;
  const TimePoint start = clock.Now();
  std::unique_ptr<ConcurrencyLimiter> limiter = Make(Fixed(1, 1, 0, 10), clock);
  Answers a;
};

TEST(ConcurrencyLimiterTest, AdaptiveLifoServesTheNewestOnceTheQueueStands) {
  CoDelScenario s;
  s.limiter->Acquire(1, s.a.For("p0"));  // runs at once
  s.limiter->Acquire(1, s.a.For("a"));
  s.At(2);
  s.limiter->Acquire(1, s.a.For("b"));
  s.At(4);
  s.a.permits[0].Release(true);  // the oldest (a) waited 4 ms <= target: FIFO, a runs
  s.At(6);
  s.limiter->Acquire(1, s.a.For("c"));
  s.At(10);
  s.a.permits[1].Release(true);  // the oldest (b) waited 8 ms > target: the newest (c) runs
  s.At(12);
  s.limiter->Acquire(1, s.a.For("d"));
  s.At(13);
  s.a.permits[2].Release(true);  // b has waited 11 ms: d (1 ms) runs
  s.At(20);
  s.a.permits[3].Release(true);  // b is the only waiter: it runs after 18 ms (< interval)
  EXPECT_EQ(s.a.order, (std::vector<std::string>{"p0", "a", "c", "d", "b"}));
  EXPECT_TRUE(s.a.refusals.empty());
  EXPECT_EQ(s.limiter->queued(), 0);
}

TEST(ConcurrencyLimiterTest, CoDelAbsorbsABurstAndCutsAStandingQueue) {
  CoDelScenario s;
  // Interval [0, 100): p0 runs at once, which drains the queue.
  s.limiter->Acquire(1, s.a.For("p0"));
  s.At(100);
  s.limiter->Acquire(1, s.a.For("e"));
  s.At(101);
  s.limiter->Acquire(1, s.a.For("f"));
  // Interval [100, 200): not overloaded (the queue drained in [0, 100)): a
  // burst may wait up to 100 ms. The queue never drains: the oldest waiter
  // (e) has waited 10 ms, then 60 ms, at the two grants.
  s.At(110);
  s.a.permits[0].Release(true);  // the newest (f) runs
  s.At(150);
  s.limiter->Acquire(1, s.a.For("g"));
  s.At(160);
  s.a.permits[1].Release(true);  // g runs; e (60 ms) is kept
  EXPECT_TRUE(s.a.refusals.empty());
  // Interval [200, 300): overloaded, the timeout is 5 ms: e (100 ms) is shed.
  s.At(200);
  s.a.permits[2].Release(true);
  ASSERT_EQ(s.a.refusals.size(), 1u);
  EXPECT_EQ(s.a.refusals[0].rfind("e: overloaded: queued 100.0", 0), 0u) << s.a.refusals[0];
  EXPECT_NE(s.a.refusals[0].find("CoDel timeout of 5.0"), std::string::npos) << s.a.refusals[0];
  s.At(201);
  s.limiter->Acquire(1, s.a.For("h"));  // the server is idle: runs at once (the queue drains)
  s.At(202);
  s.limiter->Acquire(1, s.a.For("i"));
  s.At(204);
  s.limiter->Acquire(1, s.a.For("j"));
  s.At(206);
  s.a.permits[3].Release(true);  // i waited 4 ms: FIFO, i runs
  s.At(209);
  s.limiter->Acquire(1, s.a.For("k"));
  s.At(212);
  s.a.permits[4].Release(true);  // j waited 8 ms: shed; k (3 ms) runs and drains the queue
  ASSERT_EQ(s.a.refusals.size(), 2u);
  EXPECT_EQ(s.a.refusals[1].rfind("j: overloaded: queued 8.0", 0), 0u) << s.a.refusals[1];
  // Interval [300, 400): granting drained the queue in [200, 300), so it is
  // not overloaded any more and a 28 ms wait is a burst again.
  s.At(302);
  s.limiter->Acquire(1, s.a.For("l"));
  s.At(310);
  s.limiter->Acquire(1, s.a.For("m"));
  s.At(320);
  s.a.permits[5].Release(true);  // l has waited 18 ms: the newest (m) runs
  s.At(330);
  s.a.permits[6].Release(true);  // then l, after 28 ms
  EXPECT_EQ(s.a.order, (std::vector<std::string>{"p0", "f", "g", "h", "i", "k", "m", "l"}));
  EXPECT_EQ(s.a.refusals.size(), 2u);
  EXPECT_EQ(s.limiter->stats().shed, 2);
}

TEST(ConcurrencyLimiterTest, WithoutAQueueAcquireAnswersAtOnce) {
  FakeClock clock;
  auto limiter = Make(Fixed(1, 1, 0, 0), clock);
  Answers a;
  limiter->Acquire(1, a.For("one"));
  limiter->Acquire(1, a.For("two"));
  EXPECT_EQ(a.order, std::vector<std::string>{"one"});
  ASSERT_EQ(a.refusals.size(), 1u);
  EXPECT_EQ(limiter->queued(), 0);
}

TEST(ConcurrencyLimiterTest, FailuresShrinkTheAdaptiveLimit) {
  FakeClock clock;
  ConcurrencyLimiter::Options o;
  o.limit.initial_limit = 16;
  o.limit.min_window_samples = 1;
  auto limiter = Make(o, clock);
  auto call = [&](bool ok) {
    Permit p = std::move(limiter->TryAcquire(1)).value();
    clock.Advance(milliseconds(1));
    p.Release(ok);
  };
  call(true);  // the first release starts the baseline probe at min_limit ...
  EXPECT_EQ(limiter->limit(), 1);
  clock.Advance(o.limit.window);
  call(true);  // ... which ends after one window: baseline 1 ms
  EXPECT_EQ(limiter->limit(), 16);
  clock.Advance(o.limit.window);
  call(false);
  EXPECT_EQ(limiter->limit(), 14);  // floor(16 * backoff 0.9)
}

// With codel_target_baselines, the CoDel target follows the probed no-queue
// latency (clamped to [codel_min_target, codel_target]) and the interval
// keeps its 1:20 ratio; a standing queue is then cut to that target.
TEST(ConcurrencyLimiterTest, CoDelTargetFollowsTheBaseline) {
  FakeClock clock;
  ConcurrencyLimiter::Options o;
  o.limit.initial_limit = o.limit.max_limit = 1;
  o.limit.min_window_samples = 1;
  o.max_queue_size = 100;
  o.codel_target_baselines = 2;
  o.codel_min_target = std::chrono::microseconds(100);
  auto limiter = Make(o, clock);
  EXPECT_EQ(limiter->codel_target(), milliseconds(5));
  auto call = [&](std::chrono::microseconds service) { RunCall(*limiter, clock, service); };
  call(std::chrono::microseconds(300));  // starts the probe
  clock.Advance(o.limit.window);
  call(std::chrono::microseconds(300));  // ends it: baseline 300 us
  EXPECT_EQ(limiter->codel_target(), std::chrono::microseconds(600));
  // A standing queue (two arrivals per service time of 1 ms): once every
  // waiter has waited past the target for a whole interval (20 x 600 us =
  // 12 ms), waits over 600 us are shed.
  Answers a;
  limiter->Acquire(1, a.For("running"));
  size_t released = 0;
  for (int i = 0; i < 60; ++i) {
    limiter->Acquire(1, a.For("a" + std::to_string(i)));
    limiter->Acquire(1, a.For("b" + std::to_string(i)));
    clock.Advance(std::chrono::microseconds(1000));
    ASSERT_LT(released, a.permits.size());
    a.permits[released++].Release(true);
  }
  EXPECT_GT(limiter->stats().shed, 0);
  EXPECT_EQ(limiter->stats().refused, 0);  // shed by age, never by a full queue
  ASSERT_FALSE(a.refusals.empty());
  EXPECT_NE(a.refusals.back().find("over the CoDel timeout of 0.6"), std::string::npos) << a.refusals.back();
  EXPECT_LT(limiter->queued(), 4);  // cut to about the target
  while (released < a.permits.size()) a.permits[released++].Release(true);

  // A slow service: 2 x 10 ms is clamped to the 5 ms ceiling.
  auto slow = Make(o, clock);
  for (int i = 0; i < 2; ++i) {
    RunCall(*slow, clock, milliseconds(10));
    clock.Advance(o.limit.window);
  }
  EXPECT_EQ(slow->codel_target(), milliseconds(5));
}

TEST(ConcurrencyLimiterTest, ModelServerIntervalIsFiveTargets) {
  FakeClock clock;
  ConcurrencyLimiter::Options o = ConcurrencyLimiter::Options::ForModelServer();
  o.limit.initial_limit = o.limit.max_limit = 1;
  o.limit.min_window_samples = 1;
  auto limiter = Make(o, clock);
  auto call = [&](std::chrono::microseconds service) { RunCall(*limiter, clock, service); };
  call(std::chrono::microseconds(200));  // starts the probe
  clock.Advance(o.limit.window);
  call(std::chrono::microseconds(200));  // ends it: baseline, and target, 200 us
  ASSERT_EQ(limiter->codel_target(), std::chrono::microseconds(200));
  clock.Advance(milliseconds(1));  // past the interval in progress
  Answers a;
  limiter->Acquire(1, a.For("running"));
  limiter->Acquire(1, a.For("kept"));
  // "kept" waits exactly the 1 ms interval; not overloaded, that is allowed.
  clock.Advance(std::chrono::microseconds(1000));
  a.permits[0].Release(true);
  limiter->Acquire(1, a.For("shed"));
  clock.Advance(std::chrono::microseconds(1001));
  a.permits[1].Release(true);
  EXPECT_EQ(a.order, (std::vector<std::string>{"running", "kept"}));
  ASSERT_EQ(a.refusals.size(), 1u);
  EXPECT_EQ(a.refusals[0].rfind("shed: overloaded: queued 1.001", 0), 0u) << a.refusals[0];
  EXPECT_NE(a.refusals[0].find("CoDel timeout of 1.0"), std::string::npos) << a.refusals[0];
}

TEST(ConcurrencyLimiterTest, ConcurrentCallersNeverExceedTheLimit) {
  FakeClock clock;
  auto limiter = Make(Fixed(3, 1, 0, 0), clock);
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  std::vector<std::thread> threads;
  threads.reserve(2);
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        Result<Permit> p = limiter->TryAcquire(1);
        if (!p.ok()) continue;
        const int now = ++running;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        --running;
        p->Release(true);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(most.load(), 3);
  EXPECT_EQ(limiter->inflight(), 0);
}

TEST(ConcurrencyLimiterTest, CreateRejectsBadOptions) {
  FakeClock clock;
  ConcurrencyLimiter::Options o;
  o.priority_levels = 3;
  o.priority_headroom = 0.5;  // (3 - 1) * 0.5 = 1: the lowest priority would get no slot
  EXPECT_NE(ConcurrencyLimiter::Create(o, clock).status().message().find("priority_headroom"),
            std::string::npos);
  o = {};
  o.codel_interval = milliseconds(1);
  EXPECT_NE(ConcurrencyLimiter::Create(o, clock).status().message().find("codel_interval"),
            std::string::npos);
  o = {};
  o.limit.max_limit = 0;
  EXPECT_EQ(ConcurrencyLimiter::Create(o, clock).status().code(), StatusCode::kInvalidArgument);
  o = {};
  o.codel_min_target = milliseconds(6);  // above codel_target
  EXPECT_NE(ConcurrencyLimiter::Create(o, clock).status().message().find("codel_min_target"),
            std::string::npos);
  o = {};
  o.codel_target_baselines = -1;
  EXPECT_NE(ConcurrencyLimiter::Create(o, clock).status().message().find("codel_target_baselines"),
            std::string::npos);
}

}  // namespace
}  // namespace hotpath
