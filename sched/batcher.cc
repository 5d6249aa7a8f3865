#include "sched/batcher.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace hotpath {

using sched_internal::FailReason;
using sched_internal::RejectReason;

namespace {

Status BadOption(const std::string& field, const std::string& problem, int64_t got) {
  return InvalidArgumentError("batcher option " + field + " " + problem + ", got " +
                              std::to_string(got));
}

Status ValidatePreferred(const DynamicBatcher::Options& o) {
  int previous = 0;
  for (int size : o.preferred_batch_sizes) {
    if (size < 1 || size > o.max_batch_size) {
      return BadOption("preferred_batch_sizes", "entries must be in [1, max_batch_size]", size);
    }
    if (size <= previous) {
      return BadOption("preferred_batch_sizes", "must be strictly ascending", size);
    }
    previous = size;
  }
  return OkStatus();
}

Status ValidateOptions(const DynamicBatcher::Options& o) {
  if (o.model_name.empty()) return InvalidArgumentError("batcher option model_name is empty");
  if (o.max_batch_size < 1) return BadOption("max_batch_size", "must be >= 1", o.max_batch_size);
  if (o.max_queue_delay_us < 0) {
    return BadOption("max_queue_delay_us", "must be >= 0", o.max_queue_delay_us);
  }
  RETURN_IF_ERROR(ValidatePreferred(o));
  if (o.priority_levels < 1) return BadOption("priority_levels", "must be >= 1", o.priority_levels);
  if (o.default_priority < 1 || o.default_priority > o.priority_levels) {
    return BadOption("default_priority", "must be in [1, priority_levels]", o.default_priority);
  }
  if (o.priority_aging_us < 0) {
    return BadOption("priority_aging_us", "must be >= 0", o.priority_aging_us);
  }
  if (o.default_timeout_us < 0) {
    return BadOption("default_timeout_us", "must be >= 0", o.default_timeout_us);
  }
  if (o.max_queue_size < 1) return BadOption("max_queue_size", "must be >= 1", o.max_queue_size);
  if (o.instance_count < 1) return BadOption("instance_count", "must be >= 1", o.instance_count);
  if (o.idle_spin_us < 0) return BadOption("idle_spin_us", "must be >= 0", o.idle_spin_us);
  if (o.timer_fifo_priority < 0 || o.timer_fifo_priority > 99) {
    return BadOption("timer_fifo_priority", "must be in [0, 99]", o.timer_fifo_priority);
  }
  if (o.adaptive_p99_target_us < 0) {
    return BadOption("adaptive_p99_target_us", "must be >= 0", o.adaptive_p99_target_us);
  }
  return OkStatus();
}

Status ValidateModel(const Model* model, OutputKind kind) {
  if (model == nullptr) return InvalidArgumentError("batcher model is null");
  if (model->num_features() < 1) {
    return BadOption("model", "must have num_features() >= 1", model->num_features());
  }
  if (model->OutputWidth(kind) < 1) {
    return BadOption("output_kind", "must give the model an OutputWidth >= 1",
                     model->OutputWidth(kind));
  }
  return OkStatus();
}

sched_internal::BatchPolicy PolicyFor(const DynamicBatcher::Options& o) {
  sched_internal::BatchPolicy p;
  p.max_batch_rows = static_cast<uint32_t>(o.max_batch_size);
  for (int size : o.preferred_batch_sizes) p.preferred_rows.push_back(static_cast<uint32_t>(size));
  p.priority_levels = o.priority_levels;
  p.priority_aging = std::chrono::microseconds(o.priority_aging_us);
  p.queue_delay = std::chrono::microseconds(o.max_queue_delay_us);
  return p;
}

double Seconds(Nanos d) { return static_cast<double>(d.count()) * 1e-9; }

// Tells the core that this is a spin-wait loop.
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace

Result<std::unique_ptr<DynamicBatcher>> DynamicBatcher::Create(const Options& options,
                                                               std::shared_ptr<const Model> model,
                                                               MetricsRegistry& metrics,
                                                               const Clock& clock) {
  RETURN_IF_ERROR(ValidateOptions(options));
  RETURN_IF_ERROR(ValidateModel(model.get(), options.output_kind));
  ASSIGN_OR_RETURN(
      sched_internal::BatcherMetrics m,
      sched_internal::BatcherMetrics::Create(metrics, options.model_name, options.model_version,
                                             options.priority_levels));
  std::unique_ptr<DynamicBatcher> batcher(
      new DynamicBatcher(options, std::move(model), std::move(m), clock));
  RETURN_IF_ERROR(batcher->Start());
  return batcher;
}

DynamicBatcher::DynamicBatcher(const Options& options, std::shared_ptr<const Model> model,
                               sched_internal::BatcherMetrics metrics, const Clock& clock)
    : options_(options),
      model_(std::move(model)),
      metrics_(std::move(metrics)),
      clock_(clock),
      num_features_(static_cast<size_t>(model_->num_features())),
      output_width_(static_cast<size_t>(model_->OutputWidth(options.output_kind))),
      adaptive_on_(options.adaptive_p99_target_us > 0),
      slots_(static_cast<size_t>(options.max_queue_size)),
      queue_(PolicyFor(options), static_cast<uint32_t>(options.max_queue_size)) {
  sched_internal::PiMutexLock lock(&mu_);
  for (int id = options.max_queue_size - 1; id >= 0; --id) {
    free_ids_.push_back(static_cast<uint32_t>(id));
  }
  if (adaptive_on_) {
    adaptive_.emplace(sched_internal::AdaptiveDelay::Options{
        .target_p99 = std::chrono::microseconds(options.adaptive_p99_target_us),
        .max_delay = std::chrono::microseconds(options.max_queue_delay_us)});
  }
  metrics_.queue_delay->Set(Seconds(queue_.queue_delay()));
  const size_t max_rows = static_cast<size_t>(options.max_batch_size);
  const size_t queue_size = static_cast<size_t>(options.max_queue_size);
  timer_ids_.reserve(queue_size);
  timer_expired_.reserve(queue_size);
  for (int i = 0; i < options.instance_count; ++i) {
    auto w = std::make_unique<Worker>();
    w->input.resize(max_rows * num_features_);
    w->output.resize(max_rows * output_width_);
    w->ids.reserve(queue_size);
    w->batch.reserve(max_rows);
    w->expired.reserve(queue_size);
    w->latencies.reserve(max_rows);
    workers_.push_back(std::move(w));
  }
}

Status DynamicBatcher::Start() {
  std::promise<Status> started;
  timer_ = std::thread([this, &started] { TimerLoop(&started); });
  RETURN_IF_ERROR(started.get_future().get());
  for (auto& w : workers_) w->thread = std::thread([this, raw = w.get()] { WorkerLoop(raw); });
  return OkStatus();
}

DynamicBatcher::~DynamicBatcher() { Shutdown(ShutdownMode::kDrain); }

// ------------------------------------------------------------------ submit

Status DynamicBatcher::Reject(RejectReason reason, int level, Status status) {
  metrics_.rejected[static_cast<size_t>(level)][static_cast<size_t>(reason)]->Increment();
  return status;
}

Status DynamicBatcher::CheckRequest(const Request& r, int* level) const {
  const int priority = r.priority == 0 ? options_.default_priority : r.priority;
  if (priority < 1 || priority > options_.priority_levels) {
    *level = options_.default_priority - 1;
    return BadOption("request priority", "must be in [0, priority_levels]", r.priority);
  }
  *level = priority - 1;
  if (r.x == nullptr) return InvalidArgumentError("request x is null");
  if (r.out == nullptr) return InvalidArgumentError("request out is null");
  if (r.rows < 1 || r.rows > static_cast<size_t>(options_.max_batch_size)) {
    return BadOption("request rows", "must be in [1, max_batch_size]",
                     static_cast<int64_t>(r.rows));
  }
  return OkStatus();
}

Status DynamicBatcher::Submit(const Request& r, DoneCallback done) {
  int level = 0;
  Status invalid = CheckRequest(r, &level);
  if (!invalid.ok()) return Reject(RejectReason::kInvalidArgument, level, std::move(invalid));
  Wake wake;
  {
    sched_internal::PiMutexLock lock(&mu_);
    if (!accepting_) {
      return Reject(RejectReason::kShutdown, level,
                    UnavailableError("batcher for model " + options_.model_name + " is shut down"));
    }
    if (free_ids_.empty()) {
      return Reject(RejectReason::kQueueFull, level,
                    UnavailableError("queue of model " + options_.model_name + " is full (" +
                                     std::to_string(options_.max_queue_size) + " requests)"));
    }
    const TimePoint now = clock_.Now();
    TimePoint deadline = r.deadline.at();
    if (r.deadline.IsInfinite() && options_.default_timeout_us > 0) {
      deadline = now + std::chrono::microseconds(options_.default_timeout_us);
    }
    if (deadline <= now) {
      return Reject(RejectReason::kDeadlineExceeded, level,
                    DeadlineExceededError("request deadline passed before Submit"));
    }
    wake = Enqueue(r, level, now, deadline, std::move(done));
  }
  if (wake.worker) work_cv_.notify_one();
  if (wake.timer) timer_cv_.notify_one();
  return OkStatus();
}

DynamicBatcher::Wake DynamicBatcher::Enqueue(const Request& r, int level, TimePoint now,
                                             TimePoint deadline, DoneCallback done) {
  const uint32_t id = free_ids_.back();
  free_ids_.pop_back();
  Slot& s = slots_[id];
  s.x = r.x;
  s.out = r.out;
  s.rows = static_cast<uint32_t>(r.rows);
  s.level = level;
  s.enqueued = now;
  s.done = std::move(done);
  queue_.Push(id, s.rows, level, now, deadline);
  submitted_.fetch_add(1, std::memory_order_release);
  Wake wake;
  // A blocked worker must learn of a new first request (its wake-up time) or
  // of a batch that is due now; the timer of an earlier deadline.
  wake.worker = idle_workers_ > 0 && (queue_.size() == 1 || queue_.NextBatchDue() <= now);
  wake.timer = deadline < timer_armed_;
  if (wake.timer) timer_armed_ = deadline;
  return wake;
}

std::future<Status> DynamicBatcher::SubmitWithFuture(const Request& request) {
  auto promise = std::make_shared<std::promise<Status>>();
  std::future<Status> future = promise->get_future();
  Status status = Submit(request, [promise](Status s) { promise->set_value(std::move(s)); });
  if (!status.ok()) promise->set_value(std::move(status));
  return future;
}

Nanos DynamicBatcher::queue_delay() const {
  sched_internal::PiMutexLock lock(&mu_);
  return queue_.queue_delay();
}

// ----------------------------------------------------------------- helpers

void DynamicBatcher::TakeSlots(std::vector<uint32_t>* ids, std::vector<Slot>* out) {
  for (uint32_t id : *ids) {
    out->push_back(std::move(slots_[id]));
    free_ids_.push_back(id);
  }
  ids->clear();
}

void DynamicBatcher::WaitUntil(std::condition_variable_any& cv, TimePoint due) {
  if (due == TimePoint::max()) {
    cv.wait(mu_);
    return;
  }
  const Nanos left = due - clock_.Now();
  if (left > Nanos(0)) cv.wait_for(mu_, left);
}

void DynamicBatcher::Complete(std::vector<Slot>* slots, FailReason reason, const Status& status) {
  for (Slot& s : *slots) {
    const size_t level = static_cast<size_t>(s.level);
    if (status.ok()) {
      metrics_.success[level]->Increment();
    } else {
      metrics_.failure[level][static_cast<size_t>(reason)]->Increment();
    }
    s.done(status);
  }
  slots->clear();
}

// ----------------------------------------------------------------- workers

void DynamicBatcher::WorkerLoop(Worker* w) {
  const Status expired = DeadlineExceededError("request deadline passed while queued for model " +
                                               options_.model_name);
  while (NextBatch(w)) {
    Complete(&w->expired, FailReason::kDeadlineExceeded, expired);
    if (!w->batch.empty()) RunBatch(w);
  }
}

void DynamicBatcher::RecordLatencies(const Worker& w) {
  if (!adaptive_on_) return;
  bool changed = false;
  for (Nanos latency : w.latencies) changed |= adaptive_->Record(latency);
  if (!changed) return;
  queue_.set_queue_delay(adaptive_->delay());
  metrics_.queue_delay->Set(Seconds(adaptive_->delay()));
}

void DynamicBatcher::SpinForWork(TimePoint due) {
  const uint64_t seen = submitted_.load(std::memory_order_acquire);
  const TimePoint until =
      std::min(due, clock_.Now() + std::chrono::microseconds(options_.idle_spin_us));
  mu_.Unlock();
  while (submitted_.load(std::memory_order_acquire) == seen && clock_.Now() < until) {
    CpuRelax();
  }
  mu_.Lock();
}

bool DynamicBatcher::NextBatch(Worker* w) {
  sched_internal::PiMutexLock lock(&mu_);
  RecordLatencies(*w);
  bool spun = options_.idle_spin_us == 0;
  for (;;) {
    const TimePoint now = clock_.Now();
    queue_.PopExpired(now, &w->ids);
    TakeSlots(&w->ids, &w->expired);
    if (queue_.PopBatch(now, draining_, &w->ids) > 0) {
      TakeSlots(&w->ids, &w->batch);
      metrics_.queued_requests->Set(static_cast<double>(queue_.size()));
      return true;
    }
    if (!w->expired.empty()) return true;
    if (workers_stop_ && queue_.size() == 0) return false;
    if (!spun) {
      spun = true;
      SpinForWork(queue_.NextBatchDue());
      continue;
    }
    ++idle_workers_;
    WaitUntil(work_cv_, queue_.NextBatchDue());
    --idle_workers_;
  }
}

void DynamicBatcher::Gather(Worker* w) const {
  float* dst = w->input.data();
  for (const Slot& s : w->batch) {
    const size_t n = s.rows * num_features_;
    std::memcpy(dst, s.x, n * sizeof(float));
    dst += n;
  }
}

void DynamicBatcher::Scatter(const Worker& w) const {
  const float* src = w.output.data();
  for (const Slot& s : w.batch) {
    const size_t n = s.rows * output_width_;
    std::memcpy(s.out, src, n * sizeof(float));
    src += n;
  }
}

void DynamicBatcher::RunBatch(Worker* w) {
  const TimePoint start = clock_.Now();
  size_t rows = 0;
  for (const Slot& s : w->batch) rows += s.rows;
  // A batch of one request runs on the caller's buffers: no copies.
  const bool direct = w->batch.size() == 1;
  if (!direct) Gather(w);
  const Status status =
      model_->Predict(direct ? w->batch[0].x : w->input.data(), rows, options_.output_kind,
                      direct ? w->batch[0].out : w->output.data());
  const TimePoint end = clock_.Now();
  if (status.ok() && !direct) Scatter(*w);
  metrics_.compute_duration->ObserveDuration(end - start);
  metrics_.batch_rows->Observe(static_cast<double>(rows));
  metrics_.executions->Increment();
  metrics_.inferences->Increment(rows);
  w->latencies.clear();
  for (const Slot& s : w->batch) {
    metrics_.queue_duration[static_cast<size_t>(s.level)]->ObserveDuration(start - s.enqueued);
    if (adaptive_on_) w->latencies.push_back(end - s.enqueued);
  }
  Complete(&w->batch, FailReason::kModelError, status);
}

// ------------------------------------------------------------------- timer

void DynamicBatcher::TimerLoop(std::promise<Status>* started) {
  if (options_.timer_fifo_priority > 0) {
    sched_param param{};
    param.sched_priority = options_.timer_fifo_priority;
    const int err = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param);
    if (err != 0) {
      started->set_value(
          Status(StatusCode::kPermissionDenied, "batcher option timer_fifo_priority " +
                                                    std::to_string(options_.timer_fifo_priority) +
                                                    " cannot be set: " + std::strerror(err)));
      return;
    }
  }
  started->set_value(OkStatus());
  const Status expired = DeadlineExceededError("request deadline passed while queued for model " +
                                               options_.model_name);
  while (NextExpired()) Complete(&timer_expired_, FailReason::kDeadlineExceeded, expired);
}

bool DynamicBatcher::NextExpired() {
  sched_internal::PiMutexLock lock(&mu_);
  for (;;) {
    queue_.PopExpired(clock_.Now(), &timer_ids_);
    if (!timer_ids_.empty()) {
      TakeSlots(&timer_ids_, &timer_expired_);
      return true;
    }
    if (timer_stop_) return false;
    timer_armed_ = queue_.NextDeadline();
    WaitUntil(timer_cv_, timer_armed_);
  }
}

// ---------------------------------------------------------------- shutdown

void DynamicBatcher::Shutdown(ShutdownMode mode) {
  if (joined_) return;
  std::vector<Slot> failed;
  {
    sched_internal::PiMutexLock lock(&mu_);
    accepting_ = false;
    workers_stop_ = true;
    draining_ = true;
    if (mode == ShutdownMode::kFail) {
      std::vector<uint32_t> ids;
      queue_.PopAll(&ids);
      TakeSlots(&ids, &failed);
    }
  }
  Complete(&failed, FailReason::kShutdown,
           UnavailableError("batcher for model " + options_.model_name +
                            " shut down before the request ran"));
  work_cv_.notify_all();
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  {
    sched_internal::PiMutexLock lock(&mu_);
    timer_stop_ = true;
  }
  timer_cv_.notify_all();
  timer_.join();
  joined_ = true;
}

}  // namespace hotpath
