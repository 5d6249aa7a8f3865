// bench_admission: the cost of each admission decision, and how the
// concurrency limiter holds up in the overload simulation.
//
//   rate_limit_ns          RateLimiter::Decide, 100k clients in random order (1 thread)
//   rate_limit_ns_2t       the same with 2 threads, ns per decision per thread
//   acquire_release_ns     ConcurrencyLimiter::TryAcquire + Permit::Release (1 thread)
//   acquire_release_ns_2t  the same with 2 threads, per thread
//   breaker_ns             CircuitBreaker::Allow + Record (1 thread)
//   overload_*             tests' simulated server (4 workers, exponential 1 ms
//                          service) at 1x/2x/3x capacity behind the limiter;
//                          goodput as a fraction of capacity, p99 as a ratio to
//                          the unloaded p99 (the same server at 0.05x, no limiter)
// Timings are medians of 5 repeats on the real clock. Progress goes to
// stderr; the last stdout line is one JSON object.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "serve/admission/circuit_breaker.h"
#include "serve/admission/concurrency_limiter.h"
#include "serve/admission/rate_limiter.h"
#include "serve/admission/testing/overload_sim.h"

namespace hotpath {
namespace {

constexpr int kRepeats = 5;
constexpr int kClients = 100'000;
constexpr int kOps = 2'000'000;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Runs `body(thread_index)` on `threads` threads at once; returns ns per op
// per thread, where each thread does `ops` operations.
double TimeThreads(int threads, int ops, const std::function<void(int)>& body) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (int t = 0; t < threads; ++t) pool.emplace_back(body, t);
  for (auto& t : pool) t.join();
  const auto ns =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start);
  return ns.count() / ops;
}

double RateLimitNs(int threads) {
  std::vector<std::string> keys;
  keys.reserve(kClients);
  for (int i = 0; i < kClients; ++i) keys.push_back("client-" + std::to_string(i));
  std::vector<std::vector<int>> order(threads);
  std::mt19937 rng(threads);
  for (auto& o : order) {
    o.resize(kOps);
    for (int& k : o) k = static_cast<int>(rng() % kClients);
  }
  std::vector<double> runs;
  for (int r = 0; r < kRepeats; ++r) {
    auto limiter = RateLimiter::Create({.rate_per_s = 1000, .burst = 100}).value();
    for (const auto& k : keys) (void)limiter->Decide(k);  // every client known
    int64_t allowed = 0;
    runs.push_back(TimeThreads(threads, kOps, [&](int t) {
      int64_t ok = 0;
      for (int k : order[t]) ok += limiter->Decide(keys[k]).allowed ? 1 : 0;
      __atomic_add_fetch(&allowed, ok, __ATOMIC_RELAXED);
    }));
    std::fprintf(stderr, "rate limit, %d thread(s): %.1f ns/decision (%lld allowed)\n", threads,
                 runs.back(), static_cast<long long>(allowed));
  }
  return Median(runs);
}

double AcquireReleaseNs(int threads) {
  std::vector<double> runs;
  for (int r = 0; r < kRepeats; ++r) {
    ConcurrencyLimiter::Options o;
    o.limit.initial_limit = o.limit.min_limit = o.limit.max_limit = 64;
    auto limiter = ConcurrencyLimiter::Create(o).value();
    runs.push_back(TimeThreads(threads, kOps, [&](int) {
      for (int i = 0; i < kOps; ++i) {
        Result<ConcurrencyLimiter::Permit> p = limiter->TryAcquire(1);
        if (p.ok()) p->Release(true);
      }
    }));
    std::fprintf(stderr, "acquire+release, %d thread(s): %.1f ns\n", threads, runs.back());
  }
  return Median(runs);
}

double BreakerNs() {
  std::vector<double> runs;
  for (int r = 0; r < kRepeats; ++r) {
    CircuitBreaker::Options o;
    o.name = "bench";
    auto breaker = CircuitBreaker::Create(o).value();
    runs.push_back(TimeThreads(1, kOps, [&](int) {
      for (int i = 0; i < kOps; ++i) {
        Result<CircuitBreaker::Ticket> t = breaker->Allow();
        if (t.ok()) breaker->Record(*t, true);
      }
    }));
    std::fprintf(stderr, "breaker allow+record: %.1f ns\n", runs.back());
  }
  return Median(runs);
}

admission_testing::OverloadSimOptions Scenario(double load) {
  admission_testing::OverloadSimOptions o;
  o.load = load;
  o.duration = std::chrono::seconds(30);
  o.warmup = std::chrono::seconds(2);
  o.limiter.codel_target = std::chrono::microseconds(500);
  o.limiter.codel_interval = std::chrono::milliseconds(5);
  return o;
}

admission_testing::OverloadSimResult Simulate(const admission_testing::OverloadSimOptions& o,
                                              const char* label, double unloaded_p99_ns) {
  admission_testing::OverloadSimResult r = admission_testing::RunOverloadSim(o).value();
  std::fprintf(stderr,
               "sim %-22s load %.2fx: goodput %.3f of capacity, p50 %.2f ms, p99 %.2f ms "
               "(%.2fx unloaded), refused+shed %lld, most held %lld\n",
               label, o.load, r.goodput_fraction, r.p50.count() / 1e6, r.p99.count() / 1e6,
               unloaded_p99_ns > 0 ? r.p99.count() / unloaded_p99_ns : 1.0,
               static_cast<long long>(r.refused), static_cast<long long>(r.max_waiting));
  return r;
}

}  // namespace
}  // namespace hotpath

int main() {
  using namespace hotpath;
  admission_testing::OverloadSimOptions unloaded_opts = Scenario(0.05);
  unloaded_opts.use_limiter = false;
  const double unloaded = Simulate(unloaded_opts, "unloaded, no limiter", 0).p99.count();
  auto ratio = [unloaded](const admission_testing::OverloadSimResult& r) {
    return r.p99.count() / unloaded;
  };
  const auto x1 = Simulate(Scenario(1.0), "limiter + CoDel queue", unloaded);
  const auto x2 = Simulate(Scenario(2.0), "limiter + CoDel queue", unloaded);
  const auto x3 = Simulate(Scenario(3.0), "limiter + CoDel queue", unloaded);
  admission_testing::OverloadSimOptions no_queue = Scenario(3.0);
  no_queue.limiter.max_queue_size = 0;
  const auto nq = Simulate(no_queue, "limiter, no queue", unloaded);
  admission_testing::OverloadSimOptions none = Scenario(3.0);
  none.use_limiter = false;
  none.duration = std::chrono::seconds(10);
  const auto nl = Simulate(none, "no admission control", unloaded);

  const double rl1 = RateLimitNs(1);
  const double rl2 = RateLimitNs(2);
  const double ar1 = AcquireReleaseNs(1);
  const double ar2 = AcquireReleaseNs(2);
  const double br = BreakerNs();
  std::printf(
      "{\"rate_limit_ns\": %.1f, \"rate_limit_ns_2t\": %.1f, \"acquire_release_ns\": %.1f, "
      "\"acquire_release_ns_2t\": %.1f, \"breaker_ns\": %.1f, \"overload_goodput\": %.3f, "
      "\"overload_p99_ratio\": %.2f, \"overload_goodput_2x\": %.3f, \"overload_p99_ratio_2x\": "
      "%.2f, \"overload_goodput_1x\": %.3f, \"overload_p99_ratio_1x\": %.2f, "
      "\"no_queue_goodput_3x\": %.3f, \"no_queue_p99_ratio_3x\": %.2f, "
      "\"no_limiter_p99_ratio_3x\": %.1f, \"unloaded_p99_us\": %.1f}\n",
      rl1, rl2, ar1, ar2, br, x3.goodput_fraction, ratio(x3), x2.goodput_fraction, ratio(x2),
      x1.goodput_fraction, ratio(x1), nq.goodput_fraction, ratio(nq), ratio(nl), unloaded / 1e3);
  return 0;
}
