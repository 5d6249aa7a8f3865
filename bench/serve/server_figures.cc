#include "bench/serve/server_figures.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "observe/metrics.h"
#include "runtime/repository/model_repository.h"
#include "serve/admission/concurrency_limiter.h"
#include "serve/http_server.h"
#include "serve/models/repository_service.h"

namespace hotpath::bench {
namespace {

namespace fs = std::filesystem;
using Mode = loadgen::LoadOptions::Mode;

constexpr int kMaxBatch = 64;
constexpr int64_t kDeadlineTimeoutUs = 1000;

std::string Config(int features, const std::string& extra) {
  return R"({"backend": "xgboost", "max_batch_size": )" + std::to_string(kMaxBatch) +
         R"(, "inputs": [{"name": "input", "datatype": "FP32", "dims": [)" + std::to_string(features) +
         R"(]}], "outputs": [{"name": "probability", "datatype": "FP32", "dims": [1]}])" + extra + "}";
}

Status AddVersion(const fs::path& model_dir, int version, const std::string& model_file) {
  std::error_code ec;
  fs::create_directories(model_dir / std::to_string(version), ec);
  fs::copy_file(model_file, model_dir / std::to_string(version) / "model.json",
                fs::copy_options::overwrite_existing, ec);
  return ec ? InternalError("writing " + model_dir.string() + ": " + ec.message()) : OkStatus();
}

// Requests of `rows_per_request` consecutive rows each, to `model`: JSON
// tensors (with `parameters`, a JSON object body or empty) or binary ones.
std::vector<std::string> Requests(const ServerFigureOptions& o, const std::string& model,
                                  int rows_per_request, bool binary, const std::string& parameters = "") {
  const size_t width = static_cast<size_t>(o.features), total = o.rows.size() / width;
  const std::string path = "/v2/models/" + model + "/infer";
  const std::string shape = "[" + std::to_string(rows_per_request) + "," + std::to_string(o.features) + "]";
  std::vector<std::string> out;
  for (size_t first = 0; first + rows_per_request <= total; first += rows_per_request) {
    const float* x = &o.rows[first * width];
    const size_t values = rows_per_request * width;
    if (binary) {
      const std::string head = R"({"inputs":[{"name":"input","shape":)" + shape +
                               R"(,"datatype":"FP32","parameters":{"binary_data_size":)" +
                               std::to_string(values * sizeof(float)) +
                               R"(}}],"parameters":{"binary_data_output":true}})";
      out.push_back(PostRequest(path, head + std::string(reinterpret_cast<const char*>(x), values * sizeof(float)),
                                "Inference-Header-Content-Length: " + std::to_string(head.size()) + "\r\n"));
      continue;
    }
    std::string body = R"({"inputs":[{"name":"input","shape":)" + shape + R"(,"datatype":"FP32","data":[)";
    for (size_t i = 0; i < values; ++i) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%s%.9g", i ? "," : "", x[i]);
      body += buf;
    }
    body += "]}]";
    if (!parameters.empty()) body += ",\"parameters\":" + parameters;
    out.push_back(PostRequest(path, body + "}"));
  }
  return out;
}

double RssMb() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<double>(::sysconf(_SC_PAGESIZE)) / (1 << 20);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double P99Us(const LoadStep& s) { return Us(s.r.latency.Quantile(0.99)); }

// A server over `service` on an ephemeral port, one event loop.
Result<std::unique_ptr<HttpServer>> Front(InferenceService* service) {
  HttpServer::Options ho;
  ho.address = "127.0.0.1";
  ho.port = 0;
  ho.num_loops = 1;
  return HttpServer::Create(ho, service);
}

}  // namespace

Result<ServerFigures> MeasureModelServer(const ServerFigureOptions& o) {
  if (o.features < 1 || o.rows.size() < static_cast<size_t>(kMaxBatch * o.features)) {
    return InvalidArgumentError("server figures: need at least 64 rows");
  }
  const fs::path root = fs::temp_directory_path() / ("hotpath_bench_server_" + std::to_string(::getpid()));
  fs::remove_all(root);
  const std::vector<std::pair<std::string, std::string>> models = {
      {"batched", R"(, "dynamic_batching": {"max_queue_delay_us": 100})"},
      {"unbatched", ""},
      {"queued", R"(, "dynamic_batching": {"max_queue_delay_us": 50000, "preferred_batch_sizes": [64]})"},
      {"other", ""}};
  for (const auto& [name, extra] : models) {
    fs::create_directories(root / name);
    std::ofstream(root / name / "config.json") << Config(o.features, extra);
    RETURN_IF_ERROR(AddVersion(root / name, 1, o.model_file));
  }
  ModelRepository::Options ro;
  ro.path = root.string();
  ro.poll_interval = std::chrono::milliseconds(100);
  ro.log = [](std::string_view) {};
  ASSIGN_OR_RETURN(std::unique_ptr<ModelRepository> repo, ModelRepository::Create(ro));
  MetricsRegistry metrics;
  RepositoryService::Options so;
  so.repository = repo.get();
  so.metrics = &metrics;
  ASSIGN_OR_RETURN(std::unique_ptr<RepositoryService> plain, RepositoryService::Create(so));
  ASSIGN_OR_RETURN(std::unique_ptr<ConcurrencyLimiter> limiter,
                   ConcurrencyLimiter::Create(ConcurrencyLimiter::Options::ForModelServer()));
  so.limiter = limiter.get();
  ASSIGN_OR_RETURN(std::unique_ptr<RepositoryService> limited, RepositoryService::Create(so));
  ASSIGN_OR_RETURN(std::unique_ptr<HttpServer> front, Front(plain.get()));
  ASSIGN_OR_RETURN(std::unique_ptr<HttpServer> guarded, Front(limited.get()));
  const int port = front->port();
  ServerFigures f;

  std::fprintf(stderr, "model server: dynamic batching on vs off, 64 closed-loop clients:\n");
  const auto batched = Requests(o, "batched", 1, false), unbatched = Requests(o, "unbatched", 1, false);
  std::vector<double> on_rps, on_p99, off_rps, off_p99;
  for (int rep = 0; rep < o.repeats; ++rep) {
    LoadStep on = RunStep(o.timing, "batched", "json", port, batched, Mode::kClosedLoop, 64, 0);
    LoadStep off = RunStep(o.timing, "unbatched", "json", port, unbatched, Mode::kClosedLoop, 64, 0);
    on_rps.push_back(on.r.ok_rps());
    on_p99.push_back(P99Us(on));
    off_rps.push_back(off.r.ok_rps());
    off_p99.push_back(P99Us(off));
  }
  f.batched_rps = Median(on_rps);
  f.batched_p99_us = Median(on_p99);
  f.unbatched_rps = Median(off_rps);
  f.unbatched_p99_us = Median(off_p99);
  f.batching_speedup = f.unbatched_rps > 0 ? f.batched_rps / f.unbatched_rps : 0;

  f.load_rate_rps = 0.25 * f.batched_rps;
  std::fprintf(stderr, "model server: p99 at %.0f rps, alone vs while 'other' loads new versions:\n",
               f.load_rate_rps);
  std::vector<double> base, during;
  int version = 1;
  for (int rep = 0; rep < o.repeats + 1; ++rep) {
    base.push_back(P99Us(RunStep(o.timing, "batched", "json", port, batched, Mode::kOpenLoop, 64, f.load_rate_rps)));
    std::atomic<bool> stop{false};
    std::thread loader([&] {
      // Writing the files stands for another process deploying a model: it
      // must not take the serving threads' CPU either.
      (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 19);
      while (!stop) {  // one new version as soon as the previous one is ready
        const uint64_t loads = repo->stats().loads;
        if (!AddVersion(root / "other", ++version, o.model_file).ok()) return;
        while (!stop && repo->stats().loads == loads) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        if (repo->stats().loads > loads) ++f.versions_loaded;
      }
    });
    during.push_back(P99Us(RunStep(o.timing, "batched", "json", port, batched, Mode::kOpenLoop, 64, f.load_rate_rps)));
    stop = true;
    loader.join();
  }
  f.load_base_p99_us = Median(base);
  f.load_during_p99_us = Median(during);
  f.load_p99_change = f.load_base_p99_us > 0 ? f.load_during_p99_us / f.load_base_p99_us - 1 : 0;
  std::fprintf(stderr, "  %d versions of 'other' loaded during the measured runs\n", f.versions_loaded);

  std::fprintf(stderr, "model server: requests with a %lld us timeout queued behind a 50 ms batch delay:\n",
               static_cast<long long>(kDeadlineTimeoutUs));
  const auto queued = Requests(o, "queued", 1, false, "{\"timeout\":" + std::to_string(kDeadlineTimeoutUs) + "}");
  LoadStep late = RunStep(o.timing, "queued", "json", port, queued, Mode::kOpenLoop, 64, 2000);
  f.deadline_timeout_us = kDeadlineTimeoutUs;
  f.deadline_answers = late.r.by_status[504];
  f.deadline_late_p50_us = Us(late.r.error_latency.Quantile(0.5)) - kDeadlineTimeoutUs;
  f.deadline_late_p99_us = Us(late.r.error_latency.Quantile(0.99)) - kDeadlineTimeoutUs;

  std::fprintf(stderr, "model server with the adaptive concurrency limit: 64-row binary requests:\n");
  const auto heavy = Requests(o, "unbatched", kMaxBatch, true);
  const int gport = guarded->port();
  for (int c : {2, 4, 8}) {
    f.overload_peak_rps =
        std::max(f.overload_peak_rps, RunStep(o.timing, "limited", "binary", gport, heavy, Mode::kClosedLoop, c, 0).r.ok_rps());
  }
  std::vector<double> unloaded;
  for (int rep = 0; rep < o.repeats; ++rep) {
    unloaded.push_back(P99Us(RunStep(o.timing, "limited", "binary", gport, heavy, Mode::kOpenLoop, 16,
                                     0.2 * f.overload_peak_rps)));
  }
  f.unloaded_p99_us = Median(unloaded);
  f.overload_offered_rps = 3 * f.overload_peak_rps;
  // The first overload run grows buffers to their working size (connections,
  // queues); growth is measured over the runs after it.
  std::vector<double> goodput, p99;
  double rss_before = 0;
  for (int rep = 0; rep < o.repeats + 1; ++rep) {
    LoadStep over = RunStep(o.timing, "limited", "binary", gport, heavy, Mode::kOpenLoop, 2048, f.overload_offered_rps);
    if (rep == 0) {
      rss_before = RssMb();
      continue;
    }
    goodput.push_back(over.r.ok_rps());
    p99.push_back(P99Us(over));
    f.overload_refused += over.r.completed - over.r.ok;
  }
  f.rss_growth_mb = RssMb() - rss_before;
  f.overload_ok_rps = Median(goodput);
  f.overload_goodput = f.overload_peak_rps > 0 ? f.overload_ok_rps / f.overload_peak_rps : 0;
  f.overload_p99_us = Median(p99);
  f.overload_p99_ratio = f.unloaded_p99_us > 0 ? f.overload_p99_us / f.unloaded_p99_us : 0;

  front.reset();
  guarded.reset();
  limited.reset();
  plain.reset();
  repo.reset();
  fs::remove_all(root);
  return f;
}

}  // namespace hotpath::bench
