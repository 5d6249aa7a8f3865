#include "cli/bench_command.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "serve/loadgen/load_generator.h"
#include "serve/testing/http_test_client.h"

namespace hotpath::cli {
namespace {

struct ServerSplit {
  double queue_sum = 0, queue_count = 0, compute_sum = 0, compute_count = 0;
};

// Sums of the model's queue and compute histograms from /metrics.
Result<ServerSplit> ScrapeSplit(int port, const std::string& model) {
  ASSIGN_OR_RETURN(auto c, serve_testing::HttpTestClient::Connect(port));
  ASSIGN_OR_RETURN(auto r, c.Roundtrip(serve_testing::Get("/metrics")));
  ServerSplit s;
  std::istringstream in(r.body);
  std::string line;
  const std::string label = "model=\"" + model + "\"";
  while (std::getline(in, line)) {
    if (line.find(label) == std::string::npos) continue;
    const double v = std::strtod(line.substr(line.rfind(' ') + 1).c_str(), nullptr);
    if (line.rfind("hotpath_sched_queue_duration_seconds_sum", 0) == 0) s.queue_sum += v;
    if (line.rfind("hotpath_sched_queue_duration_seconds_count", 0) == 0) s.queue_count += v;
    if (line.rfind("hotpath_sched_compute_duration_seconds_sum", 0) == 0) s.compute_sum += v;
    if (line.rfind("hotpath_sched_compute_duration_seconds_count", 0) == 0) s.compute_count += v;
  }
  return s;
}

}  // namespace

Result<std::string> BuildRequest(const BenchArgs& a) {
  ASSIGN_OR_RETURN(auto c, serve_testing::HttpTestClient::Connect(a.port));
  const std::string base = "/v2/models/" + a.model + (a.version.empty() ? "" : "/versions/" + a.version);
  ASSIGN_OR_RETURN(auto meta, c.Roundtrip(serve_testing::Get(base)));
  if (meta.status != 200) return NotFoundError("model '" + a.model + "': " + meta.body);
  auto m = nlohmann::json::parse(meta.body, nullptr, false);
  if (m.is_discarded() || !m.contains("inputs")) return InvalidArgumentError("bad model metadata: " + meta.body);
  const std::string name = m["inputs"][0]["name"];
  const int64_t width = m["inputs"][0]["shape"].back();
  std::mt19937 rng(1);
  std::normal_distribution<float> n(0, 1);
  std::vector<float> x(static_cast<size_t>(a.rows * width));
  for (float& v : x) v = n(rng);
  nlohmann::json input = {{"name", name}, {"shape", {a.rows, width}}, {"datatype", "FP32"}};
  std::string body, extra;
  if (a.binary) {
    input["parameters"] = {{"binary_data_size", x.size() * sizeof(float)}};
    const std::string header = nlohmann::json{{"inputs", {input}}}.dump();
    body = header + std::string(reinterpret_cast<const char*>(x.data()), x.size() * sizeof(float));
    extra = "Inference-Header-Content-Length: " + std::to_string(header.size()) + "\r\n";
  } else {
    input["data"] = x;
    body = nlohmann::json{{"inputs", {input}}}.dump();
  }
  return "POST " + base + "/infer HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n" + extra +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

namespace {

nlohmann::json Step(const BenchArgs& a, const loadgen::LoadResult& r, const ServerSplit& before,
                    const ServerSplit& after, double level) {
  auto us = [&](double q) { return static_cast<double>(r.latency.Quantile(q)) / 1e3; };
  auto mean_us = [](double sum, double count) { return count > 0 ? sum / count * 1e6 : 0.0; };
  nlohmann::json j = {{"mode", a.mode},
                      {a.mode == "closed" ? "concurrency" : "rate", level},
                      {"throughput_rps", r.ok_rps()},
                      {"p50_us", us(0.5)},
                      {"p90_us", us(0.9)},
                      {"p95_us", us(0.95)},
                      {"p99_us", us(0.99)},
                      {"p999_us", us(0.999)},
                      {"errors", r.completed - r.ok + r.io_errors},
                      {"client_dropped", r.client_dropped},
                      {"server_queue_us", mean_us(after.queue_sum - before.queue_sum, after.queue_count - before.queue_count)},
                      {"server_compute_us", mean_us(after.compute_sum - before.compute_sum,
                                                    after.compute_count - before.compute_count)}};
  nlohmann::json statuses = nlohmann::json::object();
  for (size_t s = 0; s < r.by_status.size(); ++s) {
    if (r.by_status[s] > 0) statuses[std::to_string(s)] = r.by_status[s];
  }
  j["by_status"] = statuses;
  return j;
}

}  // namespace

Status RunBench(const BenchArgs& a, std::ostream& out, std::ostream& progress) {
  if (a.model.empty()) return InvalidArgumentError("--model is required");
  if (a.mode != "closed" && a.mode != "open") return InvalidArgumentError("--mode must be closed or open");
  if (a.mode == "open" && a.rates.empty()) return InvalidArgumentError("--mode open needs --rate");
  if (a.rows < 1) return InvalidArgumentError("--rows must be >= 1");
  ASSIGN_OR_RETURN(std::string request, BuildRequest(a));
  std::ofstream csv;
  if (!a.csv.empty()) {
    csv.open(a.csv);
    csv << "mode,level,throughput_rps,p50_us,p90_us,p95_us,p99_us,p999_us,errors,server_queue_us,server_compute_us\n";
  }
  std::vector<double> levels;
  if (a.mode == "closed") {
    for (int c : a.concurrency) levels.push_back(c);
  } else {
    levels = a.rates;
  }
  for (double level : levels) {
    loadgen::LoadOptions o;
    o.port = a.port;
    o.requests = {request};
    o.mode = a.mode == "closed" ? loadgen::LoadOptions::Mode::kClosedLoop : loadgen::LoadOptions::Mode::kOpenLoop;
    o.connections = a.mode == "closed" ? static_cast<int>(level) : a.connections;
    o.rate_rps = a.mode == "open" ? level : 0;
    o.warmup = std::chrono::milliseconds(a.warmup_ms);
    o.duration = std::chrono::milliseconds(a.duration_ms);
    ASSIGN_OR_RETURN(ServerSplit before, ScrapeSplit(a.port, a.model));
    ASSIGN_OR_RETURN(loadgen::LoadResult r, loadgen::RunLoad(o));
    ASSIGN_OR_RETURN(ServerSplit after, ScrapeSplit(a.port, a.model));
    const nlohmann::json step = Step(a, r, before, after, level);
    progress << "bench: " << a.mode << " " << level << " -> " << step["throughput_rps"].get<double>() << " req/s, p99 "
             << step["p99_us"].get<double>() << " us\n";
    out << step.dump() << "\n";
    if (csv) {
      csv << a.mode << ',' << level << ',' << step["throughput_rps"] << ',' << step["p50_us"] << ',' << step["p90_us"]
          << ',' << step["p95_us"] << ',' << step["p99_us"] << ',' << step["p999_us"] << ',' << step["errors"] << ','
          << step["server_queue_us"] << ',' << step["server_compute_us"] << '\n';
    }
  }
  return OkStatus();
}

}  // namespace hotpath::cli
