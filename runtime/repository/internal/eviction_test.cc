#include "runtime/repository/internal/eviction.h"

#include <gtest/gtest.h>

namespace hotpath::repository_internal {
namespace {

TimePoint At(int64_t s) { return TimePoint(std::chrono::seconds(s)); }

TEST(EvictionTest, FitsWithoutEviction) {
  auto v = PickVictims({{100, At(1)}}, 100, 50, 200);
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(v->empty());
}

TEST(EvictionTest, LeastRecentlyUsedFirstAndOnlyAsMany) {
  // In use 300 of 350; need 100 -> must free >= 50: the oldest (index 1) suffices.
  std::vector<EvictionCandidate> c = {{100, At(5)}, {100, At(2)}, {100, At(9)}};
  auto v = PickVictims(c, 300, 100, 350);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v, std::vector<size_t>({1}));
  // Need 250 -> free >= 200: indices 1 then 0.
  v = PickVictims(c, 300, 250, 350);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v, std::vector<size_t>({1, 0}));
}

TEST(EvictionTest, ImpossibleReturnsNullopt) {
  // 200 in use of which only 50 evictable; need 100 within 200.
  EXPECT_FALSE(PickVictims({{50, At(1)}}, 200, 100, 200).has_value());
  EXPECT_FALSE(PickVictims({}, 0, 300, 200).has_value());
}

}  // namespace
}  // namespace hotpath::repository_internal
