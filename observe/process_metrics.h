// Process resource gauges read from /proc at scrape time: CPU seconds,
// resident and virtual memory, open file descriptors, start time. Names and
// meanings follow the Prometheus client libraries' process collector.
#ifndef HOTPATH_OBSERVE_PROCESS_METRICS_H_
#define HOTPATH_OBSERVE_PROCESS_METRICS_H_

#include <cstdint>
#include <string_view>

#include "core/status.h"
#include "observe/metrics.h"

namespace hotpath {

// Resource usage of one process.
struct ProcessStats {
  double cpu_seconds = 0;         // user + system CPU time
  uint64_t resident_bytes = 0;    // resident set size
  uint64_t virtual_bytes = 0;     // virtual memory size
  double start_time_seconds = 0;  // since boot (field 22 of /proc/PID/stat)
};

// Parses one line of /proc/PID/stat (proc(5)). The command name, field 2, may
// hold spaces and parentheses; fields are counted after its last ')'.
// `ticks_per_second` is sysconf(_SC_CLK_TCK), `page_bytes` sysconf(_SC_PAGESIZE).
// DATA_LOSS naming the field when the line is truncated or a field is not a number.
Result<ProcessStats> ParseProcStat(std::string_view line, long ticks_per_second, long page_bytes);

// Reads and parses /proc/self/stat. UNAVAILABLE when it cannot be read.
Result<ProcessStats> ReadProcessStats();

// Number of entries in /proc/self/fd. UNAVAILABLE when it cannot be listed.
Result<uint64_t> CountOpenFds();

// Registers, sampled at each scrape of `registry`:
//   process_cpu_seconds_total (counter), process_resident_memory_bytes,
//   process_virtual_memory_bytes, process_open_fds, process_start_time_seconds
//   (gauges; the start time is Unix seconds). A value that cannot be read is
//   exposed as NaN. ALREADY_EXISTS when registered twice.
Status RegisterProcessMetrics(MetricsRegistry& registry);

}  // namespace hotpath

#endif  // HOTPATH_OBSERVE_PROCESS_METRICS_H_
