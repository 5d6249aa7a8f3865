// DynamicBatcher: queues one model's requests and runs them as batches on
// instance worker threads, with priorities, deadlines, a bounded queue and an
// optional adaptive queue delay (Triton's dynamic batcher, TF Serving's
// BasicBatchScheduler).
//
// Batch formation (sched/internal/batch_queue.h has the exact rules): a batch
// is formed when an instance worker is free and the queue holds
// max_batch_size rows, or the largest preferred size, or the oldest request
// has waited the queue delay; it then takes requests in service order up to
// max_batch_size rows, or to the largest preferred size that the queue can
// fill. Service order is by priority with aging: a request at priority p (1 =
// highest) ranks as if it had arrived (p - 1) * priority_aging_us later, so
// higher priorities go first and no priority starves.
//
// Deadlines: a timer thread sleeps until the earliest queued deadline, so a
// request whose deadline passes while queued is answered DEADLINE_EXCEEDED at
// its deadline plus the timer thread's wake-up latency, not when a batch
// happens to finish. Measured p99 (docs/sched.md, 2-core VM): 40-220 µs with
// timer_fifo_priority set, even with both cores saturated by other processes;
// with the normal scheduler 0.1-0.9 ms while the machine has room, but several
// ms when it is saturated. A request is never started after its deadline; one
// that has started runs to completion.
//
// Latency bound. Let D = the queue delay (max_queue_delay_us, or the adaptive
// value, never above it), C(n) = Model::Predict time for n rows, B =
// max_batch_size, I = instance_count, and R = the rows queued ahead of a
// request in service order when it arrives. For a request of the top
// priority, from Submit to the start of its batch:
//   queue wait <= D + C_inflight + ceil(R / B) * C(B) / I + wake-up latency,
// where C_inflight <= C(B) is the time until the first busy worker frees up
// (zero when a worker is idle). A request at priority p waits at most
// (p - 1) * priority_aging_us more than that, plus the service of requests
// that arrive in that window. Its answer comes at queue wait + C(batch rows)
// + the scatter copy, or at its deadline, whichever is first.
//
// Thread-safety: Submit may be called from any number of threads. Shutdown and
// the destructor must not be called from a completion callback.
#ifndef HOTPATH_SCHED_BATCHER_H_
#define HOTPATH_SCHED_BATCHER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/thread_annotations.h"
#include "observe/metrics.h"
#include "runtime/model.h"
#include "sched/internal/adaptive_delay.h"
#include "sched/internal/batch_queue.h"
#include "sched/internal/batcher_metrics.h"
#include "sched/internal/pi_mutex.h"

namespace hotpath {

class DynamicBatcher {
 public:
  struct Options {
    std::string model_name;                       // required; the `model` metrics label
    std::string model_version = "1";              // the `version` metrics label
    OutputKind output_kind = OutputKind::kValue;  // what Predict produces for every request
    int max_batch_size = 32;                      // rows per batch, >= 1
    int64_t max_queue_delay_us = 100;             // longest wait for a fuller batch, >= 0
    // Batch sizes (rows) to favour, strictly ascending, each in [1, max_batch_size].
    std::vector<int> preferred_batch_sizes;
    int priority_levels = 1;   // >= 1; priority 1 is the highest
    int default_priority = 1;  // in [1, priority_levels]
    // Service-order handicap per priority step (see above), >= 0.
    int64_t priority_aging_us = 1000;
    // Deadline for requests that bring none; 0 = none. >= 0.
    int64_t default_timeout_us = 0;
    int max_queue_size = 1024;  // requests queued at once, >= 1
    int instance_count = 1;     // worker threads running Predict, >= 1
    // An idle worker spins this long for new work before it blocks, >= 0.
    // Saves the futex wake-up (several µs) at light load for the CPU it burns.
    int64_t idle_spin_us = 0;
    // SCHED_FIFO priority of the deadline timer thread, in [0, 99]; 0 leaves
    // it under the normal scheduler. A real-time timer answers expiries on
    // time even when every core is busy with other processes (a nice value
    // does not: with autogroup scheduling it only ranks threads within this
    // process's session). Needs CAP_SYS_NICE; Create fails PERMISSION_DENIED
    // without it. The timer thread only expires requests and runs their
    // callbacks, so it uses little CPU.
    int timer_fifo_priority = 0;
    // When > 0, the queue delay adapts in [0, max_queue_delay_us] so that the
    // p99 of queue wait + compute meets this target (internal/adaptive_delay.h).
    int64_t adaptive_p99_target_us = 0;
  };

  // One inference request. The caller keeps `x` and `out` alive and untouched
  // until `done` runs.
  struct Request {
    const float* x = nullptr;  // [rows, num_features]
    size_t rows = 0;           // 1 ..= max_batch_size
    float* out = nullptr;      // [rows, OutputWidth(output_kind)], written before `done` runs
    int priority = 0;          // 0 = default_priority, else 1 ..= priority_levels
    Deadline deadline;         // infinite = now + default_timeout_us (or none)
  };

  // Runs exactly once per accepted request, on a batcher thread, with OK (and
  // `out` written), DEADLINE_EXCEEDED (expired before it ran), UNAVAILABLE
  // (failed by Shutdown(kFail)), or the model's error. Must be quick: it runs
  // on the thread that serves the next batch. A lambda capturing up to two
  // pointers is stored without allocation.
  using DoneCallback = std::function<void(Status)>;

  enum class ShutdownMode {
    kDrain,  // run every queued request (deadlines still apply), then stop
    kFail,   // answer every queued request UNAVAILABLE, finish running batches, stop
  };

  // Validates `options` (INVALID_ARGUMENT naming the field; PERMISSION_DENIED
  // when timer_fifo_priority cannot be applied), registers the
  // hotpath_sched_* metrics in `metrics` (labels model, version, priority,
  // reason; see docs/observe.md), allocates every queue slot and worker
  // buffer, and starts instance_count workers and one deadline timer thread.
  // The batcher shares ownership of `model` (a repository may drop its own
  // reference while requests run). `metrics` and `clock` must outlive the
  // batcher; `clock` stamps enqueue times and deadlines, and waits are
  // converted to real time, so the threaded batcher needs a real clock
  // (BatchQueue is the FakeClock-tested core).
  static Result<std::unique_ptr<DynamicBatcher>> Create(const Options& options,
                                                        std::shared_ptr<const Model> model,
                                                        MetricsRegistry& metrics,
                                                        const Clock& clock = RealClock());

  // Shutdown(kDrain) unless Shutdown ran already.
  ~DynamicBatcher();
  DynamicBatcher(const DynamicBatcher&) = delete;
  DynamicBatcher& operator=(const DynamicBatcher&) = delete;

  // Queues `request`. On OK, ownership of the request passes to the batcher and
  // `done` will run exactly once. On error `done` never runs:
  // INVALID_ARGUMENT naming the field (x, out, rows, priority); UNAVAILABLE
  // when max_queue_size requests are queued or the batcher is shutting down;
  // DEADLINE_EXCEEDED when the deadline has already passed. No allocation.
  Status Submit(const Request& request, DoneCallback done) EXCLUDES(mu_);

  // Convenience for callers that block: the future holds what `done` would
  // get, or the Submit error. Allocates the future's shared state.
  std::future<Status> SubmitWithFuture(const Request& request) EXCLUDES(mu_);

  // Stops accepting requests (UNAVAILABLE), drains or fails the queue as
  // `mode` says, and joins every thread. Idempotent; call from one thread.
  void Shutdown(ShutdownMode mode) EXCLUDES(mu_);

  // The queue delay in force (adaptive mode moves it).
  Nanos queue_delay() const EXCLUDES(mu_);

 private:
  // One queued or running request, as the batcher holds it.
  struct Slot {
    const float* x = nullptr;
    float* out = nullptr;
    uint32_t rows = 0;
    int level = 0;  // priority - 1
    TimePoint enqueued;
    DoneCallback done;
  };
  // An instance worker and its reusable buffers.
  struct Worker {
    std::vector<float> input;      // [max_batch_size, num_features]
    std::vector<float> output;     // [max_batch_size, output_width]
    std::vector<uint32_t> ids;     // ids popped from the queue
    std::vector<Slot> batch;       // the batch being run
    std::vector<Slot> expired;     // requests found expired when forming it
    std::vector<Nanos> latencies;  // per request of the last batch, for adaptive mode
    std::thread thread;
  };

  DynamicBatcher(const Options& options, std::shared_ptr<const Model> model,
                 sched_internal::BatcherMetrics metrics, const Clock& clock);
  // Starts the timer thread (which sets its scheduling policy first) and the
  // workers. On error nothing is left running but the exited timer.
  Status Start();

  // Which threads a Submit must notify.
  struct Wake {
    bool worker = false;
    bool timer = false;
  };

  Status Reject(sched_internal::RejectReason reason, int level, Status status);
  // INVALID_ARGUMENT naming the bad field, else OK; sets the priority level
  // the request (or its rejection) counts under.
  Status CheckRequest(const Request& r, int* level) const;
  // Queues a validated request. REQUIRES: a free slot, deadline > now.
  Wake Enqueue(const Request& r, int level, TimePoint now, TimePoint deadline, DoneCallback done)
      REQUIRES(mu_);
  // Moves the slots of `ids` into `out` and frees them. Clears `ids`.
  void TakeSlots(std::vector<uint32_t>* ids, std::vector<Slot>* out) REQUIRES(mu_);
  // Blocks on `cv` until `due` on clock_ (or a notification).
  void WaitUntil(std::condition_variable_any& cv, TimePoint due) REQUIRES(mu_);
  // Drops mu_ and spins until a Submit, `due`, or idle_spin_us passes.
  void SpinForWork(TimePoint due) REQUIRES(mu_);

  void WorkerLoop(Worker* w);
  // Waits for the next batch and moves it into w->batch; false when the worker
  // should exit. Feeds the previous batch's latencies to the adaptive delay.
  bool NextBatch(Worker* w) EXCLUDES(mu_);
  void RunBatch(Worker* w);
  void Gather(Worker* w) const;
  void Scatter(const Worker& w) const;
  void Complete(std::vector<Slot>* slots, sched_internal::FailReason reason, const Status& status);

  void TimerLoop(std::promise<Status>* started);
  // Waits until some request expires (moved into timer_expired_) or the timer stops (false).
  bool NextExpired() EXCLUDES(mu_);
  void RecordLatencies(const Worker& w) REQUIRES(mu_);

  const Options options_;
  const std::shared_ptr<const Model> model_;
  const sched_internal::BatcherMetrics metrics_;
  const Clock& clock_;
  const size_t num_features_;
  const size_t output_width_;
  const bool adaptive_on_;

  mutable sched_internal::PiMutex mu_;
  std::condition_variable_any work_cv_;   // idle workers wait here
  std::condition_variable_any timer_cv_;  // the timer thread waits here
  // Invariant: a slot id is either in free_ids_ or queued in queue_, except
  // between TakeSlots and its caller's completion, when it is in free_ids_
  // and its Slot has been moved out.
  std::vector<Slot> slots_ GUARDED_BY(mu_);
  std::vector<uint32_t> free_ids_ GUARDED_BY(mu_);
  sched_internal::BatchQueue queue_ GUARDED_BY(mu_);
  std::optional<sched_internal::AdaptiveDelay> adaptive_ GUARDED_BY(mu_);
  int idle_workers_ GUARDED_BY(mu_) = 0;  // workers blocked on work_cv_
  // Bumped by every accepted Submit (under mu_); spinning workers watch it.
  std::atomic<uint64_t> submitted_{0};
  TimePoint timer_armed_ GUARDED_BY(mu_) = TimePoint::max();  // when the timer wakes next
  bool accepting_ GUARDED_BY(mu_) = true;
  bool draining_ GUARDED_BY(mu_) = false;      // dispatch without waiting for the delay
  bool workers_stop_ GUARDED_BY(mu_) = false;  // exit once the queue is empty
  bool timer_stop_ GUARDED_BY(mu_) = false;
  bool joined_ = false;  // touched only by Shutdown's thread

  std::vector<uint32_t> timer_ids_;  // timer thread only
  std::vector<Slot> timer_expired_;  // timer thread only
  std::vector<std::unique_ptr<Worker>> workers_;
  std::thread timer_;
};

}  // namespace hotpath

#endif  // HOTPATH_SCHED_BATCHER_H_
