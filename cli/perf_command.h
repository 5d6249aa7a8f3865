// `hotpath perf report --port P --out DIR`: reads a running server's
// performance history (GET /v1/perf/history) and writes DIR/history.csv and
// DIR/perf.svg (latency percentiles; throughput and errors; queue time and
// batch fill; CPU and memory over time), then prints a JSON summary.
#ifndef HOTPATH_CLI_PERF_COMMAND_H_
#define HOTPATH_CLI_PERF_COMMAND_H_

#include <ostream>
#include <string>

#include "core/status.h"

namespace hotpath::cli {

struct PerfReportArgs {
  int port = 8000;
  std::string out_dir = "perf-report";
  bool minutes = false;  // the per-minute history (last day) instead of per-second (last hour)
};

Status RunPerfReport(const PerfReportArgs& args, std::ostream& out);

}  // namespace hotpath::cli

#endif  // HOTPATH_CLI_PERF_COMMAND_H_
