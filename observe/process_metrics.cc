#include "observe/process_metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>

namespace hotpath {

namespace {

// Field numbers of /proc/PID/stat as proc(5) counts them.
constexpr int kUtime = 14;
constexpr int kStime = 15;
constexpr int kStartTime = 22;
constexpr int kVsize = 23;
constexpr int kRss = 24;

// Splits the fields after the command name; out[i] holds field i + 3.
bool SplitAfterComm(std::string_view line, std::string_view* out, int n) {
  const size_t close = line.rfind(')');
  if (close == std::string_view::npos) return false;
  std::string_view rest = line.substr(close + 1);
  for (int i = 0; i < n; ++i) {
    const size_t begin = rest.find_first_not_of(" \n");
    if (begin == std::string_view::npos) return false;
    rest.remove_prefix(begin);
    const size_t end = std::min(rest.find_first_of(" \n"), rest.size());
    out[i] = rest.substr(0, end);
    rest.remove_prefix(end);
  }
  return true;
}

Result<uint64_t> ParseField(const std::string_view* fields, int field) {
  const std::string_view text = fields[field - 3];
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return DataLossError("/proc stat field " + std::to_string(field) + " is not a number: \"" +
                         std::string(text) + "\"");
  }
  return value;
}

Result<std::string> ReadFile(const char* path) {
  std::ifstream in(path);
  if (!in) return UnavailableError(std::string("cannot read ") + path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Boot time in Unix seconds, from the "btime" line of /proc/stat.
Result<double> BootTimeSeconds() {
  ASSIGN_OR_RETURN(std::string stat, ReadFile("/proc/stat"));
  const size_t at = stat.find("\nbtime ");
  if (at == std::string::npos) return DataLossError("/proc/stat has no btime line");
  return std::strtod(stat.c_str() + at + 7, nullptr);
}

double OrNan(const Result<double>& r) {
  return r.ok() ? r.value() : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

Result<ProcessStats> ParseProcStat(std::string_view line, long ticks_per_second, long page_bytes) {
  std::string_view fields[kRss - 2];
  if (!SplitAfterComm(line, fields, kRss - 2)) {
    return DataLossError("/proc stat line is truncated before field " + std::to_string(kRss));
  }
  ASSIGN_OR_RETURN(uint64_t utime, ParseField(fields, kUtime));
  ASSIGN_OR_RETURN(uint64_t stime, ParseField(fields, kStime));
  ASSIGN_OR_RETURN(uint64_t start, ParseField(fields, kStartTime));
  ASSIGN_OR_RETURN(uint64_t vsize, ParseField(fields, kVsize));
  ASSIGN_OR_RETURN(uint64_t rss, ParseField(fields, kRss));
  ProcessStats stats;
  const double ticks = static_cast<double>(ticks_per_second);
  stats.cpu_seconds = static_cast<double>(utime + stime) / ticks;
  stats.start_time_seconds = static_cast<double>(start) / ticks;
  stats.virtual_bytes = vsize;
  stats.resident_bytes = rss * static_cast<uint64_t>(page_bytes);
  return stats;
}

Result<ProcessStats> ReadProcessStats() {
  ASSIGN_OR_RETURN(std::string line, ReadFile("/proc/self/stat"));
  return ParseProcStat(line, sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE));
}

Result<uint64_t> CountOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return UnavailableError("cannot list /proc/self/fd");
  uint64_t n = 0;
  while (const dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n - 1;  // the descriptor opendir itself holds
}

Status RegisterProcessMetrics(MetricsRegistry& registry) {
  auto stat = [](double (*pick)(const ProcessStats&)) {
    return [pick] {
      Result<ProcessStats> s = ReadProcessStats();
      return s.ok() ? pick(s.value()) : std::numeric_limits<double>::quiet_NaN();
    };
  };
  RETURN_IF_ERROR(registry.AddSampled(
      {"process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", {}},
      MetricType::kCounter, stat([](const ProcessStats& s) { return s.cpu_seconds; })));
  RETURN_IF_ERROR(registry.AddSampled(
      {"process_resident_memory_bytes", "Resident memory size in bytes.", {}}, MetricType::kGauge,
      stat([](const ProcessStats& s) { return static_cast<double>(s.resident_bytes); })));
  RETURN_IF_ERROR(registry.AddSampled(
      {"process_virtual_memory_bytes", "Virtual memory size in bytes.", {}}, MetricType::kGauge,
      stat([](const ProcessStats& s) { return static_cast<double>(s.virtual_bytes); })));
  RETURN_IF_ERROR(registry.AddSampled(
      {"process_open_fds", "Number of open file descriptors.", {}}, MetricType::kGauge, [] {
        Result<uint64_t> n = CountOpenFds();
        return n.ok() ? static_cast<double>(n.value()) : std::numeric_limits<double>::quiet_NaN();
      }));
  const Result<ProcessStats> now = ReadProcessStats();
  const double start = now.ok() ? OrNan(BootTimeSeconds()) + now->start_time_seconds
                                : std::numeric_limits<double>::quiet_NaN();
  return registry.AddSampled(
      {"process_start_time_seconds", "Start time of the process since unix epoch in seconds.", {}},
      MetricType::kGauge, [start] { return start; });
}

}  // namespace hotpath
