// Clang thread-safety annotations (checked with -Wthread-safety under clang;
// no-ops elsewhere), and an annotated mutex to use them with.
#ifndef HOTPATH_CORE_THREAD_ANNOTATIONS_H_
#define HOTPATH_CORE_THREAD_ANNOTATIONS_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define HOTPATH_TA_(x) __attribute__((x))
#else
#define HOTPATH_TA_(x)
#endif

#define GUARDED_BY(x) HOTPATH_TA_(guarded_by(x))
#define PT_GUARDED_BY(x) HOTPATH_TA_(pt_guarded_by(x))
#define REQUIRES(...) HOTPATH_TA_(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) HOTPATH_TA_(locks_excluded(__VA_ARGS__))
#define CAPABILITY(x) HOTPATH_TA_(capability(x))
#define SCOPED_CAPABILITY HOTPATH_TA_(scoped_lockable)
#define ACQUIRE(...) HOTPATH_TA_(acquire_capability(__VA_ARGS__))
#define RELEASE(...) HOTPATH_TA_(release_capability(__VA_ARGS__))

namespace hotpath {

// std::mutex with capability annotations.
class CAPABILITY("mutex") Mutex {
 public:
  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  // BasicLockable spelling, for std::unique_lock and condition_variable_any.
  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }
  std::mutex& native() { return mu_; }

 private:
  std::mutex mu_;
};

// RAII lock for Mutex.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* mu_;
};

// A condition variable for Mutex, visible to the thread-safety analysis:
// waits REQUIRE the mutex, release it while blocked and hold it again on
// return. Write waits as `while (!condition) cv.Wait(&mu);`.
class CondVar {
 public:
  void Wait(Mutex* mu) REQUIRES(mu) {
    std::unique_lock<std::mutex> l(mu->native(), std::adopt_lock);
    cv_.wait(l);
    l.release();
  }
  // Returns false when `deadline` passed before a signal.
  template <typename ClockT, typename Duration>
  bool WaitUntil(Mutex* mu, std::chrono::time_point<ClockT, Duration> deadline) REQUIRES(mu) {
    std::unique_lock<std::mutex> l(mu->native(), std::adopt_lock);
    const bool signalled = cv_.wait_until(l, deadline) == std::cv_status::no_timeout;
    l.release();
    return signalled;
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace hotpath

#endif  // HOTPATH_CORE_THREAD_ANNOTATIONS_H_
