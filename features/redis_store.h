// RedisFeatureStore: shared mode, for many hotpath replicas. Redis is the
// online store — one hash per (group, entity) holding the entity's time
// buckets ("<bucket>:<slot>" fields), lifetime cells ("L:<slot>") and newest
// event time ("t") — updated atomically per event by a Lua script, so any
// number of writers may share it. Reads fetch all hashes of a request with
// one pipelined round trip (HGETALL each) and evaluate them with the same
// code as the embedded store; an in-process cache bounded in entries keeps
// fetched states for `cache_ttl_ms`.
//
// With Redis unreachable, reads are answered from the cache up to
// `max_staleness_ms` old, each value marked `stale`; otherwise UNAVAILABLE.
// Writes fail with UNAVAILABLE (nothing is buffered: the caller keeps the
// events, e.g. an unacknowledged stream entry).
//
// Thread-safe. One Redis connection; requests on it are serialized.
// Sketch aggregations (distinct_count, quantile, last_n) are not available
// in shared mode: Create refuses definitions that use them.
#ifndef HOTPATH_FEATURES_REDIS_STORE_H_
#define HOTPATH_FEATURES_REDIS_STORE_H_

#include <cstdint>
#include <list>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/thread_annotations.h"
#include "features/definitions.h"
#include "features/event.h"
#include "features/feature_store.h"
#include "features/read.h"

struct redisContext;

namespace hotpath::features {

namespace internal {
struct GroupPlan;
class EntityState;
}  // namespace internal

class RedisFeatureStore {
 public:
  struct Options {
    std::shared_ptr<const Definitions> definitions;  // required
    const Clock* clock = nullptr;                    // required; must outlive the store
    std::string host = "127.0.0.1";
    int port = 6379;
    int timeout_ms = 200;               // connect and per-request I/O timeout
    std::string key_prefix = "hp:";     // hash key: PREFIX GROUP ":" ENTITY_KEY
    int64_t cache_ttl_ms = 0;           // serve cached states this fresh without a round trip
    int64_t max_staleness_ms = 60'000;  // oldest cached state served while Redis is down
    std::size_t cache_max_entities = 100'000;  // LRU bound on cached states
  };

  // INVALID_ARGUMENT for bad options; UNIMPLEMENTED naming a sketch
  // aggregation. Connects lazily: Create succeeds while Redis is down.
  static Result<std::unique_ptr<RedisFeatureStore>> Create(const Options& options);
  ~RedisFeatureStore();
  RedisFeatureStore(const RedisFeatureStore&) = delete;
  RedisFeatureStore& operator=(const RedisFeatureStore&) = delete;

  // Checks the events as FeatureStore::Ingest does and writes the valid ones
  // with one pipelined round trip. UNAVAILABLE (naming the server and the
  // error) when Redis cannot be reached: then the batch may be partly written
  // and the caller retries it; per-event refusals are in the report.
  Result<IngestReport> Ingest(std::span<const Event> events) EXCLUDES(conn_mu_);

  // As FeatureStore::Read (as_of reads are refused: OUT_OF_RANGE unless
  // as_of_ms is now). UNAVAILABLE when Redis is down and an entity has no
  // cached state within max_staleness_ms.
  Status Read(std::span<const std::string> entity_keys, const FeatureSelector& sel,
              const ReadOptions& options, std::vector<FeatureValue>* out)
      EXCLUDES(conn_mu_, cache_mu_);

 private:
  struct Cached;
  struct Fetch;
  RedisFeatureStore(const Options& options, std::vector<internal::GroupPlan> plans);
  Status Connect() REQUIRES(conn_mu_);
  // Checks events and builds one EVALSHA argument list per (event, group).
  IngestReport Prepare(std::span<const Event> events,
                       std::vector<std::vector<std::string>>* commands) const;
  // Fills `states` from fresh cache entries (also remembering stale ones for
  // a fallback) and returns what must be fetched.
  std::vector<Fetch> LookupCache(std::span<const std::string> entity_keys,
                                 const std::vector<int>& groups, TimePoint mono,
                                 std::vector<std::shared_ptr<const Cached>>& states)
      EXCLUDES(cache_mu_);
  // Fetches with one round trip, or falls back on cached states when Redis is down.
  Status Resolve(std::vector<Fetch>& fetches, TimePoint mono,
                 std::vector<std::shared_ptr<const Cached>>& states, std::vector<bool>& stale)
      EXCLUDES(conn_mu_, cache_mu_);
  Status FetchAll(std::vector<Fetch>& fetches) EXCLUDES(conn_mu_);
  void Evaluate(const internal::GroupPlan& plan, const Cached& c, const FeatureSelector& sel,
                int64_t now_ms, const Profile* profile, bool stale, FeatureValue* row) const;
  void Remember(const std::string& key, std::shared_ptr<const Cached> entry) REQUIRES(cache_mu_);
  std::string HashKey(int group, const std::string& entity_key) const;
  std::string ServerName() const;

  const Options options_;
  std::vector<internal::GroupPlan> plans_;
  Mutex conn_mu_;
  redisContext* conn_ GUARDED_BY(conn_mu_) = nullptr;  // null while disconnected
  std::string script_sha_ GUARDED_BY(conn_mu_);
  Mutex cache_mu_;
  // LRU: most recent at the front; `cache_` indexes it by hash key.
  std::list<std::string> lru_ GUARDED_BY(cache_mu_);
  std::unordered_map<std::string,
                     std::pair<std::shared_ptr<const Cached>, std::list<std::string>::iterator>>
      cache_ GUARDED_BY(cache_mu_);
};

}  // namespace hotpath::features

#endif  // HOTPATH_FEATURES_REDIS_STORE_H_
