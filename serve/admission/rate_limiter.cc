#include "serve/admission/rate_limiter.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <functional>
#include <string>

#include "core/thread_annotations.h"
#include "serve/admission/internal/client_table.h"

namespace hotpath {

// One lock shard of the client table.
struct RateLimiter::Shard {
  explicit Shard(int64_t capacity) : table(capacity) {}

  mutable Mutex mu;
  admission_internal::ClientTable table GUARDED_BY(mu);
};

int64_t RateLimitDecision::RetryAfterSeconds() const {
  constexpr int64_t kNsPerS = 1'000'000'000;
  if (allowed) return 0;
  return std::max<int64_t>(1, (retry_after.count() + kNsPerS - 1) / kNsPerS);
}

Status RateLimitDecision::ToStatus(std::string_view client) const {
  if (allowed) return OkStatus();
  const double ms = static_cast<double>(retry_after.count()) / 1e6;
  return ResourceExhaustedError("rate limit exceeded for client '" + std::string(client) +
                                "': retry after " + std::to_string(ms) + " ms");
}

Result<std::unique_ptr<RateLimiter>> RateLimiter::Create(const Options& options,
                                                         const Clock& clock) {
  if (!(options.rate_per_s > 0) || !std::isfinite(options.rate_per_s) ||
      std::llround(1e9 / options.rate_per_s) < 1) {
    return InvalidArgumentError("rate_per_s must be > 0 and at most 1e9, got " +
                                std::to_string(options.rate_per_s));
  }
  if (options.burst < 1) {
    return InvalidArgumentError("burst must be >= 1, got " + std::to_string(options.burst));
  }
  const int s = options.shards;
  if (s < 1 || s > 4096 || (s & (s - 1)) != 0) {
    return InvalidArgumentError("shards must be a power of two in [1, 4096], got " +
                                std::to_string(s));
  }
  if (options.max_clients < s) {
    return InvalidArgumentError("max_clients must be >= shards, got " +
                                std::to_string(options.max_clients));
  }
  return std::unique_ptr<RateLimiter>(new RateLimiter(options, clock));
}

RateLimiter::RateLimiter(const Options& options, const Clock& clock)
    : options_(options),
      clock_(clock),
      interval_ns_(std::llround(1e9 / options.rate_per_s)),
      shard_capacity_(options.max_clients / options.shards) {
  shards_.reserve(options.shards);
  for (int i = 0; i < options.shards; ++i) {
    shards_.push_back(std::make_unique<Shard>(shard_capacity_));
  }
}

RateLimiter::~RateLimiter() = default;

RateLimitDecision RateLimiter::Decide(std::string_view client, int64_t cost) {
  assert(cost >= 1 && cost <= options_.burst);
  const uint64_t h = std::hash<std::string_view>()(client);
  // The high bits pick the shard; the table uses the low bits.
  Shard& shard = *shards_[(h >> 40) & static_cast<uint64_t>(options_.shards - 1)];
  const int64_t now = clock_.Now().time_since_epoch().count();
  const int64_t spend = cost * interval_ns_;
  const int64_t limit = options_.burst * interval_ns_;
  MutexLock lock(&shard.mu);
  int64_t* known = shard.table.Find(h, client);
  const int64_t tat = known == nullptr ? now : std::max(*known, now);
  const int64_t over = tat + spend - now - limit;
  if (over > 0) return RateLimitDecision{false, Nanos(over)};
  if (known != nullptr) {
    *known = tat + spend;
  } else {
    shard.table.Insert(h, client, tat + spend, now);
  }
  return RateLimitDecision{};
}

int64_t RateLimiter::tracked_clients() const {
  int64_t n = 0;
  for (const auto& shard : shards_) {
    MutexLock lock(&shard->mu);
    n += shard->table.size();
  }
  return n;
}

}  // namespace hotpath
