// ThreadPool: a fixed set of worker threads that run index ranges in parallel
// (batch prediction over rows, bulk loads). Not for per-request fan-out on the
// serving path: the scheduler owns its own instance workers.
#ifndef HOTPATH_CORE_THREAD_POOL_H_
#define HOTPATH_CORE_THREAD_POOL_H_

#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

#include "core/thread_annotations.h"

namespace hotpath {

class ThreadPool {
 public:
  // Starts `num_threads - 1` workers; the calling thread is the last one.
  // REQUIRES: num_threads >= 1.
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs fn(begin, end) over [0, n) split into chunks of at most `grain`
  // items, on all threads including the caller; returns when all are done.
  // Calls from several threads at once are serialised. `fn` must not throw.
  void ParallelFor(size_t n, size_t grain, const std::function<void(size_t, size_t)>& fn)
      EXCLUDES(mu_);

 private:
  void WorkerLoop() EXCLUDES(mu_);
  // Claims and runs chunks of the current job until none is left.
  void RunChunks() EXCLUDES(mu_);

  Mutex call_mu_;  // serialises ParallelFor callers
  Mutex mu_;
  CondVar cv_;       // a new job or stop_
  CondVar done_cv_;  // the current job finished
  // The current job; valid while active_ > 0 or chunks remain.
  const std::function<void(size_t, size_t)>* fn_ GUARDED_BY(mu_) = nullptr;
  size_t n_ GUARDED_BY(mu_) = 0;
  size_t grain_ GUARDED_BY(mu_) = 1;
  size_t next_ GUARDED_BY(mu_) = 0;   // first unclaimed index
  size_t active_ GUARDED_BY(mu_) = 0;  // chunks being run
  uint64_t generation_ GUARDED_BY(mu_) = 0;
  bool stop_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace hotpath

#endif  // HOTPATH_CORE_THREAD_POOL_H_
