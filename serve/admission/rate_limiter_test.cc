#include "serve/admission/rate_limiter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace hotpath {
namespace {

using std::chrono::milliseconds;

std::unique_ptr<RateLimiter> MakeLimiter(const RateLimiter::Options& o, const Clock& clock) {
  auto r = RateLimiter::Create(o, clock);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(r).value();
}

// The oracle: a token bucket kept in "nanotokens" (one token = T ns of
// credit), refilled one per ns up to burst * T, spending cost * T per request.
class BruteForceBucket {
 public:
  BruteForceBucket(int64_t interval_ns, int64_t burst)
      : interval_(interval_ns), capacity_(burst * interval_ns) {}

  // Returns 0 when allowed, else the wait until `cost` tokens are there (the
  // bucket gains one nanotoken per ns).
  int64_t Decide(const std::string& client, int64_t now, int64_t cost) {
    auto [it, fresh] = level_.try_emplace(client, Bucket{capacity_, now});
    Bucket& b = it->second;
    b.nanotokens = std::min(capacity_, b.nanotokens + (now - b.last));
    b.last = now;
    const int64_t need = cost * interval_;
    if (b.nanotokens >= need) {
      b.nanotokens -= need;
      return 0;
    }
    return need - b.nanotokens;
  }

 private:
  struct Bucket {
    int64_t nanotokens;
    int64_t last;
  };
  const int64_t interval_;
  const int64_t capacity_;
  std::map<std::string, Bucket> level_;
};

TEST(RateLimiterTest, FollowsHandComputedSchedule) {
  // 10 requests/s (T = 100 ms), burst 3: a fresh client may send 3 at once,
  // then one per 100 ms.
  FakeClock clock;
  auto limiter = MakeLimiter({.rate_per_s = 10, .burst = 3}, clock);
  ASSERT_EQ(limiter->emission_interval(), milliseconds(100));
  struct Step {
    int64_t advance_ms;
    bool allowed;
    int64_t retry_ms;
  };
  const Step schedule[] = {
      {0, true, 0},      // 3 tokens -> 2
      {0, true, 0},      // -> 1
      {0, true, 0},      // -> 0
      {0, false, 100},   // empty: one token refills in 100 ms
      {30, false, 70},   // 0.3 tokens
      {70, true, 0},     // t = 100: 1 token -> 0
      {0, false, 100},   //
      {250, true, 0},    // t = 350: 2.5 tokens -> 1.5
      {0, true, 0},      // -> 0.5
      {0, false, 50},    // 0.5 tokens: 50 ms to 1
      {10000, true, 0},  // long idle: full bucket (3) again, not more
      {0, true, 0},     {0, true, 0}, {0, false, 100},
  };
  for (size_t i = 0; i < std::size(schedule); ++i) {
    clock.Advance(milliseconds(schedule[i].advance_ms));
    const RateLimitDecision d = limiter->Decide("client-a");
    EXPECT_EQ(d.allowed, schedule[i].allowed) << "step " << i;
    EXPECT_EQ(d.retry_after, milliseconds(schedule[i].retry_ms)) << "step " << i;
  }
  // Another client has its own full bucket.
  EXPECT_TRUE(limiter->Decide("client-b").allowed);
}

TEST(RateLimiterTest, CostSpendsSeveralTokens) {
  FakeClock clock;
  auto limiter = MakeLimiter({.rate_per_s = 10, .burst = 5}, clock);
  EXPECT_TRUE(limiter->Decide("k", 4).allowed);         // 5 -> 1
  const RateLimitDecision d = limiter->Decide("k", 3);  // needs 2 more tokens
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, milliseconds(200));
  EXPECT_TRUE(limiter->Decide("k", 1).allowed);  // the refusal spent nothing
}

TEST(RateLimiterTest, RetryAfterIsExact) {
  FakeClock clock;
  auto limiter = MakeLimiter({.rate_per_s = 7, .burst = 2}, clock);
  ASSERT_TRUE(limiter->Decide("k").allowed);
  ASSERT_TRUE(limiter->Decide("k").allowed);
  clock.Advance(Nanos(12345));
  const RateLimitDecision d = limiter->Decide("k");
  ASSERT_FALSE(d.allowed);
  clock.Advance(d.retry_after - Nanos(1));
  EXPECT_FALSE(limiter->Decide("k").allowed);
  clock.Advance(Nanos(1));
  EXPECT_TRUE(limiter->Decide("k").allowed);
}

TEST(RateLimiterTest, MatchesBruteForceTokenBucketOnRandomArrivals) {
  std::mt19937_64 rng(42);
  for (int trial = 0; trial < 20; ++trial) {
    const double rate = std::uniform_real_distribution<double>(0.5, 2000)(rng);
    const int64_t burst = std::uniform_int_distribution<int64_t>(1, 8)(rng);
    FakeClock clock;
    auto limiter = MakeLimiter({.rate_per_s = rate, .burst = burst}, clock);
    const int64_t t_ns = limiter->emission_interval().count();
    BruteForceBucket oracle(t_ns, burst);
    std::uniform_int_distribution<int64_t> gap(0, 3 * t_ns / 2);
    std::uniform_int_distribution<int> client(0, 4);
    std::uniform_int_distribution<int64_t> cost(1, burst);
    for (int i = 0; i < 300; ++i) {
      clock.Advance(Nanos(gap(rng)));
      const std::string key = "c" + std::to_string(client(rng));
      const int64_t c = cost(rng);
      const int64_t want = oracle.Decide(key, clock.Now().time_since_epoch().count(), c);
      const RateLimitDecision got = limiter->Decide(key, c);
      ASSERT_EQ(got.allowed, want == 0) << "trial " << trial << " step " << i;
      ASSERT_EQ(got.retry_after.count(), want) << "trial " << trial << " step " << i;
    }
  }
}

TEST(RateLimiterTest, RetryAfterSecondsRoundsUp) {
  EXPECT_EQ((RateLimitDecision{true, Nanos(0)}).RetryAfterSeconds(), 0);
  EXPECT_EQ((RateLimitDecision{false, milliseconds(1)}).RetryAfterSeconds(), 1);
  EXPECT_EQ((RateLimitDecision{false, std::chrono::seconds(2)}).RetryAfterSeconds(), 2);
  EXPECT_EQ((RateLimitDecision{false, std::chrono::seconds(2) + Nanos(1)}).RetryAfterSeconds(), 3);
  const Status s = RateLimitDecision{false, milliseconds(250)}.ToStatus("key-7");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("key-7"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("250"), std::string::npos) << s.message();
  EXPECT_TRUE(RateLimitDecision{}.ToStatus("k").ok());
}

TEST(RateLimiterTest, TableStaysBoundedAndForgetsIdleClientsLosslessly) {
  FakeClock clock;
  // One shard of 4 clients, 1 request/s, burst 2.
  auto limiter = MakeLimiter({.rate_per_s = 1, .burst = 2, .max_clients = 4, .shards = 1}, clock);
  BruteForceBucket oracle(1'000'000'000, 2);
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> client(0, 11);
  std::uniform_int_distribution<int64_t> gap(0, 3'000'000'000);
  for (int i = 0; i < 2000; ++i) {
    clock.Advance(Nanos(gap(rng)));
    const std::string key = "k" + std::to_string(client(rng));
    const int64_t want = oracle.Decide(key, clock.Now().time_since_epoch().count(), 1);
    const RateLimitDecision got = limiter->Decide(key);
    ASSERT_LE(limiter->tracked_clients(), 4);
    // Only an active client dropped from a full table may be treated more
    // leniently than the oracle; never more strictly.
    if (want == 0) {
      ASSERT_TRUE(got.allowed) << "step " << i;
    }
  }
}

TEST(RateLimiterTest, FullTableOfActiveClientsDropsTheNearestToFull) {
  FakeClock clock;
  auto limiter = MakeLimiter({.rate_per_s = 1, .burst = 1, .max_clients = 2, .shards = 1}, clock);
  ASSERT_TRUE(limiter->Decide("a").allowed);  // a: TAT = t0 + 1 s
  clock.Advance(milliseconds(200));
  ASSERT_TRUE(limiter->Decide("b").allowed);  // b: TAT = t0 + 1.2 s
  clock.Advance(milliseconds(200));
  ASSERT_TRUE(limiter->Decide("c").allowed);  // table full of active clients: drops a
  EXPECT_EQ(limiter->tracked_clients(), 2);
  EXPECT_TRUE(limiter->Decide("a").allowed);   // forgotten: a fresh bucket (drops b)
  EXPECT_FALSE(limiter->Decide("c").allowed);  // c is still remembered
  EXPECT_TRUE(limiter->Decide("b").allowed);   // b was dropped: fresh again
}

TEST(RateLimiterTest, ConcurrentCallersShareOneBucket) {
  FakeClock clock;  // frozen: exactly `burst` requests may pass in total
  auto limiter = MakeLimiter({.rate_per_s = 1, .burst = 1000, .shards = 4}, clock);
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  threads.reserve(2);
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) allowed += limiter->Decide("shared").allowed ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 1000);
}

TEST(RateLimiterTest, CreateRejectsBadOptions) {
  FakeClock clock;
  EXPECT_EQ(RateLimiter::Create({.rate_per_s = 0}, clock).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(RateLimiter::Create({.rate_per_s = 1e10}, clock).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(RateLimiter::Create({.burst = 0}, clock).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(RateLimiter::Create({.shards = 3}, clock).status().code(),
            StatusCode::kInvalidArgument);
  const Status s = RateLimiter::Create({.max_clients = 8, .shards = 16}, clock).status();
  EXPECT_NE(s.message().find("max_clients"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace hotpath
