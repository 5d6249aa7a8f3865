// `hotpath bench`: the load generator against a running KServe v2 server, in
// the class of Triton's perf_analyzer: a closed-loop concurrency sweep or an
// open-loop Poisson rate (latency from each request's scheduled send time),
// JSON or binary tensors; throughput, p50/p90/p95/p99/p99.9, answers by
// status, and the server-side queue/compute split read from /metrics. One
// JSON object per step on stdout (and a CSV with --csv); it stops by itself.
#ifndef HOTPATH_CLI_BENCH_COMMAND_H_
#define HOTPATH_CLI_BENCH_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

#include "core/status.h"

namespace hotpath::cli {

struct BenchArgs {
  int port = 8000;                 // the server on 127.0.0.1
  std::string model;               // required
  std::string version;             // empty = latest
  std::string mode = "closed";     // "closed" or "open"
  std::vector<int> concurrency = {1, 2, 4, 8, 16};  // closed loop sweep
  std::vector<double> rates;       // open loop, requests/s per step
  int connections = 64;            // open loop connection pool
  int rows = 1;                    // rows per request
  bool binary = false;             // binary tensor extension instead of JSON
  int64_t duration_ms = 2000;
  int64_t warmup_ms = 500;
  std::string csv;                 // also write the steps here
};

Status RunBench(const BenchArgs& args, std::ostream& out, std::ostream& progress);

// A complete HTTP infer request for args.model (shape from the server's
// metadata) with args.rows random rows, JSON or binary (args.binary).
Result<std::string> BuildRequest(const BenchArgs& args);

}  // namespace hotpath::cli

#endif  // HOTPATH_CLI_BENCH_COMMAND_H_
