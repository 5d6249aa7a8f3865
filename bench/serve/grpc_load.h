// A closed-loop gRPC load: `concurrency` ModelInfer calls kept in flight on
// one completion queue (one client thread), each answered call replaced by
// the next request. For bench_serve's `grpc_rps`.
#ifndef HOTPATH_BENCH_SERVE_GRPC_LOAD_H_
#define HOTPATH_BENCH_SERVE_GRPC_LOAD_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "serve/loadgen/latency_histogram.h"

namespace hotpath::bench {

struct GrpcLoadOptions {
  int port = 0;
  std::string model;
  std::string input_name = "input";
  int features = 0;                  // values per row
  std::vector<float> rows;           // one-row requests are cut from these, in turn
  int concurrency = 16;
  std::chrono::milliseconds warmup{300};
  std::chrono::milliseconds duration{1000};
};

struct GrpcLoadResult {
  double seconds = 0;
  uint64_t ok = 0, failed = 0;     // measured calls
  loadgen::LatencyHistogram latency;  // ns, measured OK calls
  double ok_rps() const { return seconds > 0 ? ok / seconds : 0; }
};

// UNAVAILABLE when the server cannot be reached; INVALID_ARGUMENT for bad options.
Result<GrpcLoadResult> RunGrpcClosedLoop(const GrpcLoadOptions& options);

}  // namespace hotpath::bench

#endif  // HOTPATH_BENCH_SERVE_GRPC_LOAD_H_
