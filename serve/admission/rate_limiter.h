// RateLimiter: per-client request rate limits for the fronts (HTTP 429 with
// Retry-After), by the generic cell rate algorithm (GCRA).
//
// GCRA is a token bucket of `burst` tokens refilled at `rate_per_s`, stored as
// one number per client: the theoretical arrival time TAT. With T = the
// emission interval (1 / rate, rounded to whole ns) and a request of `cost`
// tokens arriving at t:
//   tat = max(TAT, t);  allowed iff tat + cost*T - t <= burst*T;
//   allowed: TAT = tat + cost*T;  refused: retry_after = tat + cost*T - burst*T - t.
// A bucket holding b tokens is TAT = t + (burst - b)*T, so a refused request
// succeeds exactly `retry_after` later if nothing else is spent meanwhile.
// A client whose TAT <= now has a full bucket, the same as an unknown client:
// forgetting it loses nothing. That is how the table stays bounded: when a
// shard is full, its idle clients are dropped first; only when every client
// in the shard is active is the one closest to a full bucket dropped (it may
// then spend up to one extra burst).
//
// Thread-safety: Decide may be called from any number of threads. Clients
// are spread over `shards` hash shards, each with its own lock held for one
// hash lookup and a few integer operations (plus a sweep of the shard when it
// is full).
#ifndef HOTPATH_SERVE_ADMISSION_RATE_LIMITER_H_
#define HOTPATH_SERVE_ADMISSION_RATE_LIMITER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace hotpath {

// The answer for one request.
struct RateLimitDecision {
  bool allowed = true;
  // When refused: the exact wait until the same request would be allowed.
  // Zero when allowed.
  Nanos retry_after{0};

  // Retry-After header value: retry_after in whole seconds, rounded up (>= 1
  // when refused, 0 when allowed).
  int64_t RetryAfterSeconds() const;
  // OK when allowed, else RESOURCE_EXHAUSTED naming `client` and the wait in
  // ms (the front answers 429 with Retry-After: RetryAfterSeconds()).
  Status ToStatus(std::string_view client) const;
};

class RateLimiter {
 public:
  struct Options {
    double rate_per_s = 100;          // sustained requests per second per client, > 0, T >= 1 ns
    int64_t burst = 20;               // bucket size in requests, >= 1
    int64_t max_clients = 1'000'000;  // clients remembered at once, >= shards
    int shards = 64;                  // lock shards, a power of two in [1, 4096]
  };

  // Validates `options` (INVALID_ARGUMENT naming the field). `clock` must
  // outlive the limiter.
  static Result<std::unique_ptr<RateLimiter>> Create(const Options& options,
                                                     const Clock& clock = RealClock());
  ~RateLimiter();
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Spends `cost` tokens of `client`'s bucket (the API key or client IP) if it
  // holds them, else spends nothing and says how long to wait. REQUIRES:
  // 1 <= cost <= burst (a larger cost could never pass). Thread-safe.
  RateLimitDecision Decide(std::string_view client, int64_t cost = 1);

  // Clients currently remembered (at most max_clients). Thread-safe.
  int64_t tracked_clients() const;
  // The emission interval T in force.
  Nanos emission_interval() const { return Nanos(interval_ns_); }

 private:
  struct Shard;
  RateLimiter(const Options& options, const Clock& clock);

  const Options options_;
  const Clock& clock_;
  const int64_t interval_ns_;  // T
  const int64_t shard_capacity_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace hotpath

#endif  // HOTPATH_SERVE_ADMISSION_RATE_LIMITER_H_
