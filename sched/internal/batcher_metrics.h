// BatcherMetrics: the hotpath_sched_* series of one batcher (one model
// version), resolved once at creation so that recording is a pointer
// dereference and a sharded atomic add. Names and meanings: docs/observe.md.
#ifndef HOTPATH_SCHED_INTERNAL_BATCHER_METRICS_H_
#define HOTPATH_SCHED_INTERNAL_BATCHER_METRICS_H_

#include <array>
#include <string>
#include <vector>

#include "core/status.h"
#include "observe/metrics.h"

namespace hotpath::sched_internal {

// Why an accepted request failed (label reason of ..._request_failure_total).
enum class FailReason { kDeadlineExceeded, kModelError, kShutdown };
inline constexpr size_t kNumFailReasons = 3;
// Why Submit refused a request (label reason of ..._rejected_total).
enum class RejectReason { kQueueFull, kDeadlineExceeded, kShutdown, kInvalidArgument };
inline constexpr size_t kNumRejectReasons = 4;

struct BatcherMetrics {
  // Registers (or joins) the families and resolves the series of `model` and
  // `version` for priorities 1..priority_levels. Errors as MetricsRegistry's.
  static Result<BatcherMetrics> Create(MetricsRegistry& registry, const std::string& model,
                                       const std::string& version, int priority_levels);

  std::vector<Histogram*> queue_duration;  // [level] seconds from Submit to batch start
  std::vector<Counter*> success;           // [level]
  std::vector<std::array<Counter*, kNumFailReasons>> failure;     // [level][reason]
  std::vector<std::array<Counter*, kNumRejectReasons>> rejected;  // [level][reason]
  Histogram* compute_duration = nullptr;  // seconds of Model::Predict per batch
  Histogram* batch_rows = nullptr;        // rows per batch
  Counter* inferences = nullptr;          // rows run
  Counter* executions = nullptr;          // batches run
  Gauge* queue_delay = nullptr;           // seconds, the delay in force
  Gauge* queued_requests = nullptr;       // requests queued, sampled as batches form
};

}  // namespace hotpath::sched_internal

#endif  // HOTPATH_SCHED_INTERNAL_BATCHER_METRICS_H_
