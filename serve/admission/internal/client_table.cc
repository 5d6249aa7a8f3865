#include "serve/admission/internal/client_table.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <utility>

namespace hotpath::admission_internal {
namespace {

constexpr size_t kInitialSlots = 16;

}  // namespace

ClientTable::ClientTable(int64_t capacity)
    : capacity_(capacity),
      max_slots_(std::bit_ceil(static_cast<size_t>(2 * capacity))),
      slots_(std::min(kInitialSlots, max_slots_)) {}

int64_t* ClientTable::Find(uint64_t hash, std::string_view key) {
  const uint64_t h = Stored(hash);
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.hash == 0) return nullptr;
    if (s.hash == h && s.key == key) return &s.tat;
  }
}

void ClientTable::Insert(uint64_t hash, std::string_view key, int64_t tat, int64_t now_ns) {
  if (size_ >= capacity_) MakeRoom(now_ns);
  if (static_cast<size_t>(2 * (size_ + 1)) > slots_.size() && slots_.size() < max_slots_) {
    Rebuild(slots_.size() * 2, [](const Slot&) { return true; });
  }
  Place(Slot{Stored(hash), tat, std::string(key)});
  ++size_;
}

void ClientTable::Place(Slot slot) {
  const size_t mask = slots_.size() - 1;
  size_t i = slot.hash & mask;
  while (slots_[i].hash != 0) i = (i + 1) & mask;
  slots_[i] = std::move(slot);
}

template <typename Keep>
void ClientTable::Rebuild(size_t slot_count, Keep keep) {
  std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(slot_count));
  size_ = 0;
  for (Slot& s : old) {
    if (s.hash == 0 || !keep(s)) continue;
    Place(std::move(s));
    ++size_;
  }
}

void ClientTable::MakeRoom(int64_t now_ns) {
  Rebuild(slots_.size(), [now_ns](const Slot& s) { return s.tat > now_ns; });
  if (size_ < capacity_) return;
  int64_t earliest = std::numeric_limits<int64_t>::max();
  for (const Slot& s : slots_) {
    if (s.hash != 0) earliest = std::min(earliest, s.tat);
  }
  bool dropped = false;
  Rebuild(slots_.size(), [&dropped, earliest](const Slot& s) {
    if (dropped || s.tat != earliest) return true;
    dropped = true;
    return false;
  });
}

}  // namespace hotpath::admission_internal
