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
  ApplyInShardOrder(events, hashes, order, now_ms, statuses);
}

void GroupTable::ApplyInShardOrder(std::span<const Event* const> events,
                                   std::span<const uint64_t> hashes,
                                   std::span<const uint32_t> order, int64_t now_ms,
                                   std::span<Status> statuses) {
  constexpr std::size_t kSlotAhead = 16, kEntryAhead = 8;
  const std::size_t n = order.size();
  auto shard_at = [&](std::size_t k) -> Shard& { return *shards_[ShardIndex(hashes[order[k]])]; };
  // Positions [0, locked) have their shard's lock held (or already released
  // after their last event). The pipeline locks a shard when its lookahead
  // first reaches one of the shard's events, so it never stalls at a shard
  // boundary; locks are taken in ascending shard order (no deadlock with
  // other batches; readers hold one lock at a time).
  std::size_t locked = 0;
  for (std::size_t k = 0; k < n; ++k) {
    for (const std::size_t ahead = std::min(k + kSlotAhead, n - 1); locked <= ahead; ++locked) {
      if (locked == 0 || &shard_at(locked) != &shard_at(locked - 1)) shard_at(locked).mu.Lock();
    }
    if (k + kSlotAhead < n)
      shard_at(k + kSlotAhead).table.PrefetchSlot(hashes[order[k + kSlotAhead]]);
    if (k + kEntryAhead < n)
      shard_at(k + kEntryAhead).table.PrefetchEntry(hashes[order[k + kEntryAhead]]);
    Shard& shard = shard_at(k);
    const uint32_t i = order[k];
    statuses[i] = ApplyOne(shard, hashes[i], *events[i], now_ms);
    if (k + 1 == n || &shard_at(k + 1) != &shard) shard.mu.Unlock();
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
