// GroupTable: the entity states of one feature group, sharded by a hash of
// the entity key. Each shard has its own mutex, so ingest and reads of
// different entities rarely contend; no lock spans shards.
//
// Thread-safe.
#ifndef HOTPATH_FEATURES_INTERNAL_GROUP_TABLE_H_
#define HOTPATH_FEATURES_INTERNAL_GROUP_TABLE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/thread_annotations.h"
#include "features/internal/codec.h"
#include "features/internal/entity_state.h"
#include "features/internal/entity_table.h"
#include "features/internal/plan.h"
#include "features/read.h"

namespace hotpath::features::internal {

class GroupTable {
 public:
  GroupTable(GroupPlan plan, int shards, std::size_t max_entities);
  GroupTable(const GroupTable&) = delete;
  GroupTable& operator=(const GroupTable&) = delete;

  const GroupPlan& plan() const { return plan_; }

  // Slides each event's entity windows to `now_ms` and applies the event (of
  // a source this group reads); statuses[i] is OK or RESOURCE_EXHAUSTED when
  // a new entity would pass the cap. Events are grouped by shard (one lock
  // per shard per batch) and their slots, entries and states prefetched
  // ahead of use, across shard boundaries; events of one entity keep their
  // order.
  void ApplyBatch(std::span<const Event* const> events, int64_t now_ms, std::span<Status> statuses);

  // Writes the entity's values of this group's references in `sel` into
  // `row`, read at `t_ms`; TTL judged at `now_ms`.
  void Read(std::string_view key, const FeatureSelector& sel, int64_t t_ms, int64_t now_ms,
            const Profile* profile, FeatureValue* row) const;

  // Removes states whose TTL passed at `now_ms`; returns how many.
  std::size_t SweepExpired(int64_t now_ms);

  std::size_t entities() const;
  std::size_t state_bytes() const;
  uint64_t evicted() const { return evicted_.load(std::memory_order_relaxed); }

  // Calls `emit(key, encoded state)` for every entity, one shard locked at a time.
  void ForEachEncoded(
      const std::function<void(const std::string&, const std::string&)>& emit) const;
  // Inserts (or replaces) one entity state; false when `encoded` is corrupt.
  bool InsertEncoded(const std::string& key, std::string_view encoded);

 private:
  // Invariant: every state in `table` has had at least one event applied.
  struct Shard {
    mutable Mutex mu;
    EntityTable table GUARDED_BY(mu);
  };

  std::size_t ShardIndex(uint64_t hash) const { return (hash >> 40) & shard_mask_; }
  // Applies events[order[k]] for k = 0, 1, ... (order: grouped by ascending
  // shard) with a prefetch pipeline running ahead of the applies; locks each
  // shard for the run of its events (dynamic lock set: not annotated).
  void ApplyInShardOrder(std::span<const Event* const> events, std::span<const uint64_t> hashes,
                         std::span<const uint32_t> order, int64_t now_ms,
                         std::span<Status> statuses) HOTPATH_TA_(no_thread_safety_analysis);
  Status ApplyOne(Shard& shard, uint64_t hash, const Event& ev, int64_t now_ms) REQUIRES(shard.mu);
  bool Expired(const EntityState& state, int64_t now_ms) const;
  std::size_t SweepShard(Shard& shard, int64_t now_ms) REQUIRES(shard.mu);

  GroupPlan plan_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::size_t shard_mask_;
  std::size_t per_shard_cap_;
  std::atomic<uint64_t> evicted_{0};
};

}  // namespace hotpath::features::internal

#endif  // HOTPATH_FEATURES_INTERNAL_GROUP_TABLE_H_
