// Chooses which idle versions to evict so that a new version fits the
// repository's memory budget: least recently used first.
#ifndef HOTPATH_RUNTIME_REPOSITORY_INTERNAL_EVICTION_H_
#define HOTPATH_RUNTIME_REPOSITORY_INTERNAL_EVICTION_H_

#include <cstddef>
#include <optional>
#include <vector>

#include "core/clock.h"

namespace hotpath::repository_internal {

// A loaded version that could be evicted (the caller leaves out versions with
// requests in flight and those of the model being loaded).
struct EvictionCandidate {
  size_t bytes = 0;
  TimePoint last_used;
};

// Indices into `candidates` to evict, least recently used first (ties by
// index), stopping as soon as in_use_bytes - evicted + need_bytes <=
// budget_bytes. Empty when it fits already; nullopt when evicting every
// candidate would not make it fit.
std::optional<std::vector<size_t>> PickVictims(const std::vector<EvictionCandidate>& candidates,
                                               size_t in_use_bytes, size_t need_bytes,
                                               size_t budget_bytes);

}  // namespace hotpath::repository_internal

#endif  // HOTPATH_RUNTIME_REPOSITORY_INTERNAL_EVICTION_H_
