// The full model server under load: hotpath's RepositoryService (model
// repository, per-version dynamic batchers, breakers, the adaptive
// concurrency limit) behind the HTTP front, as `hotpath serve` runs it, on a
// repository written to a temporary folder. Measures what issue 4 asks of
// the server beyond the front's own sweep:
//  - dynamic batching on vs off at the same offered load (64 closed-loop
//    clients, one-row requests): throughput and p99 of both;
//  - the serving model's p99 under open-loop load at 25% of its peak, alone
//    and while another model loads new versions back to back;
//  - how late a request whose deadline passes in the queue is answered
//    (client-side latency of its 504 minus its timeout);
//  - overload at 3x the peak of 64-row binary requests: goodput, p99 of the
//    admitted requests against the unloaded p99, and RSS growth.
#ifndef HOTPATH_BENCH_SERVE_SERVER_FIGURES_H_
#define HOTPATH_BENCH_SERVE_SERVER_FIGURES_H_

#include <string>
#include <vector>

#include "bench/serve/load_steps.h"
#include "core/status.h"

namespace hotpath::bench {

struct ServerFigureOptions {
  StepTiming timing;
  std::string model_file;   // XGBoost JSON served by every model of the repository
  int features = 0;
  std::vector<float> rows;  // rows of `features` values, at least 64
  int repeats = 2;          // each comparison is run this many times, interleaved; medians
};

struct ServerFigures {
  double batched_rps = 0, batched_p99_us = 0, unbatched_rps = 0, unbatched_p99_us = 0;
  double batching_speedup = 0;
  double load_rate_rps = 0, load_base_p99_us = 0, load_during_p99_us = 0, load_p99_change = 0;
  int versions_loaded = 0;
  double deadline_timeout_us = 0, deadline_late_p50_us = 0, deadline_late_p99_us = 0;
  uint64_t deadline_answers = 0;
  double overload_peak_rps = 0, overload_offered_rps = 0, overload_ok_rps = 0, overload_goodput = 0;
  double unloaded_p99_us = 0, overload_p99_us = 0, overload_p99_ratio = 0;
  uint64_t overload_refused = 0;
  double rss_growth_mb = 0;
};

Result<ServerFigures> MeasureModelServer(const ServerFigureOptions& options);

}  // namespace hotpath::bench

#endif  // HOTPATH_BENCH_SERVE_SERVER_FIGURES_H_
