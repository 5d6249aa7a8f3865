// One load-generator step against a local HTTP server, with a progress line
// on stderr: what bench_serve's sweeps and its model-server figures share.
#ifndef HOTPATH_BENCH_SERVE_LOAD_STEPS_H_
#define HOTPATH_BENCH_SERVE_LOAD_STEPS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "serve/loadgen/load_generator.h"

namespace hotpath::bench {

struct LoadStep {
  std::string target, encoding, mode;
  int connections = 0;
  double offered_rps = 0;
  loadgen::LoadResult r;
};

struct StepTiming {
  int warmup_ms = 300;
  int duration_ms = 1000;
};

// Runs one step (rate_rps is used in open loop only). On a load-generator
// error the step holds an empty result and the error is printed.
LoadStep RunStep(const StepTiming& timing, const std::string& target, const std::string& encoding,
                 int port, const std::vector<std::string>& requests, loadgen::LoadOptions::Mode mode,
                 int connections, double rate_rps);

// A complete HTTP/1.1 POST of `body` to `path` (JSON content type).
std::string PostRequest(const std::string& path, const std::string& body,
                        const std::string& extra_headers = "");

inline double Us(uint64_t ns) { return ns / 1000.0; }

}  // namespace hotpath::bench

#endif  // HOTPATH_BENCH_SERVE_LOAD_STEPS_H_
