#include "cli/config_search_command.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/bench_command.h"
#include "observe/metrics.h"
#include "runtime/repository/backend_registry.h"
#include "runtime/repository/model_repository.h"
#include "serve/http_server.h"
#include "serve/loadgen/load_generator.h"
#include "serve/models/repository_service.h"

namespace hotpath::cli {
namespace {

namespace fs = std::filesystem;

struct Trial {
  int instances = 1, max_batch = 1;
  int64_t delay_us = 0;
  double rps = 0, p99_us = 0;
};

// `config` with the trial's knobs (batching on whenever max_batch > 1).
nlohmann::json WithKnobs(nlohmann::json config, const Trial& t) {
  config["instance_count"] = t.instances;
  config["max_batch_size"] = t.max_batch;
  if (t.max_batch > 1) {
    config["dynamic_batching"]["max_queue_delay_us"] = t.delay_us;
    config["dynamic_batching"].erase("preferred_batch_sizes");
  } else {
    config.erase("dynamic_batching");
  }
  config.erase("warmup");
  return config;
}

// Serves the trial's config from a scratch repository and measures it.
Status Measure(const ConfigSearchArgs& a, const nlohmann::json& base, const fs::path& scratch, Trial* t) {
  fs::remove_all(scratch);
  fs::create_directories(scratch);
  fs::copy(fs::path(a.repository) / a.model, scratch / a.model, fs::copy_options::recursive);
  std::ofstream(scratch / a.model / "config.json") << WithKnobs(base, *t).dump(2);
  ModelRepository::Options ro;
  ro.path = scratch.string();
  ro.mode = ModelRepository::Mode::kExplicit;
  ro.startup_models = {a.model};
  ro.backends = std::make_shared<BackendRegistry>(BackendRegistry::WithBuiltins());
  ro.log = [](std::string_view) {};
  ASSIGN_OR_RETURN(auto repo, ModelRepository::Create(ro));
  MetricsRegistry metrics;
  RepositoryService::Options so;
  so.repository = repo.get();
  so.metrics = &metrics;
  ASSIGN_OR_RETURN(auto service, RepositoryService::Create(so));
  HttpServer::Options ho;
  ho.address = "127.0.0.1";
  ho.port = 0;
  ho.num_loops = 1;
  ASSIGN_OR_RETURN(auto http, HttpServer::Create(ho, service.get()));
  BenchArgs b;
  b.port = http->port();
  b.model = a.model;
  ASSIGN_OR_RETURN(std::string request, BuildRequest(b));
  loadgen::LoadOptions o;
  o.port = http->port();
  o.requests = {request};
  o.connections = a.concurrency;
  o.warmup = std::chrono::milliseconds(200);
  o.duration = std::chrono::milliseconds(a.duration_ms);
  ASSIGN_OR_RETURN(loadgen::LoadResult r, loadgen::RunLoad(o));
  t->rps = r.ok_rps();
  t->p99_us = static_cast<double>(r.latency.Quantile(0.99)) / 1e3;
  http->BeginDrain();
  http->Wait();
  return OkStatus();
}

}  // namespace

Status RunConfigSearch(const ConfigSearchArgs& a, std::ostream& out, std::ostream& progress) {
  const fs::path config_path = fs::path(a.repository) / a.model / "config.json";
  std::ifstream in(config_path);
  if (!in) return NotFoundError("cannot read " + config_path.string());
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json base = nlohmann::json::parse(text.str(), nullptr, false);
  if (base.is_discarded() || !base.is_object()) return InvalidArgumentError(config_path.string() + ": not a JSON object");
  const fs::path scratch = fs::temp_directory_path() / ("hotpath_config_search_" + std::to_string(::getpid()));
  Trial best;
  bool found = false;
  for (int instances : a.instance_counts) {
    for (int max_batch : a.max_batch_sizes) {
      for (int64_t delay : a.queue_delays_us) {
        if (max_batch == 1 && delay != a.queue_delays_us.front()) continue;  // no batching: delay unused
        Trial t{instances, max_batch, delay};
        Status s = Measure(a, base, scratch, &t);
        if (!s.ok()) {
          fs::remove_all(scratch);
          return s;
        }
        const bool meets = t.p99_us <= a.p99_us;
        progress << "configs: instances " << instances << " max_batch " << max_batch << " delay " << delay
                 << " us -> " << static_cast<int64_t>(t.rps) << " req/s, p99 " << static_cast<int64_t>(t.p99_us)
                 << " us" << (meets ? "" : " (over the bound)") << "\n";
        if (meets && (!found || t.rps > best.rps)) {
          best = t;
          found = true;
        }
      }
    }
  }
  fs::remove_all(scratch);
  if (!found) {
    return FailedPreconditionError("no config in the grid meets p99 <= " + std::to_string(a.p99_us) + " us");
  }
  out << nlohmann::json{{"recommended", {{"instance_count", best.instances}, {"max_batch_size", best.max_batch},
                                          {"max_queue_delay_us", best.delay_us}}},
                        {"throughput_rps", best.rps},
                        {"p99_us", best.p99_us},
                        {"config", WithKnobs(base, best)}}
             .dump(2)
      << "\n";
  return OkStatus();
}

}  // namespace hotpath::cli
