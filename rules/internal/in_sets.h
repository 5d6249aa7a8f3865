// Membership tables for `x in [...]` lists, built once at compile time:
// numbers in a sorted array (binary search), strings in an open-addressing
// hash table with the hashes of the members precomputed.
#ifndef HOTPATH_RULES_INTERNAL_IN_SETS_H_
#define HOTPATH_RULES_INTERNAL_IN_SETS_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "rules/internal/value.h"

namespace hotpath::rules::internal {

// 64-bit hash of `s` (multiply-xorshift over 8-byte words).
inline uint64_t HashBytes(std::string_view s) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  uint64_t tail = 0;
  for (size_t k = i; k < s.size(); ++k) {
    tail |= static_cast<uint64_t>(static_cast<unsigned char>(s[k])) << (8 * (k - i));
  }
  h = (h ^ tail) * 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 29;
  return h;
}

class NumberSet {
 public:
  explicit NumberSet(std::vector<double> members);
  // True when some member == x (so NaN is never a member, and -0 == 0).
  bool Contains(double x) const;

 private:
  static constexpr size_t kLinearMax = 8;  // linear scan beats bisection up to here
  std::vector<double> sorted_;
};

class StringSet {
 public:
  explicit StringSet(const std::vector<std::string>& members);
  // True when some member equals `s` bytewise.
  bool Contains(std::string_view s) const {
    uint64_t h = HashBytes(s);
    for (uint64_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.size == kEmpty) return false;
      if (slot.hash == h &&
          BytesEqual(std::string_view(blob_.data() + slot.offset, slot.size), s)) {
        return true;
      }
    }
  }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  struct Slot {
    uint64_t hash = 0;
    uint32_t offset = 0;  // into blob_
    uint32_t size = kEmpty;
  };
  std::vector<Slot> slots_;  // power-of-two size, at most half full
  std::string blob_;         // the members' bytes
  uint64_t mask_ = 0;
};

}  // namespace hotpath::rules::internal

#endif  // HOTPATH_RULES_INTERNAL_IN_SETS_H_
