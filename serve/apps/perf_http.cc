#include "serve/apps/perf_http.h"

#include <cstdio>

#include "observe/process_metrics.h"

namespace hotpath {
namespace {

// Sum and count of every series of a histogram family.
std::pair<double, double> SumAndCount(const MetricsRegistry& registry, std::string_view name) {
  double sum = 0, count = 0;
  for (const auto& [model, s] : HistogramTotals(registry, name)) {
    sum += s.sum;
    count += static_cast<double>(s.Count());
  }
  return {sum, count};
}

}  // namespace

Result<std::unique_ptr<PerfHttpApp>> PerfHttpApp::Create(MetricsRegistry* registry, const Clock& clock) {
  ASSIGN_OR_RETURN(HistogramFamily * family,
                   registry->AddHistogram({"hotpath_http_infer_duration_seconds",
                                           "KServe inference requests, first byte read to response written.", {}},
                                          HistogramBuckets::LatencySeconds()));
  ASSIGN_OR_RETURN(Histogram * latency, family->WithLabels({}));
  Track seconds, minutes;
  seconds.capacity = 3600;
  minutes.capacity = 3 * 1440;  // three days: the longest burn-rate window
  ASSIGN_OR_RETURN(seconds.history, MetricsHistory::Create({seconds.capacity}, clock));
  ASSIGN_OR_RETURN(minutes.history, MetricsHistory::Create({minutes.capacity}, clock));
  return std::unique_ptr<PerfHttpApp>(
      new PerfHttpApp(registry, clock, latency, std::move(seconds), std::move(minutes)));
}

uint64_t PerfHttpApp::FailedInferences() const {
  uint64_t total = 0;
  for (const auto& [model, n] : CounterTotals(*registry_, "hotpath_sched_request_failure_total")) total += n;
  return total;
}

PerfHttpApp::Cumulative PerfHttpApp::ReadCumulative() const {
  Cumulative c;
  std::tie(c.queue_sum, c.queue_count) = SumAndCount(*registry_, "hotpath_sched_queue_duration_seconds");
  std::tie(c.rows_sum, c.rows_count) = SumAndCount(*registry_, "hotpath_sched_batch_rows");
  Result<ProcessStats> p = ReadProcessStats();
  c.cpu_s = p.ok() ? p->cpu_seconds : 0;
  c.at = clock_.Now();
  return c;
}

void PerfHttpApp::Record(Track* t, const Cumulative& now) {
  t->history->Record(latency_->Snapshot(), FailedInferences());
  if (t->has_baseline) {
    Extras e;
    const double dq = now.queue_count - t->last.queue_count, dr = now.rows_count - t->last.rows_count;
    e.queue_ms = dq > 0 ? (now.queue_sum - t->last.queue_sum) / dq * 1e3 : 0;
    e.batch_rows = dr > 0 ? (now.rows_sum - t->last.rows_sum) / dr : 0;
    const double dt = std::chrono::duration<double>(now.at - t->last.at).count();
    e.cpu_cores = dt > 0 ? (now.cpu_s - t->last.cpu_s) / dt : 0;
    Result<ProcessStats> p = ReadProcessStats();
    e.rss_mb = p.ok() ? static_cast<double>(p->resident_bytes) / (1 << 20) : 0;
    t->extras.push_back(e);
    if (t->extras.size() > t->capacity) t->extras.pop_front();
  }
  t->has_baseline = true;
  t->last = now;
}

void PerfHttpApp::Tick() {
  const Cumulative now = ReadCumulative();
  MutexLock l(&mu_);
  Record(&tracks_[0], now);
  if (ticks_++ % 60 == 0) Record(&tracks_[1], now);
}

double PerfHttpApp::CpuCores5m() {
  MutexLock l(&mu_);
  const std::deque<Extras>& e = tracks_[0].extras;
  const size_t n = std::min<size_t>(e.size(), 300);
  double sum = 0;
  for (size_t i = e.size() - n; i < e.size(); ++i) sum += e[i].cpu_cores;
  return n ? sum / static_cast<double>(n) : 0.0;
}

std::string PerfHttpApp::Points(int index) {
  MutexLock l(&mu_);
  const Track& t = tracks_[index];
  const std::vector<HistoryPoint> points = t.history->Points();
  std::string body = "{\"points\": [";
  const size_t n = std::min(points.size(), t.extras.size());
  for (size_t i = 0; i < n; ++i) {
    const HistoryPoint& p = points[points.size() - n + i];
    const Extras& e = t.extras[t.extras.size() - n + i];
    char buf[384];
    std::snprintf(buf, sizeof(buf),
                  "%s{\"t_ms\": %lld, \"throughput_per_s\": %.3f, \"p50_ms\": %.4f, \"p95_ms\": %.4f, "
                  "\"p99_ms\": %.4f, \"errors\": %llu, \"queue_ms\": %.4f, \"batch_rows\": %.3f, "
                  "\"cpu_cores\": %.3f, \"rss_mb\": %.1f}",
                  i ? "," : "",
                  static_cast<long long>(
                      std::chrono::duration_cast<std::chrono::milliseconds>(p.wall.time_since_epoch()).count()),
                  p.throughput_per_s, p.p50_s * 1e3, p.p95_s * 1e3, p.p99_s * 1e3,
                  static_cast<unsigned long long>(p.errors), e.queue_ms, e.batch_rows, e.cpu_cores, e.rss_mb);
    body += buf;
  }
  body += "]}";
  return body;
}

bool PerfHttpApp::Handle(const HttpAppRequest& r, Respond respond) {
  if (r.path != "/v1/perf/history") return false;
  if (r.method != "GET") {
    respond(JsonError(405, "use GET for /v1/perf/history"));
    return true;
  }
  if (!r.query.empty() && r.query != "resolution=second" && r.query != "resolution=minute") {
    respond(JsonError(400, "resolution must be second or minute"));
    return true;
  }
  respond({200, "application/json", Points(r.query == "resolution=minute" ? 1 : 0)});
  return true;
}

}  // namespace hotpath
