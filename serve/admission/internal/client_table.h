// ClientTable: one RateLimiter shard's map from client key to TAT (ns), an
// open-addressing hash table (linear probing, load <= 1/2) so that a lookup
// touches one slot: keys of up to 15 bytes are stored inline, longer ones
// cost one more cache line. Grows by doubling up to the slots needed for
// `capacity` clients; never holds more than `capacity`.
//
// Not thread-safe: RateLimiter calls it under the shard's lock.
#ifndef HOTPATH_SERVE_ADMISSION_INTERNAL_CLIENT_TABLE_H_
#define HOTPATH_SERVE_ADMISSION_INTERNAL_CLIENT_TABLE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hotpath::admission_internal {

class ClientTable {
 public:
  // REQUIRES: capacity >= 1.
  explicit ClientTable(int64_t capacity);

  // The TAT of the client with this key and hash, or null when unknown. The
  // pointer is valid until the next Insert.
  int64_t* Find(uint64_t hash, std::string_view key);
  // Adds a client not in the table. When the table is full it first drops
  // every client with TAT <= now_ns, or, when none is idle, the one with the
  // earliest TAT.
  void Insert(uint64_t hash, std::string_view key, int64_t tat, int64_t now_ns);

  int64_t size() const { return size_; }

 private:
  struct Slot {
    uint64_t hash = 0;  // 0 = empty (a key hashing to 0 is stored as 1)
    int64_t tat = 0;
    std::string key;
  };

  static uint64_t Stored(uint64_t hash) { return hash == 0 ? 1 : hash; }
  void Place(Slot slot);
  // Rebuilds the table with `slot_count` slots, keeping the slots `keep` accepts.
  template <typename Keep>
  void Rebuild(size_t slot_count, Keep keep);
  void MakeRoom(int64_t now_ns);

  const int64_t capacity_;
  const size_t max_slots_;
  std::vector<Slot> slots_;
  int64_t size_ = 0;
};

}  // namespace hotpath::admission_internal

#endif  // HOTPATH_SERVE_ADMISSION_INTERNAL_CLIENT_TABLE_H_
