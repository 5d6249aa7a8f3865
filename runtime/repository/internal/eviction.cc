#include "runtime/repository/internal/eviction.h"

#include <algorithm>
#include <numeric>

namespace hotpath::repository_internal {

std::optional<std::vector<size_t>> PickVictims(const std::vector<EvictionCandidate>& candidates,
                                               size_t in_use_bytes, size_t need_bytes,
                                               size_t budget_bytes) {
  if (need_bytes > budget_bytes) return std::nullopt;
  std::vector<size_t> order(candidates.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return candidates[a].last_used < candidates[b].last_used;
  });
  std::vector<size_t> victims;
  size_t in_use = in_use_bytes;
  for (size_t i : order) {
    if (in_use + need_bytes <= budget_bytes) break;
    victims.push_back(i);
    in_use -= std::min(in_use, candidates[i].bytes);
  }
  if (in_use + need_bytes > budget_bytes) return std::nullopt;
  return victims;
}

}  // namespace hotpath::repository_internal
