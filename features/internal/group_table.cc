#include "features/internal/group_table.h"

#include <algorithm>

#include "features/internal/evaluate.h"

namespace hotpath::features::internal {

GroupTable::GroupTable(GroupPlan plan, int shards, std::size_t max_entities)
    : plan_(std::move(plan)),
      shard_mask_(static_cast<std::size_t>(shards) - 1),
      per_shard_cap_(std::max<std::size_t>(1, max_entities / static_cast<std::size_t>(shards))) {
  for (int i = 0; i < shards; ++i) shards_.push_back(std::make_unique<Shard>());
}

bool GroupTable::Expired(const EntityState& state, int64_t now_ms) const {
  const int64_t ttl = plan_.def->ttl_ms;
  return ttl != kForeverMs && now_ms - state.last_event_ms() > ttl;
}

Status GroupTable::ApplyOne(Shard& shard, uint64_t hash, const Event& ev, int64_t now_ms) {
  EntityTable::Entry* entry = shard.table.Find(hash, ev.entity_key);
  if (entry == nullptr) {
    if (shard.table.size() >= per_shard_cap_ && SweepShard(shard, now_ms) == 0) {
      return ResourceExhaustedError("group \"" + plan_.def->name + "\": entity cap reached (" +
                                    std::to_string(per_shard_cap_) + " per shard)");
    }
    entry = &shard.table.FindOrInsert(hash, ev.entity_key);
  }
  const double* before = entry->state.data();
  entry->state.Advance(plan_, BucketOf(now_ms, plan_.bucket_ms));
  entry->state.Apply(plan_, plan_.sources[plan_.source_of[ev.source]], ev);
  if (entry->state.data() != before) shard.table.UpdateData(hash, ev.entity_key);
  return OkStatus();
}

void GroupTable::ApplyBatch(std::span<const Event* const> events, int64_t now_ms,
                            std::span<Status> statuses) {
  const std::size_t n = events.size();
  std::vector<uint64_t> hashes(n);
  std::vector<uint32_t> start(shards_.size() + 1, 0), order(n);
  for (std::size_t i = 0; i < n; ++i) {
    hashes[i] = EntityHash(events[i]->entity_key);
    ++start[ShardIndex(hashes[i]) + 1];
  }
  for (std::size_t s = 1; s < start.size(); ++s) start[s] += start[s - 1];
  std::vector<uint32_t> fill(start.begin(), start.end() - 1);
  for (std::size_t i = 0; i < n; ++i)
    order[fill[ShardIndex(hashes[i])]++] = static_cast<uint32_t>(i);
  for (std::size_t s = 0; s < shards_.size(); ++s) {
    if (start[s] == start[s + 1]) continue;
    Shard& shard = *shards_[s];
    MutexLock lock(&shard.mu);
    // Three-stage prefetch: slot, then entry, then the state's heap data.
    for (uint32_t k = start[s], end = start[s + 1]; k < end; ++k) {
      if (k + 16 < end) shard.table.PrefetchSlot(hashes[order[k + 16]]);
      if (k + 8 < end) shard.table.PrefetchEntry(hashes[order[k + 8]]);
      if (k + 3 < end) {
        const Event& ahead = *events[order[k + 3]];
        if (const auto* e = shard.table.Find(hashes[order[k + 3]], ahead.entity_key))
          e->state.Prefetch();
      }
      const uint32_t i = order[k];
      statuses[i] = ApplyOne(shard, hashes[i], *events[i], now_ms);
    }
  }
}

void GroupTable::Read(std::string_view key, const FeatureSelector& sel, int64_t t_ms,
                      int64_t now_ms, const Profile* profile, FeatureValue* row) const {
  const uint64_t hash = EntityHash(key);
  Shard& shard = *shards_[ShardIndex(hash)];
  MutexLock lock(&shard.mu);
  const EntityTable::Entry* entry = shard.table.Find(hash, key);
  if (entry == nullptr) {
    FillGroup(sel, plan_.group, ValueStatus::kNotFound, row);
  } else if (Expired(entry->state, now_ms)) {
    FillGroup(sel, plan_.group, ValueStatus::kExpired, row);
  } else {
    EvaluateGroup(plan_, entry->state, sel, t_ms, profile, row);
  }
}

std::size_t GroupTable::SweepShard(Shard& shard, int64_t now_ms) {
  std::size_t removed =
      shard.table.EraseIf([&](const EntityTable::Entry& e) { return Expired(e.state, now_ms); });
  evicted_.fetch_add(removed, std::memory_order_relaxed);
  return removed;
}

std::size_t GroupTable::SweepExpired(int64_t now_ms) {
  if (plan_.def->ttl_ms == kForeverMs) return 0;
  std::size_t removed = 0;
  for (auto& shard : shards_) {
    MutexLock lock(&shard->mu);
    removed += SweepShard(*shard, now_ms);
  }
  return removed;
}

std::size_t GroupTable::entities() const {
  std::size_t n = 0;
  for (const auto& shard : shards_) {
    MutexLock lock(&shard->mu);
    n += shard->table.size();
  }
  return n;
}

std::size_t GroupTable::state_bytes() const {
  std::size_t n = 0;
  for (const auto& shard : shards_) {
    MutexLock lock(&shard->mu);
    for (const auto& e : shard->table.entries()) n += e.state.MemoryBytes();
  }
  return n;
}

void GroupTable::ForEachEncoded(
    const std::function<void(const std::string&, const std::string&)>& emit) const {
  std::string buf;
  for (const auto& shard : shards_) {
    MutexLock lock(&shard->mu);
    for (const auto& e : shard->table.entries()) {
      buf.clear();
      ByteWriter w(&buf);
      e.state.Encode(plan_, w);
      emit(e.key, buf);
    }
  }
}

bool GroupTable::InsertEncoded(const std::string& key, std::string_view encoded) {
  EntityState state;
  ByteReader r(encoded);
  if (!state.Decode(plan_, r) || !r.done()) return false;
  const uint64_t hash = EntityHash(key);
  Shard& shard = *shards_[ShardIndex(hash)];
  MutexLock lock(&shard.mu);
  shard.table.FindOrInsert(hash, key).state = std::move(state);
  shard.table.UpdateData(hash, key);
  return true;
}

}  // namespace hotpath::features::internal
