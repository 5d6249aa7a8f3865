#include "rules/internal/in_sets.h"

#include <algorithm>

namespace hotpath::rules::internal {

NumberSet::NumberSet(std::vector<double> members) : sorted_(std::move(members)) {
  std::sort(sorted_.begin(), sorted_.end());
  sorted_.erase(std::unique(sorted_.begin(), sorted_.end()), sorted_.end());
}

bool NumberSet::Contains(double x) const {
  if (sorted_.size() <= kLinearMax) {
    bool found = false;
    for (double m : sorted_) found |= (m == x);
    return found;
  }
  auto it = std::lower_bound(sorted_.begin(), sorted_.end(), x);
  return it != sorted_.end() && *it == x;
}

StringSet::StringSet(const std::vector<std::string>& members) {
  size_t capacity = 2;
  while (capacity < 2 * members.size()) capacity *= 2;
  slots_.resize(capacity);
  mask_ = capacity - 1;
  for (const std::string& m : members) {
    if (Contains(m)) continue;
    uint64_t h = HashBytes(m);
    uint64_t i = h & mask_;
    while (slots_[i].size != kEmpty) i = (i + 1) & mask_;
    slots_[i] = Slot{h, static_cast<uint32_t>(blob_.size()), static_cast<uint32_t>(m.size())};
    blob_ += m;
  }
}

}  // namespace hotpath::rules::internal
