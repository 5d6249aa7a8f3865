// bench/serve: the KServe v2 HTTP front under load, against Debian's nginx
// returning a static body of the same size, in one run on one machine.
//
// The 500-tree depth-6 32-feature binary:logistic model (trained here through
// libxgboost) is served by an in-process HttpServer over ModelMapService;
// the load generator (serve/loadgen/load_generator.h) runs a closed-loop
// concurrency sweep against both servers, interleaved step by step and
// repeated (peak throughput = the best repeat), binary tensors at the peak
// concurrency, open-loop Poisson loads at 50% and 80% of hotpath's peak (p99
// from each request's scheduled time; median of the repeats), and the server
// measures its own overhead (request read to response written, minus the
// model call). Progress goes to stderr; the last stdout line is one JSON
// object.
//
//   scripts/bench serve [--duration-ms 1000] [--warmup-ms 300] [--repeats 2]
//       [--loops 1] [--concurrency 1,2,4,8,16,32,64] [--open-connections 64]
//       [--csv FILE] [--json FILE] [--nginx nginx] [--trees 500] [--depth 6]
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "serve/loadgen/latency_histogram.h"
#include "serve/loadgen/load_generator.h"
#include "bench/serve/grpc_load.h"
#include "bench/serve/load_steps.h"
#include "bench/serve/server_figures.h"
#include "serve/grpc/grpc_server.h"
#include "bench/serve/nginx_peer.h"
#include "runtime/tree/testing/xgboost_trainer.h"
#include "runtime/tree/tree_model.h"
#include "serve/http_server.h"
#include "serve/model_map_service.h"
#include "serve/testing/http_test_client.h"

namespace {

using hotpath::loadgen::LatencyHistogram;
using hotpath::loadgen::LoadOptions;
using hotpath::loadgen::LoadResult;
using hotpath::testing::Dataset;
using hotpath::testing::XGBoostBooster;
using hotpath::bench::PostRequest;
using hotpath::bench::Us;

constexpr int kFeatures = 32;
constexpr size_t kDistinctRows = 256;
constexpr const char* kPath = "/v2/models/trees/infer";

struct Flags {
  int trees = 500;
  int depth = 6;
  int duration_ms = 1000;
  int warmup_ms = 300;
  int loops = 1;
  int open_connections = 64;
  int repeats = 2;
  std::vector<int> concurrency = {1, 2, 4, 8, 16, 32, 64};
  std::string csv;
  std::string json;
  std::string nginx = "nginx";
  std::string sections = "front,grpc,server";  // which parts run (JSON nulls for the others)
};

bool ParseInt(const std::string& s, int* out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

// Parses "--name value" pairs; false on an unknown flag or a missing value.
bool ParseFlags(int argc, char** argv, Flags* f) {
  const std::map<std::string, int*> ints = {{"--trees", &f->trees},
                                            {"--depth", &f->depth},
                                            {"--duration-ms", &f->duration_ms},
                                            {"--warmup-ms", &f->warmup_ms},
                                            {"--loops", &f->loops},
                                            {"--open-connections", &f->open_connections},
                                            {"--repeats", &f->repeats}};
  const std::map<std::string, std::string*> strings = {
      {"--csv", &f->csv}, {"--json", &f->json}, {"--nginx", &f->nginx}, {"--sections", &f->sections}};
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 >= argc) {
      return false;
    }
    const std::string a = argv[i], v = argv[i + 1];
    if (ints.count(a)) {
      if (!ParseInt(v, ints.at(a))) {
        return false;
      }
    } else if (strings.count(a)) {
      *strings.at(a) = v;
    } else if (a == "--concurrency") {
      f->concurrency.clear();
      std::stringstream ss(v);
      for (std::string item; std::getline(ss, item, ',');) {
        if (!ParseInt(item, &f->concurrency.emplace_back())) {
          return false;
        }
      }
    } else {
      return false;
    }
  }
  return !f->concurrency.empty();
}

Dataset Synthetic(size_t rows, std::mt19937_64* rng) {
  Dataset d;
  d.rows = rows;
  d.cols = kFeatures;
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (size_t i = 0; i < rows * kFeatures; ++i) {
    d.x.push_back(n(*rng));
  }
  for (size_t r = 0; r < rows; ++r) {
    const float* x = &d.x[r * kFeatures];
    float s = 0;
    for (int f = 0; f < kFeatures; ++f) {
      s += std::sin(x[f] * (1 + f % 5)) * (f % 3 == 0 ? 1.0f : 0.3f);
    }
    d.label.push_back(s + x[0] * x[1] + n(*rng) > 0 ? 1.0f : 0.0f);
  }
  return d;
}

// One-row infer requests over distinct rows: JSON, or binary in and out.
std::vector<std::string> Requests(const std::vector<float>& x, bool binary) {
  std::vector<std::string> out;
  for (size_t r = 0; r < kDistinctRows; ++r) {
    const float* row = &x[r * kFeatures];
    if (binary) {
      const std::string json =
          R"({"inputs":[{"name":"input","shape":[1,32],"datatype":"FP32","parameters":{"binary_data_size":128}}],)"
          R"("parameters":{"binary_data_output":true}})";
      out.push_back(PostRequest(
          kPath, json + std::string(reinterpret_cast<const char*>(row), 128),
          "Inference-Header-Content-Length: " + std::to_string(json.size()) + "\r\n"));
      continue;
    }
    std::string json = R"({"inputs":[{"name":"input","shape":[1,32],"datatype":"FP32","data":[)";
    for (int f = 0; f < kFeatures; ++f) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%s%.9g", f ? "," : "", row[f]);
      json += buf;
    }
    out.push_back(PostRequest(kPath, json + "]}]}"));
  }
  return out;
}

// Server-side overhead: front time minus model time, per infer.
struct OverheadRecorder {
  std::mutex mu;
  bool on = false;
  LatencyHistogram overhead, compute;
  void Record(const hotpath::InferTiming& t) {
    std::lock_guard<std::mutex> l(mu);
    if (!on) {
      return;
    }
    overhead.Record(static_cast<uint64_t>((t.total - t.compute).count()));
    compute.Record(static_cast<uint64_t>(t.compute.count()));
  }
};

using Row = hotpath::bench::LoadStep;

Row Load(const Flags& f, const std::string& target, const std::string& encoding, int port,
         const std::vector<std::string>& requests, LoadOptions::Mode mode, int connections,
         double rate) {
  return hotpath::bench::RunStep({f.warmup_ms, f.duration_ms}, target, encoding, port, requests,
                                 mode, connections, rate);
}

// The closed-loop row with the highest 2xx throughput.
const Row* Peak(const std::vector<Row>& rows, const std::string& target,
                const std::string& encoding = "json") {
  const Row* best = nullptr;
  for (const Row& r : rows) {
    if (r.target == target && r.mode == "closed" && r.encoding == encoding &&
        (!best || r.r.ok_rps() > best->r.ok_rps())) {
      best = &r;
    }
  }
  return best;
}

void WriteCsv(const std::string& path, const std::vector<Row>& rows) {
  std::ofstream out(path);
  out << "target,encoding,mode,connections,offered_rps,ok_rps,completed,ok,io_errors,client_"
         "dropped,"
         "p50_us,p90_us,p95_us,p99_us,p999_us,max_us,status_counts\n";
  for (const Row& r : rows) {
    const LatencyHistogram& h = r.r.latency;
    out << r.target << ',' << r.encoding << ',' << r.mode << ',' << r.connections << ','
        << r.offered_rps << ',' << r.r.ok_rps() << ',' << r.r.completed << ',' << r.r.ok << ','
        << r.r.io_errors << ',' << r.r.client_dropped << ',' << Us(h.Quantile(0.5)) << ','
        << Us(h.Quantile(0.9)) << ',' << Us(h.Quantile(0.95)) << ',' << Us(h.Quantile(0.99)) << ','
        << Us(h.Quantile(0.999)) << ',' << Us(h.max()) << ',';
    for (size_t s = 0; s < r.r.by_status.size(); ++s) {
      if (r.r.by_status[s]) {
        out << s << ':' << r.r.by_status[s] << ' ';
      }
    }
    out << '\n';
  }
}

// Every row as a JSON array of objects (the CSV's columns).
void WriteJson(const std::string& path, const std::vector<Row>& rows) {
  std::ofstream out(path);
  out << "[\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    const LatencyHistogram& h = r.r.latency;
    out << "  {\"target\":\"" << r.target << "\",\"encoding\":\"" << r.encoding << "\",\"mode\":\""
        << r.mode << "\",\"connections\":" << r.connections << ",\"offered_rps\":" << r.offered_rps
        << ",\"ok_rps\":" << r.r.ok_rps() << ",\"completed\":" << r.r.completed
        << ",\"io_errors\":" << r.r.io_errors << ",\"client_dropped\":" << r.r.client_dropped
        << ",\"p50_us\":" << Us(h.Quantile(0.5)) << ",\"p90_us\":" << Us(h.Quantile(0.9))
        << ",\"p95_us\":" << Us(h.Quantile(0.95)) << ",\"p99_us\":" << Us(h.Quantile(0.99))
        << ",\"p999_us\":" << Us(h.Quantile(0.999)) << ",\"status_counts\":{";
    const char* sep = "";
    for (size_t s = 0; s < r.r.by_status.size(); ++s) {
      if (r.r.by_status[s] == 0) {
        continue;
      }
      out << sep << "\"" << s << "\":" << r.r.by_status[s];
      sep = ",";
    }
    out << "}}" << (i + 1 < rows.size() ? ",\n" : "\n");
  }
  out << "]\n";
}

// Where TrainModel saves the model (the model server's repository copies it).
std::string ModelPath() {
  return (std::filesystem::temp_directory_path() / "hotpath_bench_serve.json").string();
}

// Trains the model, returns it loaded into a TreeModel (and the booster).
std::shared_ptr<const hotpath::Model> TrainModel(const Flags& f,
                                                 std::unique_ptr<XGBoostBooster>* booster) {
  std::mt19937_64 rng(42);
  const Dataset train = Synthetic(20000, &rng);
  auto b = XGBoostBooster::Train(train,
                                 {{"objective", "binary:logistic"},
                                  {"max_depth", std::to_string(f.depth)},
                                  {"eta", "0.1"},
                                  {"tree_method", "hist"}},
                                 f.trees);
  if (!b.ok()) {
    std::fprintf(stderr, "training failed: %s\n", b.status().ToString().c_str());
    return nullptr;
  }
  const std::string path = ModelPath();
  if (!b->Save(path).ok()) {
    return nullptr;
  }
  auto model = hotpath::TreeModel::Load(path, {});
  if (!model.ok()) {
    std::fprintf(stderr, "load failed: %s\n", model.status().ToString().c_str());
    return nullptr;
  }
  *booster = std::make_unique<XGBoostBooster>(std::move(*b));
  return std::shared_ptr<const hotpath::Model>(std::move(*model));
}

// Sends the first rows through the server; returns the max |server - XGBoost|
// and the first response body.
double CheckAgainstXGBoost(int port, const std::vector<std::string>& requests,
                           const std::vector<float>& x, const XGBoostBooster& booster,
                           std::string* body) {
  auto client = hotpath::serve_testing::HttpTestClient::Connect(port);
  auto want = booster.Predict(x.data(), 16, kFeatures, XGBoostBooster::Kind::kValue);
  if (!client.ok() || !want.ok()) {
    return NAN;
  }
  double worst = 0;
  for (size_t r = 0; r < 16; ++r) {
    auto resp = client->Roundtrip(requests[r]);
    if (!resp.ok() || resp->status != 200) {
      return NAN;
    }
    if (r == 0) {
      *body = resp->body;
    }
    const size_t at = resp->body.find("\"data\":[");
    if (at == std::string::npos) {
      return NAN;
    }
    worst =
        std::max(worst, std::fabs(std::strtod(resp->body.c_str() + at + 8, nullptr) - (*want)[r]));
  }
  return worst;
}

std::string Num(double v, int precision = 1) {
  if (!std::isfinite(v)) {
    return "null";
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", precision, v);
  return buf;
}

struct Summary {
  double http_rps = NAN, http_binary_rps = NAN, nginx_rps = NAN, max_abs_diff = NAN;
  double p50_at_50 = NAN, p99_at_50 = NAN, p99_at_80 = NAN;  // medians over the repeats
  double grpc_rps = NAN, grpc_p50_us = NAN;
  int grpc_peak_concurrency = 0;
  hotpath::bench::ServerFigures server;
  bool server_ok = false;
  int peak_connections = 0, nginx_peak_connections = 0;
  size_t response_bytes = 0;
};

void SetRecording(OverheadRecorder* recorder, bool on) {
  std::lock_guard<std::mutex> l(recorder->mu);
  recorder->on = on;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? NAN : v[v.size() / 2];
}

// The closed-loop sweep, hotpath and nginx (when running) interleaved at
// every step and repeated, so both see the same machine: other work on the
// shared cores drifts over seconds. Peaks are the best repeat.
void Sweep(const Flags& f, int port, int nginx_port, const std::vector<std::string>& json,
           std::vector<Row>* rows, Summary* sum) {
  std::fprintf(stderr, "closed-loop sweep (%d repeats, interleaved):\n", f.repeats);
  for (int c : f.concurrency) {
    for (int rep = 0; rep < f.repeats; ++rep) {
      rows->push_back(Load(f, "hotpath", "json", port, json, LoadOptions::Mode::kClosedLoop, c, 0));
      if (nginx_port != 0) {
        rows->push_back(
            Load(f, "nginx", "json", nginx_port, json, LoadOptions::Mode::kClosedLoop, c, 0));
      }
    }
  }
  sum->http_rps = Peak(*rows, "hotpath")->r.ok_rps();
  sum->peak_connections = Peak(*rows, "hotpath")->connections;
  if (nginx_port != 0) {
    sum->nginx_rps = Peak(*rows, "nginx")->r.ok_rps();
    sum->nginx_peak_connections = Peak(*rows, "nginx")->connections;
  }
}

// Binary tensors at the JSON peak's concurrency, then open-loop Poisson load
// at 50% and 80% of the peak (server overhead recorded during the 50% runs).
void OpenLoop(const Flags& f, int port, const std::vector<std::string>& json,
              const std::vector<std::string>& binary, OverheadRecorder* recorder,
              std::vector<Row>* rows, Summary* sum) {
  for (int rep = 0; rep < f.repeats; ++rep) {
    rows->push_back(Load(f, "hotpath", "binary", port, binary, LoadOptions::Mode::kClosedLoop,
                         sum->peak_connections, 0));
  }
  sum->http_binary_rps = Peak(*rows, "hotpath", "binary")->r.ok_rps();
  std::fprintf(stderr, "open loop (Poisson) at 50%% and 80%% of the peak %.0f rps:\n",
               sum->http_rps);
  std::vector<double> p50_at_50, p99_at_50, p99_at_80;
  for (int rep = 0; rep < f.repeats + 1; ++rep) {
    SetRecording(recorder, true);
    rows->push_back(Load(f, "hotpath", "json", port, json, LoadOptions::Mode::kOpenLoop,
                         f.open_connections, 0.5 * sum->http_rps));
    SetRecording(recorder, false);
    p50_at_50.push_back(Us(rows->back().r.latency.Quantile(0.5)));
    p99_at_50.push_back(Us(rows->back().r.latency.Quantile(0.99)));
    rows->push_back(Load(f, "hotpath", "json", port, json, LoadOptions::Mode::kOpenLoop,
                         f.open_connections, 0.8 * sum->http_rps));
    p99_at_80.push_back(Us(rows->back().r.latency.Quantile(0.99)));
  }
  sum->p50_at_50 = Median(p50_at_50);
  sum->p99_at_50 = Median(p99_at_50);
  sum->p99_at_80 = Median(p99_at_80);
}

// The same model over gRPC (KServe v2 ModelInfer, raw binary tensors), closed
// loop from one completion-queue thread; the peak over the concurrencies.
void Grpc(const Flags& f, hotpath::InferenceService* service, const std::vector<float>& x, Summary* sum) {
  hotpath::GrpcServer::Options go{"127.0.0.1", 0};
  auto server = hotpath::GrpcServer::Start(go, service, nullptr);
  if (!server.ok()) {
    std::fprintf(stderr, "grpc server: %s\n", server.status().ToString().c_str());
    return;
  }
  std::fprintf(stderr, "gRPC closed loop on :%d:\n", (*server)->port());
  hotpath::bench::GrpcLoadOptions o;
  o.port = (*server)->port();
  o.model = "trees";
  o.features = kFeatures;
  o.rows = x;
  o.warmup = std::chrono::milliseconds(f.warmup_ms);
  o.duration = std::chrono::milliseconds(f.duration_ms);
  for (int c : {8, 32, 64}) {
    for (int rep = 0; rep < f.repeats; ++rep) {
      o.concurrency = c;
      auto r = hotpath::bench::RunGrpcClosedLoop(o);
      if (!r.ok()) {
        std::fprintf(stderr, "  grpc load: %s\n", r.status().ToString().c_str());
        return;
      }
      std::fprintf(stderr, "  grpc    binary closed conns=%-3d rps=%-8.0f p50=%.1fus p99=%.1fus failed=%llu\n", c,
                   r->ok_rps(), Us(r->latency.Quantile(0.5)), Us(r->latency.Quantile(0.99)),
                   static_cast<unsigned long long>(r->failed));
      if (!(r->ok_rps() <= sum->grpc_rps)) {
        sum->grpc_rps = r->ok_rps();
        sum->grpc_p50_us = Us(r->latency.Quantile(0.5));
        sum->grpc_peak_concurrency = c;
      }
    }
  }
}

// The model server's figures as JSON members (nulls when they were not measured).
std::string ServerJson(const Summary& s) {
  const hotpath::bench::ServerFigures& v = s.server;
  auto n = [&](double x, int precision = 1) { return s.server_ok ? Num(x, precision) : std::string("null"); };
  return "\"batching_speedup\":" + n(v.batching_speedup, 3) + ",\"batched_rps\":" + n(v.batched_rps, 0) +
         ",\"batched_p99_us\":" + n(v.batched_p99_us) + ",\"unbatched_rps\":" + n(v.unbatched_rps, 0) +
         ",\"unbatched_p99_us\":" + n(v.unbatched_p99_us) + ",\"load_p99_change\":" + n(v.load_p99_change, 3) +
         ",\"load_rate_rps\":" + n(v.load_rate_rps, 0) + ",\"load_base_p99_us\":" + n(v.load_base_p99_us) +
         ",\"load_during_p99_us\":" + n(v.load_during_p99_us) +
         ",\"versions_loaded\":" + std::to_string(v.versions_loaded) +
         ",\"deadline_late_p99_us\":" + n(v.deadline_late_p99_us) +
         ",\"deadline_late_p50_us\":" + n(v.deadline_late_p50_us) +
         ",\"deadline_answers\":" + std::to_string(v.deadline_answers) +
         ",\"overload_goodput\":" + n(v.overload_goodput, 3) + ",\"overload_p99_ratio\":" + n(v.overload_p99_ratio, 2) +
         ",\"overload_peak_rps\":" + n(v.overload_peak_rps, 0) + ",\"overload_ok_rps\":" + n(v.overload_ok_rps, 0) +
         ",\"overload_unloaded_p99_us\":" + n(v.unloaded_p99_us) + ",\"overload_p99_us\":" + n(v.overload_p99_us) +
         ",\"overload_refused\":" + std::to_string(v.overload_refused) +
         ",\"overload_rss_growth_mb\":" + n(v.rss_growth_mb, 1);
}

void PrintSummary(const Flags& f, const Summary& s, const OverheadRecorder& rec) {
  std::printf(
      "{\"http_rps\":%s,\"http_binary_rps\":%s,\"nginx_rps\":%s,\"vs_nginx\":%s,"
      "\"overhead_p50_us\":%s,\"overhead_p99_us\":%s,\"model_p50_us\":%s,"
      "\"p50_at_50pct_us\":%s,\"p99_at_50pct_us\":%s,\"p99_at_80pct_us\":%s,"
      "\"peak_concurrency\":%d,\"nginx_peak_concurrency\":%d,\"server_loops\":%d,"
      "\"response_bytes\":%zu,\"max_abs_diff_vs_xgboost\":%g,"
      "\"grpc_rps\":%s,\"grpc_p50_us\":%s,\"grpc_peak_concurrency\":%d,%s}\n",
      Num(s.http_rps, 0).c_str(), Num(s.http_binary_rps, 0).c_str(), Num(s.nginx_rps, 0).c_str(),
      Num(s.http_rps / s.nginx_rps, 3).c_str(), Num(Us(rec.overhead.Quantile(0.5)), 2).c_str(),
      Num(Us(rec.overhead.Quantile(0.99)), 2).c_str(),
      Num(Us(rec.compute.Quantile(0.5)), 2).c_str(), Num(s.p50_at_50).c_str(),
      Num(s.p99_at_50).c_str(), Num(s.p99_at_80).c_str(), s.peak_connections,
      s.nginx_peak_connections, f.loops, s.response_bytes, s.max_abs_diff, Num(s.grpc_rps, 0).c_str(),
      Num(s.grpc_p50_us).c_str(), s.grpc_peak_concurrency, ServerJson(s).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  if (!ParseFlags(argc, argv, &f)) {
    std::fprintf(stderr,
                 "usage: bench_serve [--duration-ms N] [--warmup-ms N] [--loops N] "
                 "[--concurrency a,b,..] [--open-connections N] [--csv FILE] [--json FILE] "
                 "[--nginx BIN] [--trees N] [--depth N] [--repeats N] [--sections front,grpc,server]\n");
    return 2;
  }
  std::fprintf(stderr, "training %d trees of depth %d on %d features...\n", f.trees, f.depth,
               kFeatures);
  std::unique_ptr<XGBoostBooster> booster;
  auto model = TrainModel(f, &booster);
  if (!model) {
    return 1;
  }
  hotpath::ModelMapService::Options so;
  so.models = {{"trees", "1", model}};
  auto service = hotpath::ModelMapService::Create(so);
  OverheadRecorder recorder;
  hotpath::HttpServer::Options ho;
  ho.address = "127.0.0.1";
  ho.port = 0;
  ho.num_loops = f.loops;
  ho.on_infer_timing = [&recorder](const hotpath::InferTiming& t) { recorder.Record(t); };
  auto server = hotpath::HttpServer::Create(ho, service->get());
  if (!server.ok()) {
    std::fprintf(stderr, "server: %s\n", server.status().ToString().c_str());
    return 1;
  }
  std::mt19937_64 rng(7);
  const std::vector<float> x = Synthetic(kDistinctRows, &rng).x;
  const std::vector<std::string> json = Requests(x, false), binary = Requests(x, true);
  std::string body;
  Summary sum;
  sum.max_abs_diff = CheckAgainstXGBoost((*server)->port(), json, x, *booster, &body);
  sum.response_bytes = body.size();
  std::fprintf(stderr, "hotpath on :%d (%d loop), max |score - xgboost| = %g, response %zu bytes\n",
               (*server)->port(), f.loops, sum.max_abs_diff, body.size());
  std::vector<Row> rows;
  auto nginx = hotpath::bench::NginxPeer::Start(f.nginx, body);
  if (nginx.ok()) {
    std::fprintf(stderr, "nginx (static %zu-byte body, 1 worker) on :%d\n", body.size(),
                 (*nginx)->port());
  } else {
    std::fprintf(stderr, "nginx: %s\n", nginx.status().ToString().c_str());
  }
  auto section = [&](const char* name) { return f.sections.find(name) != std::string::npos; };
  if (section("front")) {
    Sweep(f, (*server)->port(), nginx.ok() ? (*nginx)->port() : 0, json, &rows, &sum);
    OpenLoop(f, (*server)->port(), json, binary, &recorder, &rows, &sum);
  }
  if (section("grpc")) Grpc(f, service->get(), x, &sum);
  hotpath::bench::ServerFigureOptions sfo;
  sfo.timing = {f.warmup_ms, f.duration_ms};
  sfo.model_file = ModelPath();
  sfo.features = kFeatures;
  sfo.rows = x;
  sfo.repeats = f.repeats;
  if (section("server")) {
    auto figures = hotpath::bench::MeasureModelServer(sfo);
    if (figures.ok()) {
      sum.server = *figures;
      sum.server_ok = true;
    } else {
      std::fprintf(stderr, "model server figures: %s\n", figures.status().ToString().c_str());
    }
  }
  if (!f.csv.empty()) {
    WriteCsv(f.csv, rows);
  }
  if (!f.json.empty()) {
    WriteJson(f.json, rows);
  }
  PrintSummary(f, sum, recorder);
  return 0;
}
