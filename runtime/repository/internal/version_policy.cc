#include "runtime/repository/internal/version_policy.h"

#include <algorithm>

namespace hotpath::repository_internal {

std::vector<int64_t> SelectVersions(const VersionPolicy& policy,
                                    const std::vector<int64_t>& available) {
  switch (policy.kind) {
    case VersionPolicy::Kind::kLatest: {
      size_t n = std::min(available.size(), static_cast<size_t>(policy.num_versions));
      return std::vector<int64_t>(available.end() - static_cast<ptrdiff_t>(n), available.end());
    }
    case VersionPolicy::Kind::kSpecific: {
      std::vector<int64_t> out;
      std::set_intersection(available.begin(), available.end(), policy.versions.begin(),
                            policy.versions.end(), std::back_inserter(out));
      return out;
    }
    case VersionPolicy::Kind::kAll:
      return available;
  }
  return {};
}

}  // namespace hotpath::repository_internal
