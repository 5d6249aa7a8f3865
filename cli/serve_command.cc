#include "cli/serve_command.h"

#include <signal.h>

#include <cstdio>
#include <filesystem>

#include "features/durable_store.h"
#include "observe/alert_evaluator.h"
#include "observe/process_metrics.h"
#include "pipeline/audit/audit_log.h"
#include "pipeline/fraud/engine.h"
#include "runtime/dense/dense_model.h"
#include "runtime/repository/backend_registry.h"
#include "runtime/torch/torch_model.h"
#include "runtime/repository/model_repository.h"
#include "serve/apps/cost_http.h"
#include "serve/apps/features_http.h"
#include "serve/apps/fraud_http.h"
#include "serve/apps/perf_http.h"
#include "serve/apps/scale_http.h"
#include "serve/apps/metrics_http.h"
#include "serve/grpc/grpc_server.h"
#include "serve/http_server.h"
#include "serve/models/repository_service.h"

namespace hotpath::cli {
namespace {

// Everything the fraud application owns, in construction order.
struct FraudApp {
  std::shared_ptr<const features::Definitions> definitions;
  std::unique_ptr<features::DurableFeatureStore> store;
  std::unique_ptr<rules::ReloadableRuleSet> rules;
  std::unique_ptr<audit::AuditLog> audit;
  std::shared_ptr<DynamicBatcher> batcher;      // null: fraud_xgb runs inline
  std::shared_ptr<DynamicBatcher> mlp_batcher;  // null: no companion MLP, or it runs inline
  std::unique_ptr<fraud::FraudEngine> engine;
  std::unique_ptr<FraudHttpApp> http;
};

// The durable feature store of `definitions_file` under STATE/features.
Result<std::unique_ptr<features::DurableFeatureStore>> OpenFeatureStore(
    const std::string& definitions_file, const std::string& state_dir,
    std::shared_ptr<const features::Definitions>* definitions, bool deferred_log) {
  ASSIGN_OR_RETURN(features::Definitions defs, features::LoadDefinitionsFile(definitions_file));
  *definitions = std::make_shared<const features::Definitions>(std::move(defs));
  features::DurableFeatureStore::Options so;
  so.store.definitions = *definitions;
  so.store.clock = &RealClock();
  so.dir = state_dir + "/features";
  so.sync = false;  // process-crash durable (see docs/fraud.md)
  so.deferred_log = deferred_log;
  return features::DurableFeatureStore::Open(so);
}

// The alert sink the flags ask for, or null.
Result<std::unique_ptr<AlertSink>> StartAlerts(const ServeArgs& a) {
  if (a.alert_at != "review" && a.alert_at != "block") {
    return InvalidArgumentError("--alert-at must be review or block, got '" + a.alert_at + "'");
  }
  if (!a.alert_redis.empty() && !a.alert_webhook.empty()) {
    return InvalidArgumentError("--alert-redis and --alert-webhook: choose one");
  }
  if (!a.alert_webhook.empty()) {
    ASSIGN_OR_RETURN(auto sink, WebhookAlertSink::Create(a.alert_webhook, {}));
    return std::unique_ptr<AlertSink>(std::move(sink));
  }
  if (!a.alert_redis.empty()) {
    const size_t colon = a.alert_redis.rfind(':');
    if (colon == std::string::npos) return InvalidArgumentError("--alert-redis must be HOST:PORT");
    RedisStreamAlertSink::Options o;
    o.host = a.alert_redis.substr(0, colon);
    o.port = std::atoi(a.alert_redis.c_str() + colon + 1);
    o.stream = a.alert_stream;
    ASSIGN_OR_RETURN(auto sink, RedisStreamAlertSink::Create(o));
    return std::unique_ptr<AlertSink>(std::move(sink));
  }
  return std::unique_ptr<AlertSink>();
}

Result<std::unique_ptr<FraudApp>> StartFraud(const ServeArgs& a, ModelRepository* repo, RepositoryService* svc,
                                             AlertSink* alerts, MetricsRegistry* metrics) {
  auto app = std::make_unique<FraudApp>();
  // The feature log is written in the audit trail's group commit, before
  // the records of the decisions that ingested its events: the request
  // thread never waits on the disk, and an acknowledged decision's event
  // is durable.
  ASSIGN_OR_RETURN(app->store,
                   OpenFeatureStore(a.fraud_dir + "/features.json", a.state_dir, &app->definitions, true));
  const auto& shared = app->definitions;
  ASSIGN_OR_RETURN(auto schema, fraud::FraudRulesSchema());
  ASSIGN_OR_RETURN(app->rules, rules::ReloadableRuleSet::CreateFromFile(schema, a.fraud_dir + "/fraud.rules"));
  audit::AuditLog::Options ao;
  ao.location = a.audit.empty() ? a.state_dir + "/audit.db" : a.audit;
  ao.before_commit = [store = app->store.get()] { return store->Flush(); };
  ASSIGN_OR_RETURN(app->audit, audit::AuditLog::Open(ao));
  std::fprintf(stderr, "hotpath: fraud audit trail at %s\n", app->audit->description().c_str());
  // A model without a dynamic_batching block runs inline on the deciding
  // thread (pipeline/fraud/engine.h); with one, through its batcher.
  ASSIGN_OR_RETURN(ServableHandle model, repo->Get("fraud_xgb"));
  if (model->config().dynamic_batching) {
    ASSIGN_OR_RETURN(app->batcher, svc->BatcherFor(model));
  }
  fraud::FraudEngine::Options eo;
  eo.definitions = shared;
  eo.store = app->store.get();
  eo.rules = app->rules.get();
  eo.model = SharedModel(model);
  eo.model_name = model->name();
  eo.model_version = std::to_string(model->version());
  eo.batcher = app->batcher.get();
  eo.audit = app->audit.get();
  eo.thresholds = {a.review_threshold, a.block_threshold};
  eo.model_timeout = std::chrono::microseconds(a.model_timeout_us);
  eo.alerts = alerts;
  eo.metrics = metrics;
  eo.alert_at = a.alert_at == "review" ? fraud::Decision::kReview : fraud::Decision::kBlock;
  eo.model_gate = [svc, config = model->config()] { return svc->AdmitDirect(config); };
  // The small MLP beside XGBoost, when the repository has one (loaded here in
  // explicit mode, where only --load models start loaded).
  // --mlp-weight 0 leaves it out.
  Result<ServableHandle> mlp = repo->Get("fraud_mlp");
  if (!mlp.ok() && mlp.status().code() == StatusCode::kNotFound && a.mlp_weight > 0 && repo->Load("fraud_mlp").ok()) {
    mlp = repo->Get("fraud_mlp");
  }
  if (a.mlp_weight <= 0) mlp = NotFoundError("--mlp-weight 0");
  if (mlp.ok()) {
    if ((*mlp)->config().dynamic_batching) {
      ASSIGN_OR_RETURN(app->mlp_batcher, svc->BatcherFor(*mlp));
      eo.companion.batcher = app->mlp_batcher.get();
    } else {
      eo.companion.model = SharedModel(*mlp);
    }
    eo.companion.name = (*mlp)->name();
    eo.companion.version = std::to_string((*mlp)->version());
    eo.companion.weight = a.mlp_weight;
    eo.companion.gate = [svc, config = (*mlp)->config()] { return svc->AdmitDirect(config); };
  }
  auto how = [](const ServableHandle& h) { return h->config().dynamic_batching ? "batched" : "inline"; };
  std::fprintf(stderr, "hotpath: fraud models: fraud_xgb v%lld (%s)%s\n", static_cast<long long>(model->version()),
               how(model),
               mlp.ok() ? (" + fraud_mlp v" + std::to_string((*mlp)->version()) + " (" + how(*mlp) + ", weight " +
                           std::to_string(a.mlp_weight).substr(0, 4) + ")").c_str()
                        : " (no fraud_mlp)");
  ASSIGN_OR_RETURN(app->engine, fraud::FraudEngine::Create(eo));
  app->http = std::make_unique<FraudHttpApp>(app->engine.get(), app->audit.get(), app->rules.get(),
                                             a.fraud_dir + "/fraud.rules");
  return app;
}

}  // namespace

Result<std::shared_ptr<BackendRegistry>> ServingBackends() {
  auto registry = std::make_shared<BackendRegistry>(BackendRegistry::WithBuiltins());
  auto dense = [](const BackendLoadRequest& r) -> Result<std::unique_ptr<Model>> {
    ASSIGN_OR_RETURN(auto m, dense::LoadDenseModel(r.version_dir, {}));
    return std::unique_ptr<Model>(std::move(m));
  };
  RETURN_IF_ERROR(registry->Register("dense", dense));
  RETURN_IF_ERROR(registry->Register("onnx", dense));
  RETURN_IF_ERROR(registry->Register("torch", [](const BackendLoadRequest& r) -> Result<std::unique_ptr<Model>> {
    torch_backend::TorchModel::Options o;
    o.num_features = NumElements(r.config.inputs[0].dims);
    ASSIGN_OR_RETURN(auto m, torch_backend::TorchModel::Create(r.version_dir, o));
    return std::unique_ptr<Model>(std::move(m));
  }));
  return registry;
}

namespace {

// Requests answered so far (success + failure) over every model and the
// fraud route (whose models may run inline, outside any batcher).
double TotalRequests(const MetricsRegistry& metrics) {
  double total = 0;
  for (const char* name : {"hotpath_sched_request_success_total", "hotpath_sched_request_failure_total",
                           "hotpath_fraud_decisions_total", "hotpath_fraud_failures_total"}) {
    for (const auto& [model, n] : CounterTotals(metrics, name)) total += static_cast<double>(n);
  }
  return total;
}

// Blocks SIGINT/SIGTERM in this thread (and the threads it starts) so that
// WaitForSignal receives them.
sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

}  // namespace

Status RunServe(const ServeArgs& a) {
  if (!a.audit.empty() && a.fraud_dir.empty()) return InvalidArgumentError("--audit needs --fraud");
  const sigset_t stop = BlockStopSignals();
  MetricsRegistry metrics;
  RETURN_IF_ERROR(RegisterProcessMetrics(metrics));
  ModelRepository::Options ro;
  ro.path = !a.repository.empty() ? a.repository : a.fraud_dir + "/models";
  ro.mode = a.poll_ms > 0 ? ModelRepository::Mode::kPoll : ModelRepository::Mode::kExplicit;
  ro.poll_interval = std::chrono::milliseconds(a.poll_ms);
  ro.startup_models = a.load;
  ro.memory_budget_bytes = static_cast<size_t>(a.memory_budget_mb) << 20;
  ASSIGN_OR_RETURN(ro.backends, ServingBackends());
  ASSIGN_OR_RETURN(auto repo, ModelRepository::Create(ro));
  std::unique_ptr<ConcurrencyLimiter> limiter;  // outlives the service's permits
  if (a.concurrency_limit) {
    ASSIGN_OR_RETURN(limiter, ConcurrencyLimiter::Create(ConcurrencyLimiter::Options::ForModelServer()));
  }
  std::unique_ptr<RateLimiter> rate;
  if (a.rate_limit_rps > 0) {
    RateLimiter::Options rl;
    rl.rate_per_s = a.rate_limit_rps;
    rl.burst = a.rate_limit_burst;
    ASSIGN_OR_RETURN(rate, RateLimiter::Create(rl));
  }
  RepositoryService::Options so;
  so.repository = repo.get();
  so.metrics = &metrics;
  so.limiter = limiter.get();
  ASSIGN_OR_RETURN(auto service, RepositoryService::Create(so));
  ASSIGN_OR_RETURN(std::unique_ptr<AlertSink> alerts, StartAlerts(a));
  std::unique_ptr<FraudApp> fraud;
  if (!a.fraud_dir.empty()) {
    std::filesystem::create_directories(a.state_dir);
    ASSIGN_OR_RETURN(fraud, StartFraud(a, repo.get(), service.get(), alerts.get(), &metrics));
  }
  std::shared_ptr<const features::Definitions> feature_defs;
  std::unique_ptr<features::DurableFeatureStore> feature_store;  // without --fraud
  if (!fraud && !a.features.empty()) {
    std::filesystem::create_directories(a.state_dir);
    ASSIGN_OR_RETURN(feature_store, OpenFeatureStore(a.features, a.state_dir, &feature_defs, false));
  }
  std::unique_ptr<FeaturesHttpApp> features_app;
  if (fraud) {
    ASSIGN_OR_RETURN(features_app, FeaturesHttpApp::Create(fraud->definitions, fraud->store.get()));
  } else if (feature_store) {
    ASSIGN_OR_RETURN(features_app, FeaturesHttpApp::Create(feature_defs, feature_store.get()));
  }
  std::unique_ptr<ScaleHttpApp> scale_app;
  if (!a.scale_policy.empty()) {
    ASSIGN_OR_RETURN(scale::PolicyConfig policy, scale::LoadPolicyConfig(a.scale_policy));
    scale::ReplicaFacts facts;
    facts.capacity_rps = a.replica_capacity_rps;
    facts.cold_start_s = a.cold_start_s;
    ASSIGN_OR_RETURN(scale_app, ScaleHttpApp::Create(policy, facts));
  }
  ASSIGN_OR_RETURN(auto perf, PerfHttpApp::Create(&metrics, RealClock()));
  std::unique_ptr<CostHttpApp> cost;
  if (!a.cost_instance.empty()) {
    CostHttpApp::Options co;
    ASSIGN_OR_RETURN(co.catalog, scale::InstanceCatalog::Load(a.cost_catalog));
    co.instance = a.cost_instance;
    co.replicas = a.replicas;
    co.monthly_budget = a.monthly_budget;
    ASSIGN_OR_RETURN(cost, CostHttpApp::Create(co, &metrics));
  }
  // The alert rules, evaluated here on the history, go to the same sink.
  std::unique_ptr<AlertEvaluator> evaluator;
  if (alerts) {
    AlertEvaluator::Sources sources;
    sources.minutes = &perf->minute_history();
    sources.cpu_cores = [p = perf.get()] { return p->CpuCores5m(); };
    if (cost) sources.hourly_cost = [c = cost.get()] { return c->PerHour(); };
    ASSIGN_OR_RETURN(evaluator, AlertEvaluator::Create(a.alert_rules, &perf->history(), alerts.get(), sources));
  }
  MetricsHttpApp metrics_app(&metrics);
  HttpRouteTable routes;
  routes.Add("/v1/perf", perf.get());
  if (cost) routes.Add("/v1/cost", cost.get());
  if (scale_app) routes.Add("/v1/scale", scale_app.get());
  routes.Add("/metrics", &metrics_app);
  if (fraud) routes.Add("/v1/fraud", fraud->http.get());
  if (features_app) routes.Add("/v1/features", features_app.get());
  HttpServer::Options ho;
  ho.address = a.address;
  ho.port = a.http_port;
  ho.num_loops = a.http_loops;
  ho.busy_poll_us = a.http_busy_poll_us;
  ho.app = &routes;
  ho.rate_limiter = rate.get();
  ho.on_infer_timing = [p = perf.get()](const InferTiming& t) { p->OnInfer(t); };
  ASSIGN_OR_RETURN(auto http, HttpServer::Create(ho, service.get()));
  std::unique_ptr<GrpcServer> grpc;
  if (a.grpc_port >= 0) {
    GrpcServer::Options go{a.address, a.grpc_port};
    ASSIGN_OR_RETURN(grpc, GrpcServer::Start(go, service.get(), service.get()));
  }
  std::fprintf(stderr, "hotpath: serving KServe v2 on http://%s:%d%s%s, repository %s%s\n", a.address.c_str(),
               http->port(), grpc ? " and gRPC :" : "", grpc ? std::to_string(grpc->port()).c_str() : "",
               ro.path.c_str(), fraud ? "; fraud API at /v1/fraud/decide" : "");
  perf->Tick();  // the history's baseline
  const timespec tick{1, 0};
  double requests = TotalRequests(metrics);
  for (double t = 0; sigtimedwait(&stop, nullptr, &tick) < 0; t += 1) {
    service->Maintain();
    perf->Tick();
    if (cost) cost->Tick();
    if (evaluator) evaluator->Evaluate();
    if (scale_app) {
      const double now = TotalRequests(metrics);
      scale_app->RecordDemand(t, now - requests);
      requests = now;
    }
  }
  std::fprintf(stderr, "hotpath: draining\n");
  http->BeginDrain();
  http->Wait();
  grpc.reset();
  fraud.reset();
  service.reset();
  return OkStatus();
}

}  // namespace hotpath::cli
