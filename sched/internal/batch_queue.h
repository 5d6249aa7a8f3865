// BatchQueue: the dynamic batcher's queue and batch-formation policy, with no
// threads and no clock of its own, so that every decision is a function of the
// `now` it is given and is tested deterministically.
//
// Requests are identified by ids in [0, capacity) chosen by the caller. Each
// priority level is a FIFO (an intrusive doubly-linked list, so expired
// requests leave from anywhere in O(1)); finite deadlines sit in an indexed
// min-heap. Nothing allocates after construction.
//
// Service order (aging): a request at level L (0 = highest) enqueued at t has
// key t + L * priority_aging; batches take requests in ascending key order
// (equal keys: higher priority first, then arrival order).
// Higher levels go first, but a level-L request is never passed by a request
// that arrived more than L * priority_aging after it: no level starves.
//
// Not thread-safe: the batcher calls it under its lock.
#ifndef HOTPATH_SCHED_INTERNAL_BATCH_QUEUE_H_
#define HOTPATH_SCHED_INTERNAL_BATCH_QUEUE_H_

#include <cstdint>
#include <vector>

#include "core/clock.h"

namespace hotpath::sched_internal {

struct BatchPolicy {
  uint32_t max_batch_rows = 1;           // >= 1
  std::vector<uint32_t> preferred_rows;  // strictly ascending, each <= max_batch_rows
  int priority_levels = 1;               // >= 1
  Nanos priority_aging{0};               // >= 0
  Nanos queue_delay{0};                  // >= 0
};

class BatchQueue {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // Room for `capacity` requests. REQUIRES: the policy is valid.
  BatchQueue(const BatchPolicy& policy, uint32_t capacity);

  // Queues request `id`. `deadline` = TimePoint::max() for none.
  // REQUIRES: id < capacity and not queued; 1 <= rows <= max_batch_rows;
  // 0 <= level < priority_levels; `enqueued` not before any earlier Push of
  // the same level.
  void Push(uint32_t id, uint32_t rows, int level, TimePoint enqueued, TimePoint deadline);

  // Removes every request whose deadline is <= now, appending its id to
  // `expired` (earliest deadline first).
  void PopExpired(TimePoint now, std::vector<uint32_t>* expired);

  // Removes every request, appending ids in service order.
  void PopAll(std::vector<uint32_t>* out);

  // When a batch is due at `now`, removes its requests into `batch` in service
  // order and returns its rows; else returns 0 and changes nothing.
  // A batch is due when the queue holds max_batch_rows rows, or the largest
  // preferred size, or `flush` is set, or the oldest request has waited
  // queue_delay. Its target size is max_batch_rows when that many rows are
  // queued; else the largest preferred size <= the queued rows, if any; else
  // all queued rows. Requests are taken in service order while they fit the
  // target (the first always fits).
  uint32_t PopBatch(TimePoint now, bool flush, std::vector<uint32_t>* batch);

  // The earliest time PopBatch will return a batch absent new arrivals:
  // TimePoint::min() when one is due already (full or preferred size),
  // TimePoint::max() when the queue is empty.
  TimePoint NextBatchDue() const;
  // The earliest queued deadline, TimePoint::max() when none.
  TimePoint NextDeadline() const;

  uint32_t size() const { return size_; }
  uint32_t rows() const { return rows_; }
  Nanos queue_delay() const { return policy_.queue_delay; }
  void set_queue_delay(Nanos delay) { policy_.queue_delay = delay; }

 private:
  struct Entry {
    TimePoint enqueued;
    TimePoint deadline;
    uint32_t rows = 0;
    int level = 0;
    uint32_t prev = kNone, next = kNone;  // neighbours in the level's FIFO
    uint32_t heap_pos = kNone;            // index in heap_, kNone when no deadline
  };
  struct Level {
    uint32_t head = kNone, tail = kNone;
  };

  // Removes `id` from its FIFO and from the deadline heap.
  void Remove(uint32_t id);
  // The queued request first in service order, kNone when empty.
  uint32_t First() const;
  TimePoint Oldest() const;
  uint32_t TargetRows(bool due_by_time) const;
  bool Before(uint32_t a, uint32_t b) const;  // deadline order for the heap
  void HeapSwap(uint32_t i, uint32_t j);
  void HeapUp(uint32_t i);
  void HeapDown(uint32_t i);
  void HeapErase(uint32_t id);

  BatchPolicy policy_;
  std::vector<Entry> entries_;  // [capacity]
  std::vector<Level> levels_;   // [priority_levels]
  std::vector<uint32_t> heap_;  // ids with a finite deadline, min-heap on deadline
  uint32_t size_ = 0;
  uint32_t rows_ = 0;
};

}  // namespace hotpath::sched_internal

#endif  // HOTPATH_SCHED_INTERNAL_BATCH_QUEUE_H_
