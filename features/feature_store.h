// FeatureStore: the embedded online store. Applies events to per-entity
// windowed aggregation state held in memory, sharded by entity key (one mutex
// per shard, never one lock for all), and answers batch reads — entities ×
// features, each value with a status — now or "as of" a past time within a
// group's retention. Memory is bounded by TTL eviction and a cap on entities.
// All times come from the injected Clock (WallNow, ms since the epoch).
//
// Thread-safe: every method may be called concurrently.
#ifndef HOTPATH_FEATURES_FEATURE_STORE_H_
#define HOTPATH_FEATURES_FEATURE_STORE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "features/definitions.h"
#include "features/event.h"
#include "features/read.h"

namespace hotpath::features {

namespace internal {
class GroupTable;
}

// The outcome of one Ingest call. Every event is either applied or listed in
// `errors` with the reason; nothing is dropped silently.
struct IngestReport {
  std::size_t applied = 0;   // events applied to every group that reads them
  std::size_t too_late = 0;  // refused: older than a group's allowed lateness
  std::size_t rejected = 0;  // refused for any other reason
  // (index into the batch, reason); OUT_OF_RANGE for late events,
  // INVALID_ARGUMENT for malformed ones, RESOURCE_EXHAUSTED at the entity cap.
  std::vector<std::pair<std::size_t, Status>> errors;
};

// Where event batches go: FeatureStore::Ingest, DurableFeatureStore::Ingest
// or RedisFeatureStore::Ingest wrapped in a lambda (replay, the Streams
// consumer, the HTTP ingest route).
using IngestFn = std::function<Result<IngestReport>(std::span<const Event>)>;

// Totals since Create.
struct StoreStats {
  uint64_t applied = 0;
  uint64_t too_late = 0;
  uint64_t rejected = 0;
  uint64_t evicted = 0;         // entity states removed by TTL
  std::size_t entities = 0;     // entity states held, summed over groups
  std::size_t state_bytes = 0;  // EntityState bytes (excludes hash-map overhead)
};

class FeatureStore {
 public:
  struct Options {
    std::shared_ptr<const Definitions> definitions;  // required
    const Clock* clock = nullptr;                    // required; must outlive the store
    int shards = 64;                                 // power of two in [1, 65536]
    // Most entity states per group; new entities beyond it are refused with
    // RESOURCE_EXHAUSTED (after evicting expired ones in their shard).
    std::size_t max_entities_per_group = 50'000'000;
  };

  // INVALID_ARGUMENT when an option is missing or out of range, or a group
  // compiles to more than 128 slots.
  static Result<std::unique_ptr<FeatureStore>> Create(const Options& options);
  ~FeatureStore();
  FeatureStore(const FeatureStore&) = delete;
  FeatureStore& operator=(const FeatureStore&) = delete;

  // Validates each event against the clock (allowed lateness, future skew) and
  // the definitions, applies the valid ones, and reports the rest.
  IngestReport Ingest(std::span<const Event> events);

  // Applies events that an earlier Ingest accepted (write-ahead log replay):
  // no lateness or skew check. Malformed ones are still reported.
  IngestReport Reapply(std::span<const Event> events);

  // Checks what Ingest would refuse for `ev` without applying it; OK when it
  // would apply. Used to log only acceptable events.
  Status Check(const Event& ev) const;

  // Reads `sel` for each entity key into `out` (resized to keys × features,
  // entity-major). OUT_OF_RANGE when as_of lies outside a group's retention
  // or in the future; INVALID_ARGUMENT when profiles has the wrong size.
  Status Read(std::span<const std::string> entity_keys, const FeatureSelector& sel,
              const ReadOptions& options, std::vector<FeatureValue>* out) const;

  // Removes entity states whose TTL has passed; returns how many.
  std::size_t SweepExpired();

  StoreStats Stats() const;

  // Writes every entity state (a consistent copy per shard) to `out`.
  Status SaveSnapshot(std::ostream& out) const;
  // Adds the states in a SaveSnapshot stream to this store. DATA_LOSS when the
  // stream is truncated or corrupt, or was written for other definitions.
  Status LoadSnapshot(std::istream& in);

  const Definitions& definitions() const { return *defs_; }

 private:
  FeatureStore(const Options& options, std::vector<std::unique_ptr<internal::GroupTable>> tables);
  IngestReport Apply(std::span<const Event> events, bool check_time);
  // Builds the report from per-event statuses and adds it to the totals.
  IngestReport Tally(std::vector<Status> statuses);

  std::shared_ptr<const Definitions> defs_;
  const Clock& clock_;
  std::vector<std::unique_ptr<internal::GroupTable>> tables_;  // one per group
  std::atomic<uint64_t> applied_{0};
  std::atomic<uint64_t> too_late_{0};
  std::atomic<uint64_t> rejected_{0};
};

// Milliseconds since the Unix epoch on `clock`'s wall time.
int64_t WallMillis(const Clock& clock);

}  // namespace hotpath::features

#endif  // HOTPATH_FEATURES_FEATURE_STORE_H_
