#include "features/internal/entity_table.h"

namespace hotpath::features::internal {
namespace {

void PrefetchLines(const double* data, uint32_t lines) {
  const char* p = reinterpret_cast<const char*>(data);
  for (uint32_t line = 0; line < lines; ++line) __builtin_prefetch(p + 64 * line);
}

}  // namespace

uint64_t EntityHash(std::string_view key) {
  uint64_t h = std::hash<std::string_view>()(key);
  h ^= h >> 31;
  h *= 0x9e3779b97f4a7c15ULL;
  return (h ^ (h >> 29)) | 1;
}

std::size_t EntityTable::SlotOf(uint64_t hash, std::string_view key) const {
  for (std::size_t i = hash & Mask();; i = (i + 1) & Mask()) {
    const Slot& s = slots_[i];
    if (s.hash == 0) return std::string_view::npos;
    if (s.hash != hash) continue;
    // Start loading the whole state in parallel with the entry holding the
    // key, rather than one dependent miss after another as it is read.
    PrefetchLines(s.data, s.lines);
    if (entries_[s.index].key == key) return i;
  }
}

void EntityTable::UpdateData(uint64_t hash, std::string_view key) {
  std::size_t i = SlotOf(hash, key);
  if (i == std::string_view::npos) return;
  const EntityState& state = entries_[slots_[i].index].state;
  slots_[i].data = state.data();
  slots_[i].lines = state.DataLines();
}

void EntityTable::PrefetchEntry(uint64_t hash) const {
  for (std::size_t i = hash & Mask(); slots_[i].hash != 0; i = (i + 1) & Mask()) {
    if (slots_[i].hash == hash) {
      const Entry& e = entries_[slots_[i].index];
      __builtin_prefetch(&e);
      __builtin_prefetch(reinterpret_cast<const char*>(&e) + 64);
      PrefetchLines(slots_[i].data, slots_[i].lines);
      return;
    }
  }
}

EntityTable::Entry* EntityTable::Find(uint64_t hash, std::string_view key) {
  std::size_t i = SlotOf(hash, key);
  return i == std::string_view::npos ? nullptr : &entries_[slots_[i].index];
}

const EntityTable::Entry* EntityTable::Find(uint64_t hash, std::string_view key) const {
  std::size_t i = SlotOf(hash, key);
  return i == std::string_view::npos ? nullptr : &entries_[slots_[i].index];
}

EntityTable::Entry& EntityTable::FindOrInsert(uint64_t hash, std::string_view key) {
  if (Entry* e = Find(hash, key)) return *e;
  if ((entries_.size() + 1) * 8 > slots_.size() * 7) Grow();
  std::size_t i = hash & Mask();
  while (slots_[i].hash != 0) i = (i + 1) & Mask();
  slots_[i] = Slot{hash, nullptr, static_cast<uint32_t>(entries_.size()), 0};
  entries_.push_back(Entry{std::string(key), EntityState()});
  return entries_.back();
}

void EntityTable::Grow() {
  std::vector<Slot, ArenaAllocator<Slot>> old = std::move(slots_);
  slots_.assign(old.size() * 2, Slot{});
  for (const Slot& s : old) {
    if (s.hash == 0) continue;
    std::size_t i = s.hash & Mask();
    while (slots_[i].hash != 0) i = (i + 1) & Mask();
    slots_[i] = s;
  }
}

void EntityTable::EraseSlot(std::size_t slot) {
  // Move the last entry into the freed index, then backward-shift the probe run.
  const uint32_t index = slots_[slot].index;
  const uint32_t last = static_cast<uint32_t>(entries_.size() - 1);
  if (index != last) {
    std::size_t moved = SlotOf(EntityHash(entries_[last].key), entries_[last].key);
    slots_[moved].index = index;
    entries_[index] = std::move(entries_[last]);
  }
  entries_.pop_back();
  std::size_t hole = slot;
  for (std::size_t i = (slot + 1) & Mask(); slots_[i].hash != 0; i = (i + 1) & Mask()) {
    std::size_t home = slots_[i].hash & Mask();
    // Shift back unless the entry's home lies cyclically in (hole, i].
    bool stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
    if (stays) continue;
    slots_[hole] = slots_[i];
    hole = i;
  }
  slots_[hole] = Slot{};
}

std::size_t EntityTable::EraseIf(const std::function<bool(const Entry&)>& pred) {
  std::size_t removed = 0;
  for (std::size_t i = entries_.size(); i-- > 0;) {
    if (!pred(entries_[i])) continue;
    EraseSlot(SlotOf(EntityHash(entries_[i].key), entries_[i].key));
    ++removed;
  }
  return removed;
}

}  // namespace hotpath::features::internal
