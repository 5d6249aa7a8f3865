// PiMutex: a priority-inheritance mutex (PTHREAD_PRIO_INHERIT) with
// thread-safety annotations. The batcher's real-time timer thread shares its
// lock with normal-priority threads; with priority inheritance a lock holder
// preempted by other processes is boosted to the timer's priority, so the
// timer is not held up behind it (priority inversion). Uncontended lock and
// unlock stay in user space, as with std::mutex.
#ifndef HOTPATH_SCHED_INTERNAL_PI_MUTEX_H_
#define HOTPATH_SCHED_INTERNAL_PI_MUTEX_H_

#include <pthread.h>

#include "core/thread_annotations.h"

namespace hotpath::sched_internal {

class CAPABILITY("mutex") PiMutex {
 public:
  PiMutex() {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setprotocol(&attr, PTHREAD_PRIO_INHERIT);
    pthread_mutex_init(&mu_, &attr);
    pthread_mutexattr_destroy(&attr);
  }
  ~PiMutex() { pthread_mutex_destroy(&mu_); }
  PiMutex(const PiMutex&) = delete;
  PiMutex& operator=(const PiMutex&) = delete;

  void Lock() ACQUIRE() { pthread_mutex_lock(&mu_); }
  void Unlock() RELEASE() { pthread_mutex_unlock(&mu_); }
  // BasicLockable spelling, for std::condition_variable_any.
  void lock() ACQUIRE() { Lock(); }
  void unlock() RELEASE() { Unlock(); }

 private:
  pthread_mutex_t mu_;
};

// RAII lock for PiMutex.
class SCOPED_CAPABILITY PiMutexLock {
 public:
  explicit PiMutexLock(PiMutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~PiMutexLock() RELEASE() { mu_->Unlock(); }
  PiMutexLock(const PiMutexLock&) = delete;
  PiMutexLock& operator=(const PiMutexLock&) = delete;

 private:
  PiMutex* mu_;
};

}  // namespace hotpath::sched_internal

#endif  // HOTPATH_SCHED_INTERNAL_PI_MUTEX_H_
