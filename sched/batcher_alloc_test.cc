// Checks that the batcher's request path (Submit, batch formation, Predict
// dispatch, scatter, callback, metrics) does not allocate: this binary
// replaces the global operator new with one that counts while enabled.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include "sched/batcher.h"
#include "sched/testing/dot_model.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<uint64_t> g_allocations{0};
}  // namespace

// GCC pairs the inlined std::free below with the std::malloc above only
// through these replacements, and warns that they mismatch; they do not.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace hotpath {
namespace {

// Runs `rounds` rounds of `burst` concurrent single-row requests, each with a
// deadline, and waits for every answer.
void RunRounds(DynamicBatcher& batcher, int rounds, int burst, std::vector<float>& x,
               std::vector<float>& out) {
  std::atomic<int> pending{0};
  for (int round = 0; round < rounds; ++round) {
    pending.store(burst);
    for (int i = 0; i < burst; ++i) {
      DynamicBatcher::Request r;
      r.x = &x[static_cast<size_t>(i) * 8];
      r.rows = 1;
      r.out = &out[static_cast<size_t>(i) * 2];
      r.priority = 1 + i % 2;
      r.deadline = Deadline::After(RealClock(), std::chrono::seconds(10));
      ASSERT_TRUE(batcher.Submit(r, [&pending](Status s) { pending.fetch_sub(1); }).ok());
    }
    while (pending.load() > 0) {
    }
  }
}

TEST(DynamicBatcherAllocTest, RequestPathDoesNotAllocate) {
  auto model = std::make_shared<testing::DotModel>(testing::DotModel::Options{});
  MetricsRegistry registry;
  DynamicBatcher::Options o;
  o.model_name = "dot";
  o.max_batch_size = 4;
  o.max_queue_delay_us = 50;
  o.priority_levels = 2;
  o.instance_count = 2;
  auto batcher = DynamicBatcher::Create(o, model, registry).value();
  std::vector<float> x(8 * 8, 1.0f), out(8 * 2);
  RunRounds(*batcher, 200, 8, x, out);  // warm-up: thread-local state, first batches
  g_counting.store(true);
  RunRounds(*batcher, 500, 8, x, out);
  g_counting.store(false);
  EXPECT_EQ(g_allocations.load(), 0u);
  // The counter itself works: a vector allocates.
  g_counting.store(true);
  std::vector<int> probe(100);
  g_counting.store(false);
  EXPECT_GE(g_allocations.load(), 1u);
  EXPECT_EQ(probe.size(), 100u);
}

}  // namespace
}  // namespace hotpath
