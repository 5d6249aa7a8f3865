#include "runtime/repository/internal/version_policy.h"

#include <gtest/gtest.h>

namespace hotpath::repository_internal {
namespace {

using V = std::vector<int64_t>;

TEST(VersionPolicyTest, Latest) {
  VersionPolicy p;
  p.num_versions = 2;
  EXPECT_EQ(SelectVersions(p, {1, 3, 7}), V({3, 7}));
  EXPECT_EQ(SelectVersions(p, {4}), V({4}));
  EXPECT_EQ(SelectVersions(p, {}), V());
}

TEST(VersionPolicyTest, Specific) {
  VersionPolicy p;
  p.kind = VersionPolicy::Kind::kSpecific;
  p.versions = {2, 3, 9};
  EXPECT_EQ(SelectVersions(p, {1, 2, 3, 4}), V({2, 3}));
  EXPECT_EQ(SelectVersions(p, {1, 4}), V());
}

TEST(VersionPolicyTest, All) {
  VersionPolicy p;
  p.kind = VersionPolicy::Kind::kAll;
  EXPECT_EQ(SelectVersions(p, {1, 5, 6}), V({1, 5, 6}));
}

}  // namespace
}  // namespace hotpath::repository_internal
