// Applies a VersionPolicy to the versions found on disk.
#ifndef HOTPATH_RUNTIME_REPOSITORY_INTERNAL_VERSION_POLICY_H_
#define HOTPATH_RUNTIME_REPOSITORY_INTERNAL_VERSION_POLICY_H_

#include <cstdint>
#include <vector>

#include "runtime/repository/model_config.h"

namespace hotpath::repository_internal {

// The versions of `available` (ascending, unique) the policy serves,
// ascending: the num_versions highest (latest), those listed that exist
// (specific), or all of them (all).
std::vector<int64_t> SelectVersions(const VersionPolicy& policy,
                                    const std::vector<int64_t>& available);

}  // namespace hotpath::repository_internal

#endif  // HOTPATH_RUNTIME_REPOSITORY_INTERNAL_VERSION_POLICY_H_
