#include "cli/replay_command.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <fstream>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "features/feature_store.h"
#include "pipeline/fraud/transaction.h"
#include "serve/testing/http_test_client.h"

namespace hotpath::cli {
namespace {

using Steady = std::chrono::steady_clock;

// Latency counts in 10 µs buckets up to 1 s (the last bucket holds more).
class Histogram {
 public:
  void Add(Nanos d) {
    const int64_t b = std::clamp<int64_t>(d.count() / 10'000, 0, kBuckets - 1);
    counts_[b].fetch_add(1, std::memory_order_relaxed);
  }
  // Upper edge in µs of the bucket holding quantile q, 0 when empty.
  double QuantileUs(double q) const {
    uint64_t total = 0;
    for (const auto& c : counts_) total += c.load(std::memory_order_relaxed);
    if (total == 0) return 0;
    const uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total)));
    uint64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
      seen += counts_[i].load(std::memory_order_relaxed);
      if (seen >= rank) return (i + 1) * 10.0;
    }
    return kBuckets * 10.0;
  }
  void Reset() {
    for (auto& c : counts_) c.store(0, std::memory_order_relaxed);
  }

 private:
  static constexpr int kBuckets = 100'000;
  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
};

struct Stats {
  std::atomic<uint64_t> sent{0}, ok{0}, errors{0};
  std::array<std::atomic<uint64_t>, 3> decisions{};  // allow, review, block
  Histogram window, total;
};

Result<int> PortOf(const std::string& url) {
  const std::string prefix = "http://127.0.0.1:";
  if (url.rfind(prefix, 0) != 0) return InvalidArgumentError("--url must look like http://127.0.0.1:PORT");
  const int port = std::atoi(url.c_str() + prefix.size());
  if (port <= 0 || port > 65535) return InvalidArgumentError("--url has no valid port");
  return port;
}

Result<std::vector<fraud::Transaction>> ReadFile(const ReplayArgs& a) {
  std::ifstream in(a.file);
  if (!in) return NotFoundError("cannot open '" + a.file + "'");
  std::vector<fraud::Transaction> out;
  std::string line;
  for (size_t n = 1; std::getline(in, line) && (a.limit == 0 || static_cast<int64_t>(out.size()) < a.limit); ++n) {
    if (line.empty()) continue;
    Result<fraud::Transaction> t = fraud::ParseTransaction(line);
    if (!t.ok()) return InvalidArgumentError(a.file + ": line " + std::to_string(n) + ": " + t.status().message());
    out.push_back(std::move(*t));
  }
  return out;
}

// A keep-alive connection, or null when the server cannot be reached.
std::unique_ptr<serve_testing::HttpTestClient> Connect(int port) {
  auto c = serve_testing::HttpTestClient::Connect(port, std::chrono::seconds(10));
  return c.ok() ? std::make_unique<serve_testing::HttpTestClient>(std::move(*c)) : nullptr;
}

void Worker(int port, const ReplayArgs& a, std::vector<fraud::Transaction>* txns, std::atomic<size_t>* next,
            Steady::time_point start, Stats* stats) {
  std::unique_ptr<serve_testing::HttpTestClient> conn = Connect(port);
  for (size_t i; (i = next->fetch_add(1)) < txns->size();) {
    const auto scheduled =
        a.rate > 0 ? start + std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(i) * 1e9 / a.rate))
                   : Steady::now();
    std::this_thread::sleep_until(scheduled);
    fraud::Transaction& t = (*txns)[i];
    if (a.restamp) t.timestamp_ms = features::WallMillis(RealClock());
    stats->sent++;
    Result<serve_testing::HttpResponse> r = UnavailableError("not connected");
    if (conn) r = conn->Roundtrip(serve_testing::PostJson("/v1/fraud/decide", fraud::ToJson(t)));
    if (!r.ok() || r->status != 200) {
      stats->errors++;
      if (!r.ok()) conn = Connect(port);
      continue;
    }
    const Nanos latency = Steady::now() - scheduled;
    stats->ok++;
    stats->window.Add(latency);
    stats->total.Add(latency);
    const size_t d = r->body.find("\"decision\":\"");
    if (d != std::string::npos) {
      const char c = r->body[d + 12];
      stats->decisions[c == 'a' ? 0 : c == 'r' ? 1 : 2]++;
    }
  }
}

}  // namespace

Status RunReplay(const ReplayArgs& a, std::ostream& progress, std::ostream& summary) {
  if (a.rate < 0 || a.connections < 1) return InvalidArgumentError("--rate must be >= 0 and --connections >= 1");
  ASSIGN_OR_RETURN(int port, PortOf(a.url));
  ASSIGN_OR_RETURN(std::vector<fraud::Transaction> txns, ReadFile(a));
  auto stats = std::make_unique<Stats>();
  std::atomic<size_t> next{0};
  const auto start = Steady::now();
  std::vector<std::thread> workers;
  for (int c = 0; c < a.connections; ++c) workers.emplace_back(Worker, port, std::cref(a), &txns, &next, start, stats.get());
  uint64_t last_ok = 0;
  for (int sec = 1; next.load() < txns.size() || stats->ok + stats->errors < txns.size(); ++sec) {
    std::this_thread::sleep_until(start + std::chrono::seconds(sec));
    const uint64_t ok = stats->ok.load();
    char line[256];
    std::snprintf(line, sizeof(line),
                  "replay: %3ds  %7llu/s  p50 %6.0f us  p99 %7.0f us | allow %llu review %llu block %llu | errors %llu\n",
                  sec, static_cast<unsigned long long>(ok - last_ok), stats->window.QuantileUs(0.5),
                  stats->window.QuantileUs(0.99), static_cast<unsigned long long>(stats->decisions[0].load()),
                  static_cast<unsigned long long>(stats->decisions[1].load()),
                  static_cast<unsigned long long>(stats->decisions[2].load()),
                  static_cast<unsigned long long>(stats->errors.load()));
    progress << line << std::flush;
    stats->window.Reset();
    last_ok = ok;
  }
  for (auto& w : workers) w.join();
  const double secs = std::chrono::duration<double>(Steady::now() - start).count();
  char out[512];
  std::snprintf(out, sizeof(out),
                "{\"sent\": %llu, \"ok\": %llu, \"errors\": %llu, \"seconds\": %.2f, \"events_per_s\": %.1f, "
                "\"p50_us\": %.0f, \"p99_us\": %.0f, \"allow\": %llu, \"review\": %llu, \"block\": %llu}\n",
                static_cast<unsigned long long>(stats->sent.load()), static_cast<unsigned long long>(stats->ok.load()),
                static_cast<unsigned long long>(stats->errors.load()), secs, stats->ok.load() / secs,
                stats->total.QuantileUs(0.5), stats->total.QuantileUs(0.99),
                static_cast<unsigned long long>(stats->decisions[0].load()),
                static_cast<unsigned long long>(stats->decisions[1].load()),
                static_cast<unsigned long long>(stats->decisions[2].load()));
  summary << out;
  return OkStatus();
}

}  // namespace hotpath::cli
