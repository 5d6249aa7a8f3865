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

TEST(ConcurrencyLimiterTest, CoDelAbsorbsABurstAndCutsAStandingQueue) {
  // Limit 1, target 5 ms, interval 100 ms. Times in ms from the start.
  FakeClock clock;
  auto limiter = Make(Fixed(1, 1, 0, 10), clock);
  Answers a;
  auto at = [&clock, start = clock.Now()](int ms) {
    clock.Advance(start + milliseconds(ms) - clock.Now());
  };
  // Interval [0, 100): p0 runs at once, which drains the queue.
  limiter->Acquire(1, a.For("p0"));
  limiter->Acquire(1, a.For("w1"));
  at(10);
  limiter->Acquire(1, a.For("w2"));
  at(50);
  a.permits[0].Release(true);  // w1 waited 50 ms > target: a burst, allowed up to 100 ms
  at(60);
  limiter->Acquire(1, a.For("w3"));
  // Interval [100, 200): not overloaded (the queue drained at 0). The queue
  // never drains and every dequeued request waited 90 ms.
  at(100);
  a.permits[1].Release(true);  // w2 runs after 90 ms
  at(110);
  limiter->Acquire(1, a.For("w4"));
  at(150);
  a.permits[2].Release(true);  // w3 runs after 90 ms
  at(160);
  limiter->Acquire(1, a.For("w5"));
  EXPECT_TRUE(a.refusals.empty());
  // Interval [200, 300): overloaded, the timeout is 5 ms. w4 (90 ms) and w5
  // (40 ms) are shed.
  at(200);
  a.permits[3].Release(true);
  ASSERT_EQ(a.refusals.size(), 2u);
  EXPECT_EQ(a.refusals[0].rfind("w4: overloaded: queued 90.0", 0), 0u) << a.refusals[0];
  EXPECT_NE(a.refusals[0].find("CoDel timeout of 5.0"), std::string::npos) << a.refusals[0];
  at(201);
  limiter->Acquire(1, a.For("w6"));  // the server is idle: runs at once (the queue drains)
  at(202);
  limiter->Acquire(1, a.For("w7"));
  at(205);
  limiter->Acquire(1, a.For("w8"));
  at(207);
  a.permits[4].Release(true);  // w7 waited exactly 5 ms: kept, runs
  at(213);
  a.permits[5].Release(true);  // w8 waited 8 ms: shed
  ASSERT_EQ(a.refusals.size(), 3u);
  EXPECT_EQ(a.refusals[2].rfind("w8: overloaded: queued 8.0", 0), 0u) << a.refusals[2];
  at(250);
  limiter->Acquire(1, a.For("w9"));  // runs at once
  at(260);
  limiter->Acquire(1, a.For("w10"));
  // Interval [300, 400): the queue drained during [200, 300), so it is not
  // overloaded any more and a 41 ms wait is a burst again.
  at(301);
  a.permits[6].Release(true);
  EXPECT_EQ(a.order, (std::vector<std::string>{"p0", "w1", "w2", "w3", "w6", "w7", "w9", "w10"}));
  EXPECT_EQ(a.refusals.size(), 3u);
  EXPECT_EQ(limiter->stats().shed, 3);
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
  auto call = [&](std::chrono::microseconds service) {
    Permit p = std::move(limiter->TryAcquire(1)).value();
    clock.Advance(service);
    p.Release(true);
  };
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
    Permit p = std::move(slow->TryAcquire(1)).value();
    clock.Advance(milliseconds(10));
    p.Release(true);
    clock.Advance(o.limit.window);
  }
  EXPECT_EQ(slow->codel_target(), milliseconds(5));
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
