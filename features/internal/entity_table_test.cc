#include "features/internal/entity_table.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace hotpath::features::internal {
namespace {

// Random inserts, finds and erasures against std::map as the reference.
TEST(EntityTableTest, MatchesStdMapUnderRandomOperations) {
  EntityTable table;
  std::map<std::string, int> ref;
  std::mt19937_64 rng(17);
  for (int step = 0; step < 200'000; ++step) {
    std::string key = "k" + std::to_string(rng() % 3'000);
    const uint64_t h = EntityHash(key);
    switch (rng() % 4) {
      case 0:
      case 1:
        table.FindOrInsert(h, key);
        ref.try_emplace(key, 0);
        break;
      case 2:
        EXPECT_EQ(table.Find(h, key) != nullptr, ref.count(key) == 1) << key;
        break;
      default: {
        const std::string prefix = "k" + std::to_string(rng() % 10);
        auto match = [&](const std::string& k) {
          return k.rfind(prefix, 0) == 0 && k.size() == prefix.size() + 2;
        };
        std::size_t removed =
            table.EraseIf([&](const EntityTable::Entry& e) { return match(e.key); });
        std::size_t expected = std::erase_if(ref, [&](const auto& kv) { return match(kv.first); });
        EXPECT_EQ(removed, expected);
      }
    }
    ASSERT_EQ(table.size(), ref.size());
  }
  for (const auto& [key, marker] : ref) {
    const EntityTable::Entry* e = table.Find(EntityHash(key), key);
    ASSERT_NE(e, nullptr) << key;
    EXPECT_EQ(e->key, key);
  }
}

}  // namespace
}  // namespace hotpath::features::internal
