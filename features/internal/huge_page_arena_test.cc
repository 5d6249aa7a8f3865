#include "features/internal/huge_page_arena.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

namespace hotpath::features::internal {
namespace {

struct Block {
  unsigned char* p;
  std::size_t bytes;
  unsigned char fill;
};

bool Intact(const Block& b) {
  for (std::size_t i = 0; i < b.bytes; ++i) {
    if (b.p[i] != b.fill) return false;
  }
  return true;
}

// Random allocations and releases of small and page-sized blocks: every live
// block is 64-byte aligned and keeps its contents while others are carved,
// released and reused.
void RandomBlocks(uint64_t seed, int steps) {
  std::mt19937_64 rng(seed);
  std::vector<Block> live;
  for (int step = 0; step < steps; ++step) {
    if (live.empty() || rng() % 3 != 0) {
      const std::size_t bytes = rng() % 8 == 0 ? rng() % 70'000 : rng() % (kMaxSmallBytes + 1);
      auto* p = static_cast<unsigned char*>(ArenaAllocate(bytes));
      ASSERT_EQ(reinterpret_cast<std::uintptr_t>(p) % 64, 0u) << bytes;
      const auto fill = static_cast<unsigned char>(rng());
      std::memset(p, fill, bytes);
      live.push_back({p, bytes, fill});
    } else {
      const std::size_t i = rng() % live.size();
      ASSERT_TRUE(Intact(live[i])) << "block of " << live[i].bytes << " bytes overwritten";
      ArenaFree(live[i].p, live[i].bytes);
      live[i] = live.back();
      live.pop_back();
    }
  }
  for (const Block& b : live) {
    EXPECT_TRUE(Intact(b));
    ArenaFree(b.p, b.bytes);
  }
}

TEST(HugePageArenaTest, BlocksStayIntactUnderRandomAllocation) { RandomBlocks(3, 20'000); }

TEST(HugePageArenaTest, ConcurrentThreadsGetDisjointBlocks) {
  std::vector<std::thread> threads;
  for (uint64_t t = 0; t < 4; ++t) threads.emplace_back([t] { RandomBlocks(100 + t, 5'000); });
  for (auto& th : threads) th.join();
}

TEST(HugePageArenaTest, ReleasedBlocksAreReused) {
  void* small = ArenaAllocate(200);
  ArenaFree(small, 200);
  EXPECT_EQ(ArenaAllocate(250), small);  // same 256-byte class
  ArenaFree(small, 250);

  void* big = ArenaAllocate(3 * 4096 * 10);
  const std::size_t held = ArenaBytes().held;
  ArenaFree(big, 3 * 4096 * 10);
  // A smaller page run is split off the released one: nothing new is carved.
  void* part = ArenaAllocate(4096 * 10);
  EXPECT_EQ(ArenaBytes().held, held);
  ArenaFree(part, 4096 * 10);
}

TEST(HugePageArenaTest, ContainersGrowAndShrinkThroughIt) {
  std::vector<double, ArenaAllocator<double>> v;
  for (int i = 0; i < 100'000; ++i) v.push_back(i);
  for (int i = 0; i < 100'000; ++i) ASSERT_EQ(v[i], i);
  v.resize(10);
  v.shrink_to_fit();
  EXPECT_EQ(v.back(), 9);
}

}  // namespace
}  // namespace hotpath::features::internal
