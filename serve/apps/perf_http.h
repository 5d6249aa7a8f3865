// PerfHttpApp: the server's recent performance history (observe/history.h):
// one point per second for the last hour and one per minute for the last
// three days. Each point: KServe inference throughput, end-to-end latency
// p50/p95/p99 measured in the HTTP front, failed inferences, mean queue time
// and batch fill of the batchers, CPU (cores busy) and resident memory.
//   GET /v1/perf/history[?resolution=minute] -> {"points": [{"t_ms",
//        "throughput_per_s", "p50_ms", "p95_ms", "p99_ms", "errors",
//        "queue_ms", "batch_rows", "cpu_cores", "rss_mb"}, ...]} oldest first.
// `hotpath perf report` reads it and draws the plots.
#ifndef HOTPATH_SERVE_APPS_PERF_HTTP_H_
#define HOTPATH_SERVE_APPS_PERF_HTTP_H_

#include <deque>
#include <memory>

#include "core/thread_annotations.h"
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
  // Appends the point for the last second (and, every 60th call, the last
  // minute); call once a second from one thread.
  void Tick() EXCLUDES(mu_);
  bool Handle(const HttpAppRequest& request, Respond respond) override;
  // The per-second and per-minute points so far (for alert evaluation).
  const MetricsHistory& history() const { return *seconds_; }
  const MetricsHistory& minute_history() const { return *minutes_; }
  // Busy cores averaged over the last 5 minutes of per-second points.
  double CpuCores5m() EXCLUDES(mu_);

 private:
  // Cumulative counters the extra columns are deltas of.
  struct Cumulative {
    double queue_sum = 0, queue_count = 0, rows_sum = 0, rows_count = 0, cpu_s = 0;
    TimePoint at;
  };
  struct Extras {
    double queue_ms = 0, batch_rows = 0, cpu_cores = 0, rss_mb = 0;
  };
  // One resolution: the history and its extra columns, aligned point by point.
  struct Track {
    std::unique_ptr<MetricsHistory> history;
    size_t capacity = 0;
    std::deque<Extras> extras;
    Cumulative last;
    bool has_baseline = false;
  };
  PerfHttpApp(MetricsRegistry* registry, const Clock& clock, Histogram* latency, Track seconds, Track minutes)
      : registry_(registry), clock_(clock), latency_(latency), seconds_(seconds.history.get()),
        minutes_(minutes.history.get()), tracks_{std::move(seconds), std::move(minutes)} {}
  uint64_t FailedInferences() const;
  Cumulative ReadCumulative() const;
  void Record(Track* t, const Cumulative& now) REQUIRES(mu_);
  std::string Points(int index) EXCLUDES(mu_);  // 0: seconds, 1: minutes

  MetricsRegistry* registry_;
  const Clock& clock_;
  Histogram* latency_;
  const MetricsHistory* seconds_;  // = tracks_[0].history, fixed at construction
  const MetricsHistory* minutes_;  // = tracks_[1].history
  Mutex mu_;
  Track tracks_[2] GUARDED_BY(mu_);  // [0] seconds, [1] minutes
  int ticks_ GUARDED_BY(mu_) = 0;
};

}  // namespace hotpath

#endif  // HOTPATH_SERVE_APPS_PERF_HTTP_H_
