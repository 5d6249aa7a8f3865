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
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::RunChunks() {
  std::unique_lock<Mutex> lock(mu_);
  while (fn_ != nullptr && next_ < n_) {
    size_t begin = next_;
    size_t end = std::min(n_, begin + grain_);
    next_ = end;
    ++active_;
    const auto* fn = fn_;
    lock.unlock();
    (*fn)(begin, end);
    lock.lock();
    if (--active_ == 0 && next_ >= n_) done_cv_.notify_all();
  }
}

void ThreadPool::WorkerLoop() {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<Mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
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
  cv_.notify_all();
  RunChunks();
  std::unique_lock<Mutex> lock(mu_);
  done_cv_.wait(lock, [&] { return next_ >= n_ && active_ == 0; });
  fn_ = nullptr;
}

}  // namespace hotpath
