// The `hotpath` command: one binary, one subcommand per job.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/alerts_command.h"
#include "cli/bench_command.h"
#include "cli/config_search_command.h"
#include "cli/features_command.h"
#include "cli/generate_command.h"
#include "cli/optimize_command.h"
#include "cli/perf_command.h"
#include "cli/plan_command.h"
#include "cli/predict_command.h"
#include "cli/replay_command.h"
#include "cli/serve_command.h"

namespace {

int Fail(const hotpath::Status& s) {
  std::cerr << "hotpath: " << s.ToString() << "\n";
  return s.code() == hotpath::StatusCode::kInvalidArgument ? 2 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hotpath: real-time AI decisions inside a latency budget"};
  app.require_subcommand(1);

  hotpath::cli::PredictArgs predict;
  CLI::App* p = app.add_subcommand("predict", "Score a CSV or JSON Lines file of rows with a tree model");
  p->add_option("model", predict.model_path, "XGBoost JSON/UBJSON or LightGBM text model")->required();
  p->add_option("--input,-i", predict.input_path, "rows.csv (empty field = missing) or rows.jsonl (null = missing)")->required();
  p->add_flag("--margin", predict.margin, "Output raw margins instead of transformed values");
  p->add_flag("--contribs", predict.contribs, "Output per-feature contributions (TreeSHAP), bias last");
  p->add_option("--threads", predict.threads, "Threads for large files")->check(CLI::Range(1, 256));

  hotpath::cli::GenerateArgs gen;
  CLI::App* g = app.add_subcommand("generate", "Generate synthetic data");
  CLI::App* gt = g->add_subcommand("transactions", "Labeled card transactions as JSON Lines on stdout");
  g->require_subcommand(1);
  gt->add_option("--events,-n", gen.events, "How many transactions");
  gt->add_option("--seed", gen.generator.seed, "Random seed (same seed, same traffic)");
  gt->add_option("--customers", gen.generator.customers, "Number of customers");
  gt->add_option("--terminals", gen.generator.terminals, "Number of terminals");
  gt->add_option("--rate", gen.generator.mean_events_per_s, "Mean events per simulated second");
  gt->add_option("--fraud-rate", gen.generator.fraud_rate, "Fraction of events that start a fraud scenario");
  gt->add_option("--start-ms", gen.generator.start_ms, "Simulated start time, Unix ms");

  hotpath::cli::PlanSimulateArgs plan;
  CLI::App* pl = app.add_subcommand("plan", "Capacity planning");
  pl->require_subcommand(1);
  CLI::App* ps = pl->add_subcommand("simulate", "Simulate a replica fleet under a policy over a demand trace");
  ps->add_option("--trace", plan.trace, "Demand trace: .csv (t_s,rps) or .json")->required();
  ps->add_option("--policy", plan.policy, "Policy file: {\"base\": \"hotpath\"|\"kubernetes\"|\"static\", ...}")->required();
  ps->add_option("--catalog", plan.catalog, "Instance catalog (prices, spot rates)");
  ps->add_option("--instance", plan.instance, "Instance type from the catalog");
  ps->add_option("--capacity-rps", plan.capacity_rps, "Sustainable requests/s of one replica");
  ps->add_option("--cold-start-s", plan.cold_start_s, "Seconds from launch to serving");
  ps->add_option("--slo-p99-ms", plan.slo_p99_ms, "Latency objective");
  ps->add_option("--history-s", plan.history_s, "Leading trace seconds used only as forecaster history");
  ps->add_option("--out", plan.out_dir, "Folder for timeline.csv and timeline.svg");
  hotpath::cli::ConfigSearchArgs configs;
  CLI::App* pc = pl->add_subcommand("configs", "Search instance count x max batch x queue delay under a p99 bound");
  pc->add_option("--repository", configs.repository, "Model repository folder")->required();
  pc->add_option("--model", configs.model, "Model name")->required();
  pc->add_option("--p99-us", configs.p99_us, "Latency bound");
  pc->add_option("--instances", configs.instance_counts, "Instance counts to try");
  pc->add_option("--max-batch", configs.max_batch_sizes, "Max batch sizes to try");
  pc->add_option("--delay-us", configs.queue_delays_us, "Queue delays to try");
  pc->add_option("--concurrency", configs.concurrency, "Closed-loop clients per measurement");
  pc->add_option("--duration-ms", configs.duration_ms, "Measured time per config");

  hotpath::cli::ServeArgs serve;
  CLI::App* sv = app.add_subcommand("serve", "Serve a model repository (KServe v2 HTTP + gRPC) and the fraud API");
  sv->add_option("--repository", serve.repository, "Model repository folder");
  sv->add_option("--address", serve.address, "Address to bind");
  sv->add_option("--http-port", serve.http_port, "HTTP port (KServe v2, /metrics, /v1/fraud)");
  sv->add_option("--grpc-port", serve.grpc_port, "gRPC port (KServe v2); -1 disables");
  sv->add_option("--poll-ms", serve.poll_ms, "Repository poll period; 0 = explicit mode");
  sv->add_option("--load", serve.load, "Explicit mode: models to load at start");
  sv->add_option("--memory-budget-mb", serve.memory_budget_mb, "Model memory budget (0 = unlimited)");
  sv->add_option("--http-loops", serve.http_loops, "HTTP event loop threads (0 = one per core)");
  sv->add_option("--http-busy-poll-us", serve.http_busy_poll_us,
                 "Each HTTP loop polls this long after activity before it sleeps: lower tail latency for up to "
                 "a core per loop (0 = off; docs/serve.md)");
  sv->add_option("--fraud", serve.fraud_dir, "Enable the fraud API from this folder (features.json, fraud.rules, models/)");
  sv->add_option("--features", serve.features, "A feature store with these definitions (API at /v1/features)");
  sv->add_option("--state", serve.state_dir, "Folder for the feature store log and the audit trail");
  sv->add_option("--audit", serve.audit,
                 "Fraud audit trail: a SQLite file (default STATE/audit.db) or postgresql://USER@HOST:PORT/DB");
  sv->add_option("--review-threshold", serve.review_threshold, "Risk at or above: review");
  sv->add_option("--block-threshold", serve.block_threshold, "Risk at or above: block");
  sv->add_option("--model-timeout-us", serve.model_timeout_us, "Model deadline per decision");
  sv->add_option("--mlp-weight", serve.mlp_weight, "Weight of models/fraud_mlp in the model score (rest: fraud_xgb)")
      ->check(CLI::Range(0.0, 1.0));
  sv->add_option("--rate-limit-rps", serve.rate_limit_rps, "Requests/s per client address (0 = no limit): 429 beyond");
  sv->add_option("--rate-limit-burst", serve.rate_limit_burst, "Burst per client address");
  sv->add_flag("--concurrency-limit", serve.concurrency_limit, "Adaptive concurrency limit on inference: 503 beyond");
  sv->add_option("--alert-redis", serve.alert_redis, "Publish high-risk decisions to this Redis (HOST:PORT)");
  sv->add_option("--alert-stream", serve.alert_stream, "Redis stream for alerts");
  sv->add_option("--alert-webhook", serve.alert_webhook, "POST high-risk decisions to this URL (http://HOST:PORT/PATH)");
  sv->add_option("--alert-at", serve.alert_at, "Alert on decisions at least: review or block");
  sv->add_option("--alert-p95-ms", serve.alert_rules.p95_latency_ms, "Alert when inference p95 exceeds this");
  sv->add_option("--alert-max-error-rate", serve.alert_rules.max_error_rate, "Alert when failed/all exceeds this");
  sv->add_option("--alert-min-rps", serve.alert_rules.min_throughput_rps, "Alert below this inference rate (0 = off)");
  sv->add_option("--slo", serve.alert_rules.availability_objective, "Availability SLO for burn-rate alerts");
  sv->add_option("--alert-max-cost-per-hour", serve.alert_rules.max_hourly_cost, "Alert above this fleet cost per hour");
  sv->add_option("--cost-instance", serve.cost_instance, "This machine's instance type: serves /v1/cost");
  sv->add_option("--cost-catalog", serve.cost_catalog, "Instance catalog (prices)");
  sv->add_option("--replicas", serve.replicas, "Machines like this one in the fleet (cost)");
  sv->add_option("--monthly-budget", serve.monthly_budget, "Budget for projected month-end spend alerts");
  sv->add_option("--scale-policy", serve.scale_policy, "Serve /v1/scale/recommendation with this policy file");
  sv->add_option("--replica-capacity-rps", serve.replica_capacity_rps, "Sustainable requests/s of one replica");
  sv->add_option("--cold-start-s", serve.cold_start_s, "Seconds from launch to serving");

  hotpath::cli::ReplayArgs replay;
  CLI::App* rp = app.add_subcommand("replay", "Stream a JSON Lines file of transactions into the fraud API");
  rp->add_option("file", replay.file, "Transactions, one JSON object per line")->required();
  rp->add_option("--url", replay.url, "Server, http://127.0.0.1:PORT");
  rp->add_option("--rate", replay.rate, "Transactions per second (0 = as fast as possible)");
  rp->add_option("--connections", replay.connections, "Keep-alive connections");
  rp->add_option("--limit", replay.limit, "Stop after this many transactions");
  rp->add_flag("!--keep-timestamps", replay.restamp, "Send the file's timestamps instead of the send time");

  hotpath::cli::FeaturesBackfillArgs backfill;
  hotpath::cli::FeaturesReplayArgs feature_replay;
  CLI::App* ft = app.add_subcommand("features", "Feature store tools: training-data backfill, event replay");
  ft->require_subcommand(1);
  CLI::App* fb = ft->add_subcommand("backfill", "Point-in-time feature rows (CSV) for a labeled event log");
  fb->add_option("events", backfill.events, "Events, one JSON object per line, sorted by event time")->required();
  fb->add_option("--definitions", backfill.definitions, "Feature definitions file")->required();
  fb->add_option("--features", backfill.features, "Feature references, comma-separated")->required()->delimiter(',');
  fb->add_option("--passthrough", backfill.passthrough, "Event fields copied into each row (labels)")->delimiter(',');
  fb->add_option("--out", backfill.out, "CSV to write")->required();
  CLI::App* fr = ft->add_subcommand("replay", "Stream a JSON Lines event log into a server's /v1/features/events");
  fr->add_option("file", feature_replay.file, "Events, one JSON object per line")->required();
  fr->add_option("--port", feature_replay.port, "Server port on 127.0.0.1");
  fr->add_option("--rate", feature_replay.rate, "Events per second (0 = as fast as possible)");
  fr->add_option("--batch", feature_replay.batch, "Events per request");
  fr->add_option("--limit", feature_replay.limit, "Stop after this many events");

  hotpath::cli::OptimizeArgs opt;
  CLI::App* op = app.add_subcommand("optimize", "Make a model cheaper under an accuracy gate and publish the best variant");
  op->add_option("model", opt.model, "Repository model folder, one of its version folders, or a model file")->required();
  op->add_option("--eval", opt.eval, "Held-out rows: CSV with a header, a 0/1 label column, features in model order")->required();
  op->add_option("--label-column", opt.label_column, "Name of the label column");
  op->add_option("--strategy", opt.strategy, "Rank passing variants by latency, throughput, memory or balanced");
  op->add_option("--max-accuracy-loss", opt.max_accuracy_loss, "AUC the variant may lose against the baseline");
  op->add_option("--max-logloss-increase", opt.max_logloss_increase, "Log loss the variant may add");
  op->add_option("--max-abs-diff", opt.max_abs_diff, "Largest |variant - baseline| probability on a row");
  op->add_option("--report", opt.report_dir, "Report folder (report.md, report.csv, report.svg)");
  op->add_option("--out", opt.out_dir, "Model files only: folder for the optimised artifact");

  hotpath::AlertRulesOptions alerts;
  CLI::App* al = app.add_subcommand("alerts", "Print the Prometheus alert rules (SLO burn rate, thresholds)");
  al->add_option("--objective", alerts.availability_objective, "Availability SLO, e.g. 0.999");
  al->add_option("--p95-latency-ms", alerts.p95_latency_ms, "p95 queue+compute latency threshold");
  al->add_option("--min-throughput-rps", alerts.min_throughput_rps, "Per-model minimum (0 = off)");
  al->add_option("--max-error-rate", alerts.max_error_rate, "Failed / all requests over 5m");
  al->add_option("--max-cpu", alerts.max_cpu_utilisation, "CPU utilisation threshold (0..1]");
  al->add_option("--cores", alerts.cores, "Cores the process may use");
  al->add_option("--max-cost-per-hour", alerts.max_hourly_cost, "Fleet cost per hour threshold (0 = off)");

  hotpath::cli::BenchArgs bench;
  CLI::App* bn = app.add_subcommand("bench", "Load-test a running KServe v2 server (closed-loop sweep or open-loop rate)");
  bn->add_option("--port", bench.port, "Server port on 127.0.0.1");
  bn->add_option("--model", bench.model, "Model name")->required();
  bn->add_option("--version", bench.version, "Model version (default: latest)");
  bn->add_option("--mode", bench.mode, "closed or open");
  bn->add_option("--concurrency", bench.concurrency, "Closed loop: concurrency levels to sweep");
  bn->add_option("--rate", bench.rates, "Open loop: request rates (per second) to run");
  bn->add_option("--connections", bench.connections, "Open loop: connection pool");
  bn->add_option("--rows", bench.rows, "Rows per request");
  bn->add_flag("--binary", bench.binary, "Binary tensor extension instead of JSON");
  bn->add_option("--duration-ms", bench.duration_ms, "Measured time per step");
  bn->add_option("--warmup-ms", bench.warmup_ms, "Unmeasured time before each step");
  bn->add_option("--csv", bench.csv, "Also write the steps as CSV");

  hotpath::cli::PerfReportArgs perf;
  CLI::App* pf = app.add_subcommand("perf", "Performance reports");
  pf->require_subcommand(1);
  CLI::App* pr = pf->add_subcommand("report", "History of a running server as CSV and an SVG plot");
  pr->add_option("--port", perf.port, "Server port on 127.0.0.1");
  pr->add_option("--out", perf.out_dir, "Folder for history.csv and perf.svg");
  pr->add_flag("--minutes", perf.minutes, "The per-minute history (last day) instead of per-second");

  CLI11_PARSE(app, argc, argv);
  hotpath::Status s;
  if (p->parsed()) s = hotpath::cli::RunPredict(predict, std::cout);
  if (gt->parsed()) s = hotpath::cli::RunGenerate(gen, std::cout);
  if (ps->parsed()) s = hotpath::cli::RunPlanSimulate(plan, std::cout);
  if (pc->parsed()) s = hotpath::cli::RunConfigSearch(configs, std::cout, std::cerr);
  if (sv->parsed()) s = hotpath::cli::RunServe(serve);
  if (rp->parsed()) s = hotpath::cli::RunReplay(replay, std::cerr, std::cout);
  if (fb->parsed()) s = hotpath::cli::RunFeaturesBackfill(backfill, std::cout, std::cerr);
  if (fr->parsed()) s = hotpath::cli::RunFeaturesReplay(feature_replay, std::cerr, std::cout);
  if (op->parsed()) s = hotpath::cli::RunOptimize(opt, std::cout, std::cerr);
  if (al->parsed()) s = hotpath::cli::RunAlerts(alerts, std::cout);
  if (bn->parsed()) s = hotpath::cli::RunBench(bench, std::cout, std::cerr);
  if (pr->parsed()) s = hotpath::cli::RunPerfReport(perf, std::cout);
  return s.ok() ? 0 : Fail(s);
}
