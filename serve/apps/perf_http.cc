#include "serve/apps/perf_http.h"

#include <cstdio>

namespace hotpath {

Result<std::unique_ptr<PerfHttpApp>> PerfHttpApp::Create(MetricsRegistry* registry, const Clock& clock) {
  ASSIGN_OR_RETURN(HistogramFamily * family,
                   registry->AddHistogram({"hotpath_http_infer_duration_seconds",
                                           "KServe inference requests, first byte read to response written.", {}},
                                          HistogramBuckets::LatencySeconds()));
  ASSIGN_OR_RETURN(Histogram * latency, family->WithLabels({}));
  ASSIGN_OR_RETURN(auto history, MetricsHistory::Create({}, clock));
  return std::unique_ptr<PerfHttpApp>(new PerfHttpApp(registry, latency, std::move(history)));
}

uint64_t PerfHttpApp::FailedInferences() const {
  const auto* family = dynamic_cast<const CounterFamily*>(registry_->Find("hotpath_sched_request_failure_total"));
  uint64_t total = 0;
  if (family != nullptr) family->ForEach([&](const std::vector<std::string>&, const Counter& c) { total += c.Value(); });
  return total;
}

void PerfHttpApp::Tick() { history_->Record(latency_->Snapshot(), FailedInferences()); }

bool PerfHttpApp::Handle(const HttpAppRequest& r, Respond respond) {
  if (r.path != "/v1/perf/history") return false;
  if (r.method != "GET") {
    respond(JsonError(405, "use GET for /v1/perf/history"));
    return true;
  }
  std::string body = "{\"points\": [";
  bool first = true;
  for (const HistoryPoint& p : history_->Points()) {
    char buf[256];
    std::snprintf(buf, sizeof(buf),
                  "%s{\"t_ms\": %lld, \"throughput_per_s\": %.3f, \"p50_ms\": %.4f, \"p95_ms\": %.4f, "
                  "\"p99_ms\": %.4f, \"errors\": %llu}",
                  first ? "" : ",",
                  static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                             p.wall.time_since_epoch()).count()),
                  p.throughput_per_s, p.p50_s * 1e3, p.p95_s * 1e3, p.p99_s * 1e3,
                  static_cast<unsigned long long>(p.errors));
    body += buf;
    first = false;
  }
  body += "]}";
  respond({200, "application/json", std::move(body)});
  return true;
}

}  // namespace hotpath
