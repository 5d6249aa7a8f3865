#include "serve/admission/internal/client_table.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace hotpath::admission_internal {
namespace {

// Keys of every length class (inline and heap), with hashes drawn from a tiny
// range so that probe chains are long and full hashes collide.
TEST(ClientTableTest, MatchesAMapUnderCollisionsAndGrowth) {
  ClientTable table(5000);
  std::map<std::string, int64_t> oracle;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 4000; ++i) {
    const std::string key = std::string(static_cast<size_t>(i % 40), 'k') + std::to_string(i);
    const uint64_t hash = rng() % 8;  // includes 0
    ASSERT_EQ(table.Find(hash, key), nullptr);
    table.Insert(hash, key, i, /*now_ns=*/0);
    oracle[key] = hash;
  }
  EXPECT_EQ(table.size(), 4000);
  for (const auto& [key, hash] : oracle) {
    int64_t* tat = table.Find(static_cast<uint64_t>(hash), key);
    ASSERT_NE(tat, nullptr) << key;
    const std::string digits = key.substr(key.find_first_not_of('k'));
    EXPECT_EQ(*tat, std::stoll(digits)) << key;
    EXPECT_EQ(table.Find(static_cast<uint64_t>(hash) + 8, key), nullptr);  // another hash
  }
}

TEST(ClientTableTest, FullTableDropsIdleThenEarliest) {
  ClientTable table(3);
  table.Insert(11, "a", /*tat=*/100, /*now_ns=*/0);
  table.Insert(12, "b", 300, 0);
  table.Insert(13, "c", 200, 0);
  table.Insert(14, "d", 400, /*now_ns=*/150);  // full: a is idle at 150, dropped
  EXPECT_EQ(table.Find(11, "a"), nullptr);
  EXPECT_EQ(table.size(), 3);
  table.Insert(15, "e", 500, /*now_ns=*/150);  // full, none idle: c (earliest, 200) dropped
  EXPECT_EQ(table.Find(13, "c"), nullptr);
  ASSERT_NE(table.Find(12, "b"), nullptr);
  ASSERT_NE(table.Find(14, "d"), nullptr);
  ASSERT_NE(table.Find(15, "e"), nullptr);
  EXPECT_EQ(*table.Find(15, "e"), 500);
  table.Insert(16, "f", 600, /*now_ns=*/1000);  // all idle at 1000: all dropped first
  EXPECT_EQ(table.size(), 1);
}

}  // namespace
}  // namespace hotpath::admission_internal
