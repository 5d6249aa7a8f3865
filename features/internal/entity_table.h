// EntityTable: an open-addressing hash table from entity key to EntityState
// (linear probing, backward-shift deletion). Slots hold the key's hash and an
// index into a dense entry array, so a probe touches one cache line and the
// batch ingest path can prefetch slots and entries ahead of use.
//
// Not thread-safe: one shard mutex guards each table.
#ifndef HOTPATH_FEATURES_INTERNAL_ENTITY_TABLE_H_
#define HOTPATH_FEATURES_INTERNAL_ENTITY_TABLE_H_

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "features/internal/entity_state.h"
#include "features/internal/huge_page_arena.h"

namespace hotpath::features::internal {

// The hash every table and shard uses for entity keys; never 0.
uint64_t EntityHash(std::string_view key);

class EntityTable {
 public:
  struct Entry {
    std::string key;
    EntityState state;
  };

  EntityTable() : slots_(16) {}

  // The entry for `key` (whose EntityHash is `hash`), or nullptr.
  Entry* Find(uint64_t hash, std::string_view key);
  const Entry* Find(uint64_t hash, std::string_view key) const;
  // The entry for `key`, inserting an empty state when absent.
  Entry& FindOrInsert(uint64_t hash, std::string_view key);
  // Records where the state of `key` (present) now keeps its data and how
  // far it extends; call after anything that may reallocate it.
  void UpdateData(uint64_t hash, std::string_view key);
  // Removes entries matching `pred`; returns how many.
  std::size_t EraseIf(const std::function<bool(const Entry&)>& pred);

  // Hints the CPU to load the slot `hash` probes first.
  void PrefetchSlot(uint64_t hash) const { __builtin_prefetch(&slots_[hash & Mask()]); }
  // Hints the CPU to load the entry and its state data whose slot hash
  // matches (keys unchecked). The slot should have been prefetched earlier.
  void PrefetchEntry(uint64_t hash) const;

  std::size_t size() const { return entries_.size(); }
  std::span<const Entry> entries() const { return entries_; }

 private:
  struct Slot {
    uint64_t hash = 0;  // 0: empty
    // The entry's state data (EntityState::data()) and the cache lines it
    // spans, so that a lookup can start loading all of it while the key is
    // still being compared.
    const double* data = nullptr;
    uint32_t index = 0;
    uint32_t lines = 0;
  };
  std::size_t Mask() const { return slots_.size() - 1; }
  std::size_t SlotOf(uint64_t hash, std::string_view key) const;  // slot holding key, or npos
  void Grow();
  void EraseSlot(std::size_t slot);

  // Both in the huge-page arena, so that the slot fetch and the entry fetch
  // of a lookup take no TLB walk.
  std::vector<Slot, ArenaAllocator<Slot>> slots_;  // power-of-two size, at most 7/8 full
  std::vector<Entry, ArenaAllocator<Entry>> entries_;
};

}  // namespace hotpath::features::internal

#endif  // HOTPATH_FEATURES_INTERNAL_ENTITY_TABLE_H_
