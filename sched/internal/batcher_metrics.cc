#include "sched/internal/batcher_metrics.h"

namespace hotpath::sched_internal {

namespace {

constexpr std::array<const char*, kNumFailReasons> kFailNames = {"deadline_exceeded", "model_error",
                                                                 "shutdown"};
constexpr std::array<const char*, kNumRejectReasons> kRejectNames = {
    "queue_full", "deadline_exceeded", "shutdown", "invalid_argument"};

const std::vector<std::string> kModel = {"model", "version"};
const std::vector<std::string> kByPriority = {"model", "version", "priority"};
const std::vector<std::string> kByReason = {"model", "version", "priority", "reason"};

// The hotpath_sched_* families, shared by every batcher of the registry.
struct Families {
  HistogramFamily* queue;
  HistogramFamily* compute;
  HistogramFamily* rows;
  CounterFamily* success;
  CounterFamily* failure;
  CounterFamily* rejected;
  CounterFamily* inferences;
  CounterFamily* executions;
  GaugeFamily* delay;
  GaugeFamily* queued;
};

Result<Families> RegisterHistograms(MetricsRegistry& r, Families f) {
  const HistogramBuckets latency = HistogramBuckets::LatencySeconds();
  ASSIGN_OR_RETURN(f.queue, r.AddHistogram({"hotpath_sched_queue_duration_seconds",
                                            "Time from Submit to the start of the request's batch.",
                                            kByPriority},
                                           latency));
  ASSIGN_OR_RETURN(f.compute, r.AddHistogram({"hotpath_sched_compute_duration_seconds",
                                              "Model::Predict time per batch.", kModel},
                                             latency));
  ASSIGN_OR_RETURN(f.rows,
                   r.AddHistogram({"hotpath_sched_batch_rows", "Rows per executed batch.", kModel},
                                  HistogramBuckets::BatchRows()));
  return f;
}

Result<Families> RegisterFamilies(MetricsRegistry& r) {
  ASSIGN_OR_RETURN(Families f, RegisterHistograms(r, Families{}));
  ASSIGN_OR_RETURN(f.success,
                   r.AddCounter({"hotpath_sched_request_success_total",
                                 "Requests answered with the model's output.", kByPriority}));
  ASSIGN_OR_RETURN(
      f.failure, r.AddCounter({"hotpath_sched_request_failure_total",
                               "Accepted requests answered with an error, by reason.", kByReason}));
  ASSIGN_OR_RETURN(f.rejected, r.AddCounter({"hotpath_sched_rejected_total",
                                             "Requests refused by Submit, by reason.", kByReason}));
  ASSIGN_OR_RETURN(f.inferences,
                   r.AddCounter({"hotpath_sched_inferences_total", "Rows run.", kModel}));
  ASSIGN_OR_RETURN(f.executions,
                   r.AddCounter({"hotpath_sched_executions_total", "Batches run.", kModel}));
  ASSIGN_OR_RETURN(f.delay, r.AddGauge({"hotpath_sched_queue_delay_seconds",
                                        "Queue delay in force (adaptive mode moves it).", kModel}));
  ASSIGN_OR_RETURN(f.queued, r.AddGauge({"hotpath_sched_queued_requests",
                                         "Requests queued, sampled when a batch forms.", kModel}));
  return f;
}

// Appends the series of one priority level to `m`.
Status ResolvePriority(const Families& f, const std::string& model, const std::string& version,
                       const std::string& prio, BatcherMetrics* m) {
  ASSIGN_OR_RETURN(Histogram * queue, f.queue->WithLabels({model, version, prio}));
  ASSIGN_OR_RETURN(Counter * success, f.success->WithLabels({model, version, prio}));
  std::array<Counter*, kNumFailReasons> fail{};
  for (size_t i = 0; i < kNumFailReasons; ++i) {
    ASSIGN_OR_RETURN(fail[i], f.failure->WithLabels({model, version, prio, kFailNames[i]}));
  }
  std::array<Counter*, kNumRejectReasons> rej{};
  for (size_t i = 0; i < kNumRejectReasons; ++i) {
    ASSIGN_OR_RETURN(rej[i], f.rejected->WithLabels({model, version, prio, kRejectNames[i]}));
  }
  m->queue_duration.push_back(queue);
  m->success.push_back(success);
  m->failure.push_back(fail);
  m->rejected.push_back(rej);
  return OkStatus();
}

}  // namespace

Result<BatcherMetrics> BatcherMetrics::Create(MetricsRegistry& registry, const std::string& model,
                                              const std::string& version, int priority_levels) {
  ASSIGN_OR_RETURN(const Families f, RegisterFamilies(registry));
  BatcherMetrics m;
  const std::vector<std::string> mv = {model, version};
  ASSIGN_OR_RETURN(m.compute_duration, f.compute->WithLabels(mv));
  ASSIGN_OR_RETURN(m.batch_rows, f.rows->WithLabels(mv));
  ASSIGN_OR_RETURN(m.inferences, f.inferences->WithLabels(mv));
  ASSIGN_OR_RETURN(m.executions, f.executions->WithLabels(mv));
  ASSIGN_OR_RETURN(m.queue_delay, f.delay->WithLabels(mv));
  ASSIGN_OR_RETURN(m.queued_requests, f.queued->WithLabels(mv));
  for (int p = 1; p <= priority_levels; ++p) {
    RETURN_IF_ERROR(ResolvePriority(f, model, version, std::to_string(p), &m));
  }
  return m;
}

}  // namespace hotpath::sched_internal
