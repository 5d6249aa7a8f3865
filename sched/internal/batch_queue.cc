#include "sched/internal/batch_queue.h"

#include <utility>

namespace hotpath::sched_internal {

BatchQueue::BatchQueue(const BatchPolicy& policy, uint32_t capacity)
    : policy_(policy), entries_(capacity), levels_(static_cast<size_t>(policy.priority_levels)) {
  heap_.reserve(capacity);
}

void BatchQueue::Push(uint32_t id, uint32_t rows, int level, TimePoint enqueued,
                      TimePoint deadline) {
  Entry& e = entries_[id];
  e.enqueued = enqueued;
  e.deadline = deadline;
  e.rows = rows;
  e.level = level;
  Level& l = levels_[static_cast<size_t>(level)];
  e.prev = l.tail;
  e.next = kNone;
  if (l.tail != kNone) {
    entries_[l.tail].next = id;
  } else {
    l.head = id;
  }
  l.tail = id;
  e.heap_pos = kNone;
  if (deadline != TimePoint::max()) {
    e.heap_pos = static_cast<uint32_t>(heap_.size());
    heap_.push_back(id);
    HeapUp(e.heap_pos);
  }
  ++size_;
  rows_ += rows;
}

void BatchQueue::Remove(uint32_t id) {
  Entry& e = entries_[id];
  Level& l = levels_[static_cast<size_t>(e.level)];
  if (e.prev != kNone) {
    entries_[e.prev].next = e.next;
  } else {
    l.head = e.next;
  }
  if (e.next != kNone) {
    entries_[e.next].prev = e.prev;
  } else {
    l.tail = e.prev;
  }
  if (e.heap_pos != kNone) HeapErase(id);
  --size_;
  rows_ -= e.rows;
}

void BatchQueue::PopExpired(TimePoint now, std::vector<uint32_t>* expired) {
  while (!heap_.empty() && entries_[heap_[0]].deadline <= now) {
    const uint32_t id = heap_[0];
    Remove(id);
    expired->push_back(id);
  }
}

void BatchQueue::PopAll(std::vector<uint32_t>* out) {
  for (uint32_t id = First(); id != kNone; id = First()) {
    Remove(id);
    out->push_back(id);
  }
}

uint32_t BatchQueue::First() const {
  uint32_t best = kNone;
  TimePoint best_key = TimePoint::max();
  for (size_t level = 0; level < levels_.size(); ++level) {
    const uint32_t id = levels_[level].head;
    if (id == kNone) continue;
    const TimePoint key = entries_[id].enqueued + policy_.priority_aging * level;
    if (best == kNone || key < best_key) {
      best = id;
      best_key = key;
    }
  }
  return best;
}

TimePoint BatchQueue::Oldest() const {
  TimePoint oldest = TimePoint::max();
  for (const Level& l : levels_) {
    if (l.head != kNone && entries_[l.head].enqueued < oldest) oldest = entries_[l.head].enqueued;
  }
  return oldest;
}

uint32_t BatchQueue::TargetRows(bool due_by_time) const {
  if (rows_ >= policy_.max_batch_rows) return policy_.max_batch_rows;
  const std::vector<uint32_t>& preferred = policy_.preferred_rows;
  if (!preferred.empty() && rows_ >= preferred.back()) return preferred.back();
  if (!due_by_time) return 0;
  for (auto it = preferred.rbegin(); it != preferred.rend(); ++it) {
    if (*it <= rows_) return *it;
  }
  return rows_;
}

uint32_t BatchQueue::PopBatch(TimePoint now, bool flush, std::vector<uint32_t>* batch) {
  if (size_ == 0) return 0;
  const uint32_t target = TargetRows(flush || now >= Oldest() + policy_.queue_delay);
  if (target == 0) return 0;
  uint32_t taken = 0;
  for (uint32_t id = First(); id != kNone; id = First()) {
    const uint32_t rows = entries_[id].rows;
    if (taken > 0 && taken + rows > target) break;
    Remove(id);
    batch->push_back(id);
    taken += rows;
  }
  return taken;
}

TimePoint BatchQueue::NextBatchDue() const {
  if (size_ == 0) return TimePoint::max();
  if (TargetRows(/*due_by_time=*/false) > 0) return TimePoint::min();
  return Oldest() + policy_.queue_delay;
}

TimePoint BatchQueue::NextDeadline() const {
  return heap_.empty() ? TimePoint::max() : entries_[heap_[0]].deadline;
}

// ------------------------------------------------------------ deadline heap

bool BatchQueue::Before(uint32_t a, uint32_t b) const {
  return entries_[a].deadline < entries_[b].deadline;
}

void BatchQueue::HeapSwap(uint32_t i, uint32_t j) {
  std::swap(heap_[i], heap_[j]);
  entries_[heap_[i]].heap_pos = i;
  entries_[heap_[j]].heap_pos = j;
}

void BatchQueue::HeapUp(uint32_t i) {
  while (i > 0) {
    const uint32_t parent = (i - 1) / 2;
    if (!Before(heap_[i], heap_[parent])) return;
    HeapSwap(i, parent);
    i = parent;
  }
}

void BatchQueue::HeapDown(uint32_t i) {
  const uint32_t n = static_cast<uint32_t>(heap_.size());
  for (;;) {
    uint32_t smallest = i;
    const uint32_t left = 2 * i + 1;
    const uint32_t right = left + 1;
    if (left < n && Before(heap_[left], heap_[smallest])) smallest = left;
    if (right < n && Before(heap_[right], heap_[smallest])) smallest = right;
    if (smallest == i) return;
    HeapSwap(i, smallest);
    i = smallest;
  }
}

void BatchQueue::HeapErase(uint32_t id) {
  const uint32_t pos = entries_[id].heap_pos;
  const uint32_t last = static_cast<uint32_t>(heap_.size()) - 1;
  if (pos != last) HeapSwap(pos, last);
  heap_.pop_back();
  entries_[id].heap_pos = kNone;
  if (pos < heap_.size()) {
    HeapUp(pos);
    HeapDown(pos);
  }
}

}  // namespace hotpath::sched_internal
