// `hotpath serve`: the server. KServe v2 over HTTP and gRPC for every model
// of a repository (per-version dynamic batchers), /metrics, and optionally
// the fraud application (POST /v1/fraud/decide, ...). Runs until SIGTERM or
// SIGINT, then drains: no new connections, in-flight requests finish.
#ifndef HOTPATH_CLI_SERVE_COMMAND_H_
#define HOTPATH_CLI_SERVE_COMMAND_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "observe/alert_rules.h"
#include "runtime/repository/backend_registry.h"

namespace hotpath::cli {

struct ServeArgs {
  std::string repository;           // model repository folder (default: FRAUD_DIR/models)
  std::string address = "0.0.0.0";
  int http_port = 8000;
  int grpc_port = 8001;             // -1: no gRPC
  int64_t poll_ms = 1000;           // repository poll period; 0 = explicit mode
  std::vector<std::string> load;    // explicit mode: models to load at start
  int64_t memory_budget_mb = 0;     // 0 = unlimited
  int http_loops = 0;               // 0 = one per core
  int64_t http_busy_poll_us = 0;    // HttpServer::Options::busy_poll_us
  // The fraud application: FRAUD_DIR holds features.json, fraud.rules and
  // models/fraud_xgb, optionally models/fraud_mlp (as `scripts/run` produces them).
  std::string fraud_dir;
  // A feature store with these definitions (without --fraud); its API is at
  // /v1/features/{events,read} (with --fraud, on the fraud store).
  std::string features;
  std::string state_dir = "hotpath-state";  // feature store WAL/snapshots, audit.db
  // The fraud audit trail: empty = STATE/audit.db (SQLite); a SQLite file; or
  // postgresql://user@host:port/db, one trail shared by many replicas.
  std::string audit;
  double review_threshold = 0.5;
  double block_threshold = 0.9;
  int64_t model_timeout_us = 5000;
  // Weight of models/fraud_mlp (when present) in the model score; the rest
  // is fraud_xgb's; 0 = the MLP is not run. The training recipe reports
  // PR-AUC for this blend.
  double mlp_weight = 0.3;
  // High-risk alerts: a Redis stream (HOST:PORT) or a webhook (http://...),
  // for decisions at least `alert_at` ("review" or "block").
  std::string alert_redis;
  std::string alert_stream = "hotpath:alerts";
  std::string alert_webhook;
  std::string alert_at = "block";
  // Thresholds of the alert rules hotpath evaluates itself (delivered to the
  // same sink; the Prometheus export is `hotpath alerts`).
  AlertRulesOptions alert_rules;
  // Cost at /v1/cost (and the hourly-cost alert): this machine's instance
  // type in the catalog, the fleet's size and the monthly budget. Empty: off.
  std::string cost_instance;
  std::string cost_catalog = "examples/catalog/instances.json";
  int replicas = 1;
  double monthly_budget = 0;
  // Scaling recommendations at /v1/scale/recommendation (for KEDA): the
  // policy file (scale/policy.h) and one replica's facts. Empty: off.
  std::string scale_policy;
  double replica_capacity_rps = 1000;
  double cold_start_s = 60;
  // Admission: per-client-address request rate (0 = off) and burst; the
  // adaptive concurrency limit over inference (503 "overloaded" beyond it).
  double rate_limit_rps = 0;
  int64_t rate_limit_burst = 100;
  bool concurrency_limit = false;
};

// Serves until a signal; OK after a clean drain.
Status RunServe(const ServeArgs& args);

// The backends `serve` loads repositories with: the built-in tree backends
// plus the dense engine ("dense", "onnx": a version folder with model.hpd or
// model.onnx) and LibTorch ("torch": model.pt). Other commands that load a
// repository (optimize) use the same table.
Result<std::shared_ptr<BackendRegistry>> ServingBackends();

}  // namespace hotpath::cli

#endif  // HOTPATH_CLI_SERVE_COMMAND_H_
