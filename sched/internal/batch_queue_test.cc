#include "sched/internal/batch_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace hotpath::sched_internal {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

constexpr TimePoint kNoDeadline = TimePoint::max();

BatchPolicy Policy(uint32_t max_rows, Nanos delay, std::vector<uint32_t> preferred = {},
                   int levels = 1, Nanos aging = Nanos(0)) {
  BatchPolicy p;
  p.max_batch_rows = max_rows;
  p.queue_delay = delay;
  p.preferred_rows = std::move(preferred);
  p.priority_levels = levels;
  p.priority_aging = aging;
  return p;
}

TEST(BatchQueueTest, FullBatchGoesAtOnceElseWaitsTheDelay) {
  FakeClock clock;
  BatchQueue q(Policy(4, milliseconds(1)), 16);
  const TimePoint t0 = clock.Now();
  std::vector<uint32_t> batch;
  for (uint32_t id = 0; id < 3; ++id) q.Push(id, 1, 0, t0, kNoDeadline);
  EXPECT_EQ(q.PopBatch(t0, false, &batch), 0u);
  EXPECT_EQ(q.NextBatchDue(), t0 + milliseconds(1));
  q.Push(3, 1, 0, t0, kNoDeadline);
  EXPECT_EQ(q.NextBatchDue(), TimePoint::min());
  EXPECT_EQ(q.PopBatch(t0, false, &batch), 4u);
  EXPECT_EQ(batch, (std::vector<uint32_t>{0, 1, 2, 3}));
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.NextBatchDue(), TimePoint::max());
}

TEST(BatchQueueTest, DelayCountsFromTheOldestRequest) {
  FakeClock clock;
  BatchQueue q(Policy(8, microseconds(1000)), 16);
  std::vector<uint32_t> batch;
  q.Push(0, 1, 0, clock.Now(), kNoDeadline);
  clock.Advance(microseconds(600));
  q.Push(1, 2, 0, clock.Now(), kNoDeadline);
  clock.Advance(microseconds(399));
  EXPECT_EQ(q.PopBatch(clock.Now(), false, &batch), 0u);
  clock.Advance(microseconds(1));
  EXPECT_EQ(q.PopBatch(clock.Now(), false, &batch), 3u);
  EXPECT_EQ(batch, (std::vector<uint32_t>{0, 1}));
}

TEST(BatchQueueTest, FlushIgnoresTheDelay) {
  FakeClock clock;
  BatchQueue q(Policy(8, milliseconds(10)), 4);
  std::vector<uint32_t> batch;
  q.Push(2, 1, 0, clock.Now(), kNoDeadline);
  EXPECT_EQ(q.PopBatch(clock.Now(), true, &batch), 1u);
}

TEST(BatchQueueTest, PrefersPreferredSizes) {
  FakeClock clock;
  BatchQueue q(Policy(8, milliseconds(1), {2, 4}), 16);
  std::vector<uint32_t> batch;
  for (uint32_t id = 0; id < 3; ++id) q.Push(id, 1, 0, clock.Now(), kNoDeadline);
  EXPECT_EQ(q.PopBatch(clock.Now(), false, &batch), 0u);  // 3 < 4: wait
  clock.Advance(milliseconds(1));
  // Delay over: the largest preferred size <= 3 is 2; the rest follows.
  EXPECT_EQ(q.PopBatch(clock.Now(), false, &batch), 2u);
  batch.clear();
  EXPECT_EQ(q.PopBatch(clock.Now(), false, &batch), 1u);
  EXPECT_EQ(batch, (std::vector<uint32_t>{2}));
  // Reaching the largest preferred size dispatches without waiting.
  batch.clear();
  for (uint32_t id = 3; id < 8; ++id) q.Push(id, 1, 0, clock.Now(), kNoDeadline);
  EXPECT_EQ(q.PopBatch(clock.Now(), false, &batch), 4u);
  EXPECT_EQ(batch, (std::vector<uint32_t>{3, 4, 5, 6}));
}

TEST(BatchQueueTest, MultiRowRequestsFillWithoutSplitting) {
  FakeClock clock;
  BatchQueue q(Policy(8, milliseconds(1)), 16);
  std::vector<uint32_t> batch;
  for (uint32_t id = 0; id < 3; ++id) q.Push(id, 3, 0, clock.Now(), kNoDeadline);
  EXPECT_EQ(q.rows(), 9u);
  EXPECT_EQ(q.PopBatch(clock.Now(), false, &batch), 6u);  // 3 + 3; a third would be 9 > 8
  EXPECT_EQ(q.rows(), 3u);
}

TEST(BatchQueueTest, AgingOrdersPrioritiesByHandComputedKeys) {
  FakeClock clock;
  // key = enqueue time + level * 1 ms.
  BatchQueue q(Policy(1, Nanos(0), {}, 3, milliseconds(1)), 16);
  const TimePoint t0 = clock.Now();
  q.Push(0, 1, 2, t0, kNoDeadline);                       // key t0 + 2 ms
  q.Push(1, 1, 0, t0 + microseconds(500), kNoDeadline);   // key t0 + 0.5 ms
  q.Push(2, 1, 0, t0 + microseconds(2500), kNoDeadline);  // key t0 + 2.5 ms
  q.Push(3, 1, 1, t0 + microseconds(800), kNoDeadline);   // key t0 + 1.8 ms
  std::vector<uint32_t> order;
  const TimePoint later = t0 + milliseconds(3);
  while (q.PopBatch(later, false, &order) > 0) {
  }
  EXPECT_EQ(order, (std::vector<uint32_t>{1, 3, 0, 2}));
}

TEST(BatchQueueTest, LowPriorityIsNotStarvedByAStream) {
  FakeClock clock;
  BatchQueue q(Policy(1, Nanos(0), {}, 2, milliseconds(2)), 512);
  const TimePoint t0 = clock.Now();
  q.Push(0, 1, 1, t0, kNoDeadline);  // the low-priority request: key t0 + 2 ms
  std::vector<uint32_t> batch;
  uint32_t next_id = 1;
  TimePoint served = TimePoint::max();
  // Every 100 µs two high-priority requests arrive and one batch of one runs:
  // by priority alone the low one would wait forever.
  for (int step = 0; step < 100 && served == TimePoint::max(); ++step) {
    clock.Advance(microseconds(100));
    q.Push(next_id++, 1, 0, clock.Now(), kNoDeadline);
    q.Push(next_id++, 1, 0, clock.Now(), kNoDeadline);
    batch.clear();
    ASSERT_EQ(q.PopBatch(clock.Now(), false, &batch), 1u);
    if (batch[0] == 0) served = clock.Now();
  }
  // The 40 high-priority requests with keys <= t0 + 2 ms (arrivals in steps
  // 1..20; ties go to the higher priority) run in steps 1..40; step 41 runs it.
  EXPECT_EQ(served - t0, microseconds(4100));
}

TEST(BatchQueueTest, ExpiresFromTheMiddleAndKeepsOrder) {
  FakeClock clock;
  BatchQueue q(Policy(8, milliseconds(100)), 16);
  const TimePoint t0 = clock.Now();
  q.Push(0, 1, 0, t0, t0 + milliseconds(5));
  q.Push(1, 1, 0, t0, t0 + milliseconds(1));
  q.Push(2, 1, 0, t0, kNoDeadline);
  q.Push(3, 1, 0, t0, t0 + milliseconds(2));
  EXPECT_EQ(q.NextDeadline(), t0 + milliseconds(1));
  std::vector<uint32_t> expired;
  q.PopExpired(t0 + milliseconds(2), &expired);
  EXPECT_EQ(expired, (std::vector<uint32_t>{1, 3}));
  EXPECT_EQ(q.NextDeadline(), t0 + milliseconds(5));
  std::vector<uint32_t> rest;
  q.PopAll(&rest);
  EXPECT_EQ(rest, (std::vector<uint32_t>{0, 2}));
  EXPECT_EQ(q.NextDeadline(), TimePoint::max());
}

// The reference: a plain list, sorted by (key, level, arrival) on demand.
struct Ref {
  struct Item {
    uint32_t id;
    uint32_t rows;
    int level;
    TimePoint key;
    TimePoint deadline;
    uint64_t seq;
  };
  std::vector<Item> items;
};

TEST(BatchQueueTest, RandomOperationsMatchAReferenceList) {
  std::mt19937 gen(7);
  FakeClock clock;
  const Nanos aging = microseconds(300);
  BatchQueue q(Policy(6, microseconds(200), {}, 3, aging), 32);
  Ref ref;
  std::vector<uint32_t> free_ids;
  for (uint32_t id = 0; id < 32; ++id) free_ids.push_back(id);
  uint64_t seq = 0;
  size_t expired_total = 0, batched_total = 0;
  for (int step = 0; step < 20'000; ++step) {
    clock.Advance(microseconds(gen() % 50));
    const TimePoint now = clock.Now();
    const int op = static_cast<int>(gen() % 3);
    if (op == 0 && !free_ids.empty()) {
      const uint32_t id = free_ids.back();
      free_ids.pop_back();
      const uint32_t rows = 1 + gen() % 3;
      const int level = static_cast<int>(gen() % 3);
      const TimePoint deadline = gen() % 2 ? kNoDeadline : now + microseconds(gen() % 1000);
      q.Push(id, rows, level, now, deadline);
      ref.items.push_back({id, rows, level, now + aging * level, deadline, seq++});
    } else if (op == 1) {
      std::vector<uint32_t> got;
      q.PopExpired(now, &got);
      std::vector<uint32_t> want;
      std::vector<Ref::Item> keep;
      for (const auto& it : ref.items) {
        if (it.deadline <= now) {
          want.push_back(it.id);
        } else {
          keep.push_back(it);
        }
      }
      ref.items = keep;
      std::sort(got.begin(), got.end());
      std::sort(want.begin(), want.end());
      ASSERT_EQ(got, want) << "step " << step;
      for (uint32_t id : want) free_ids.push_back(id);
      expired_total += want.size();
    } else {
      std::vector<uint32_t> got;
      const uint32_t rows = q.PopBatch(now, /*flush=*/true, &got);
      std::sort(ref.items.begin(), ref.items.end(), [](const auto& a, const auto& b) {
        if (a.key != b.key) return a.key < b.key;
        return a.level != b.level ? a.level < b.level : a.seq < b.seq;
      });
      std::vector<uint32_t> want;
      uint32_t want_rows = 0;
      size_t n = 0;
      for (; n < ref.items.size(); ++n) {
        const uint32_t r = ref.items[n].rows;
        if (want_rows > 0 && want_rows + r > 6) break;
        want_rows += r;
        want.push_back(ref.items[n].id);
      }
      ref.items.erase(ref.items.begin(), ref.items.begin() + static_cast<std::ptrdiff_t>(n));
      for (uint32_t id : want) free_ids.push_back(id);
      ASSERT_EQ(got, want) << "step " << step;
      ASSERT_EQ(rows, want_rows);
      batched_total += want.size();
    }
    ASSERT_EQ(q.size(), ref.items.size());
  }
  EXPECT_GT(expired_total, 100u) << batched_total;
  EXPECT_GT(batched_total, 1000u) << expired_total;
}

}  // namespace
}  // namespace hotpath::sched_internal
