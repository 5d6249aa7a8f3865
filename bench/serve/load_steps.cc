#include "bench/serve/load_steps.h"

#include <chrono>
#include <cstdio>
#include <utility>

namespace hotpath::bench {

LoadStep RunStep(const StepTiming& timing, const std::string& target, const std::string& encoding,
                 int port, const std::vector<std::string>& requests, loadgen::LoadOptions::Mode mode,
                 int connections, double rate_rps) {
  loadgen::LoadOptions o;
  o.port = port;
  o.requests = requests;
  o.mode = mode;
  o.connections = connections;
  o.rate_rps = rate_rps;
  o.warmup = std::chrono::milliseconds(timing.warmup_ms);
  o.duration = std::chrono::milliseconds(timing.duration_ms);
  LoadStep step;
  step.target = target;
  step.encoding = encoding;
  step.mode = mode == loadgen::LoadOptions::Mode::kOpenLoop ? "open" : "closed";
  step.connections = connections;
  step.offered_rps = rate_rps;
  auto r = loadgen::RunLoad(o);
  if (!r.ok()) {
    std::fprintf(stderr, "  load failed: %s\n", r.status().ToString().c_str());
    return step;
  }
  step.r = std::move(*r);
  const loadgen::LatencyHistogram& h = step.r.latency;
  std::fprintf(stderr,
               "  %-9s %-6s %-6s conns=%-3d offered=%-8.0f rps=%-8.0f p50=%.1fus p90=%.1fus "
               "p99=%.1fus p99.9=%.1fus non2xx=%llu io_err=%llu dropped=%llu\n",
               target.c_str(), encoding.c_str(), step.mode.c_str(), connections, rate_rps,
               step.r.ok_rps(), Us(h.Quantile(0.5)), Us(h.Quantile(0.9)), Us(h.Quantile(0.99)),
               Us(h.Quantile(0.999)), static_cast<unsigned long long>(step.r.completed - step.r.ok),
               static_cast<unsigned long long>(step.r.io_errors),
               static_cast<unsigned long long>(step.r.client_dropped));
  return step;
}

std::string PostRequest(const std::string& path, const std::string& body,
                        const std::string& extra_headers) {
  return "POST " + path + " HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n" +
         extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace hotpath::bench
