#include "core/thread_pool.h"

#include <algorithm>

namespace hotpath {

ThreadPool::ThreadPool(int num_threads) {
  for (int i = 1; i < num_threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    MutexLock l(&mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  for (auto& t : workers_) t.join();
}

void ThreadPool::RunChunks() {
  mu_.Lock();
  while (fn_ != nullptr && next_ < n_) {
    const size_t begin = next_;
    const size_t end = std::min(n_, begin + grain_);
    next_ = end;
    ++active_;
    const auto* fn = fn_;
    mu_.Unlock();
    (*fn)(begin, end);
    mu_.Lock();
    if (--active_ == 0 && next_ >= n_) done_cv_.SignalAll();
  }
  mu_.Unlock();
}

void ThreadPool::WorkerLoop() {
  uint64_t seen = 0;
  for (;;) {
    {
      MutexLock l(&mu_);
      while (!stop_ && generation_ == seen) cv_.Wait(&mu_);
      if (stop_) return;
      seen = generation_;
    }
    RunChunks();
  }
}

void ThreadPool::ParallelFor(size_t n, size_t grain,
                             const std::function<void(size_t, size_t)>& fn) {
  if (n == 0) return;
  grain = std::max<size_t>(grain, 1);
  if (workers_.empty() || n <= grain) {
    fn(0, n);
    return;
  }
  MutexLock call(&call_mu_);
  {
    MutexLock l(&mu_);
    fn_ = &fn;
    n_ = n;
    grain_ = grain;
    next_ = 0;
    active_ = 0;
    ++generation_;
  }
  cv_.SignalAll();
  RunChunks();
  MutexLock l(&mu_);
  while (next_ < n_ || active_ != 0) done_cv_.Wait(&mu_);
  fn_ = nullptr;
}

}  // namespace hotpath
