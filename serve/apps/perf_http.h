// PerfHttpApp: the server's recent performance history (observe/history.h),
// one point per second for the last hour: KServe inference throughput,
// end-to-end latency p50/p95/p99 measured in the HTTP front, and failed
// inferences from the batchers' counters.
//   GET /v1/perf/history -> {"points": [{"t_ms", "throughput_per_s",
//        "p50_ms", "p95_ms", "p99_ms", "errors"}, ...]} oldest first.
// `hotpath perf report` reads it and draws the plots.
#ifndef HOTPATH_SERVE_APPS_PERF_HTTP_H_
#define HOTPATH_SERVE_APPS_PERF_HTTP_H_

#include <memory>

#include "observe/history.h"
#include "observe/metrics.h"
#include "serve/http_app.h"
#include "serve/http_server.h"

namespace hotpath {

class PerfHttpApp final : public HttpApp {
 public:
  // Registers hotpath_http_infer_duration_seconds in `registry` (borrowed,
  // must outlive the app).
  static Result<std::unique_ptr<PerfHttpApp>> Create(MetricsRegistry* registry, const Clock& clock);
  // Feed from HttpServer::Options::on_infer_timing. Thread-safe, lock-free.
  void OnInfer(const InferTiming& timing) { latency_->ObserveDuration(timing.total); }
  // Appends the point for the last interval; call once a second.
  void Tick();
  bool Handle(const HttpAppRequest& request, Respond respond) override;
  // The points so far (for alert evaluation).
  const MetricsHistory& history() const { return *history_; }

 private:
  PerfHttpApp(MetricsRegistry* registry, Histogram* latency, std::unique_ptr<MetricsHistory> history)
      : registry_(registry), latency_(latency), history_(std::move(history)) {}
  uint64_t FailedInferences() const;

  MetricsRegistry* registry_;
  Histogram* latency_;
  std::unique_ptr<MetricsHistory> history_;
};

}  // namespace hotpath

#endif  // HOTPATH_SERVE_APPS_PERF_HTTP_H_
