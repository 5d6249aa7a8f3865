#include "observe/process_metrics.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

namespace hotpath {
namespace {

TEST(ParseProcStatTest, CountsFieldsAfterTheLastParenthesis) {
  // Fields 3..24; comm holds spaces and a ')'. utime=250, stime=50 ticks,
  // starttime=1000 ticks, vsize=123456789, rss=300 pages.
  const std::string line =
      "42 (my (odd) name) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 1000 "
      "123456789 300 18446744073709551615 1 1 0 0 0\n";
  Result<ProcessStats> s = ParseProcStat(line, 100, 4096);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_DOUBLE_EQ(s->cpu_seconds, 3.0);
  EXPECT_DOUBLE_EQ(s->start_time_seconds, 10.0);
  EXPECT_EQ(s->virtual_bytes, 123456789u);
  EXPECT_EQ(s->resident_bytes, 300u * 4096u);
}

TEST(ParseProcStatTest, TruncatedOrGarbledLineIsDataLoss) {
  EXPECT_EQ(ParseProcStat("42 (x) S 1 2 3", 100, 4096).status().code(), StatusCode::kDataLoss);
  const std::string bad =
      "42 (x) S 1 42 42 0 -1 4194560 100 0 0 0 2x0 50 0 0 20 0 3 0 1000 123 300\n";
  Status st = ParseProcStat(bad, 100, 4096).status();
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("14"), std::string::npos) << st.message();
}

// VmRSS from /proc/self/status, an independent source, in bytes.
uint64_t VmRssBytes() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      uint64_t kb = 0;
      in >> kb;
      return kb * 1024;
    }
  }
  return 0;
}

TEST(ReadProcessStatsTest, AgreesWithGetrusageAndStatus) {
  std::vector<char> touched(64 << 20);
  for (size_t i = 0; i < touched.size(); i += 4096) touched[i] = 1;
  volatile double sink = 0;
  for (int i = 0; i < 20'000'000; ++i) sink = sink + i * 0.5;  // burn some CPU

  Result<ProcessStats> s = ReadProcessStats();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double rusage_cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec +
                            ru.ru_stime.tv_usec * 1e-6;
  EXPECT_NEAR(s->cpu_seconds, rusage_cpu, 0.05);
  EXPECT_GE(s->resident_bytes, touched.size());
  const double rss = static_cast<double>(VmRssBytes());
  EXPECT_NEAR(static_cast<double>(s->resident_bytes), rss, rss * 0.1);
}

TEST(ProcessMetricsTest, RegistersSampledFamilies) {
  MetricsRegistry r;
  ASSERT_TRUE(RegisterProcessMetrics(r).ok());
  EXPECT_EQ(RegisterProcessMetrics(r).code(), StatusCode::kAlreadyExists);
  // Burn CPU until the process has used at least two clock ticks, so that
  // process_cpu_seconds_total is above zero even in a fresh process.
  volatile double sink = 0;
  for (int i = 0; i < 200'000'000 && ReadProcessStats()->cpu_seconds < 0.02; ++i) {
    for (int j = 0; j < 10'000; ++j) sink = sink + j * 0.5;
  }
  const std::string text = r.ExpositionText();
  for (const char* name : {"process_cpu_seconds_total ", "process_resident_memory_bytes ",
                           "process_open_fds ", "process_start_time_seconds "}) {
    const size_t at = text.find(std::string("\n") + name);
    ASSERT_NE(at, std::string::npos) << name;
    const double v = std::stod(text.substr(at + 1 + std::string(name).size()));
    EXPECT_GT(v, 0) << name;
  }
}

}  // namespace
}  // namespace hotpath
