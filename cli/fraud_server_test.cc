// The fraud server end to end, as a separate process: `hotpath serve
// --fraud DIR` is started, fed transactions over HTTP, SIGKILLed while
// clients are mid-stream, and restarted on the same state. Every decision a
// client received must be in the audit trail, and every acknowledged event
// must be in the features (the next transaction of a user sees them all).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/bench_command.h"
#include "cli/perf_command.h"
#include "features/feature_store.h"
#include "pipeline/fraud/transaction.h"
#include "serve/testing/http_test_client.h"

namespace hotpath {
namespace {

namespace fs = std::filesystem;
using serve_testing::HttpTestClient;

class FraudServer {
 public:
  FraudServer(const fs::path& fraud_dir, const fs::path& state, int port) : port_(port) {
    pid_ = fork();
    if (pid_ == 0) {
      const std::string p = std::to_string(port);
      execl(HOTPATH_BINARY, "hotpath", "serve", "--fraud", fraud_dir.c_str(), "--state", state.c_str(),
            "--http-port", p.c_str(), "--grpc-port", "-1", "--http-loops", "1", "--poll-ms", "0",
            "--load", "fraud_xgb", static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  // Waits until the server answers /v2/health/ready.
  bool WaitReady() {
    for (int i = 0; i < 300; ++i) {
      auto c = HttpTestClient::Connect(port_, std::chrono::milliseconds(500));
      if (c.ok()) {
        auto r = c->Roundtrip(serve_testing::Get("/v2/health/ready"));
        if (r.ok() && r->status == 200) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  void Kill(int sig) {
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  int port() const { return port_; }

 private:
  pid_t pid_;
  int port_;
};

std::string TxnJson(const std::string& id, const std::string& user, double amount) {
  fraud::Transaction t;
  t.id = id;
  t.user = user;
  t.amount = amount;
  t.currency = "EUR";
  t.merchant = "m-" + user;
  t.merchant_category = 5411;
  t.country = "DE";
  t.timestamp_ms = features::WallMillis(RealClock());
  return fraud::ToJson(t);
}

TEST(FraudServerTest, SigkillLosesNoDecisionAndNoEvent) {
  const fs::path root = fs::temp_directory_path() / ("hotpath_fraud_server_" + std::to_string(::getpid()));
  fs::remove_all(root);
  const fs::path example = root / "example";
  ASSERT_EQ(0, std::system((std::string(HOTPATH_MAKE_FRAUD_EXAMPLE) + " " + HOTPATH_SOURCE_DIR +
                            "/examples/fraud " + example.string() + " 20000 2>/dev/null").c_str()));
  auto server = std::make_unique<FraudServer>(example, root / "state", serve_testing::FreeLoopbackPort());
  ASSERT_TRUE(server->WaitReady());

  // Four clients send to 8 users until the server dies; each keeps what was acknowledged.
  std::mutex mu;
  std::map<std::string, int> acked_per_user;
  std::vector<std::string> acked_ids;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      auto conn = HttpTestClient::Connect(server->port());
      if (!conn.ok()) return;
      for (int i = 0; !stop; ++i) {
        const std::string id = "c" + std::to_string(c) + "-" + std::to_string(i);
        const std::string user = "user" + std::to_string((c + i) % 8);
        auto r = conn->Roundtrip(serve_testing::PostJson("/v1/fraud/decide", TxnJson(id, user, 20 + i % 50)));
        if (!r.ok()) return;  // the server died
        if (r->status != 200) continue;
        std::lock_guard<std::mutex> l(mu);
        acked_per_user[user]++;
        acked_ids.push_back(id);
      }
    });
  }
  while (true) {
    {
      std::lock_guard<std::mutex> l(mu);
      if (acked_ids.size() >= 400) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  server->Kill(SIGKILL);
  stop = true;
  for (auto& t : clients) t.join();

  server = std::make_unique<FraudServer>(example, root / "state", serve_testing::FreeLoopbackPort());
  ASSERT_TRUE(server->WaitReady());
  auto conn = HttpTestClient::Connect(server->port());
  ASSERT_TRUE(conn.ok());
  size_t missing = 0;
  for (const std::string& id : acked_ids) {
    auto r = conn->Roundtrip(serve_testing::Get("/v1/fraud/decisions/" + id));
    ASSERT_TRUE(r.ok());
    missing += r->status != 200;
  }
  EXPECT_EQ(missing, 0u) << "decisions a client received are missing from the audit trail";
  // A new transaction per user reads features before its own event: the
  // 24h count must be at least what was acknowledged for that user (events
  // applied but unacknowledged when the server died may add to it).
  for (const auto& [user, n] : acked_per_user) {
    auto r = conn->Roundtrip(serve_testing::PostJson("/v1/fraud/decide", TxnJson("probe-" + user, user, 10)));
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200) << r->body;
    auto d = conn->Roundtrip(serve_testing::Get("/v1/fraud/decisions/probe-" + user));
    ASSERT_TRUE(d.ok() && d->status == 200);
    auto detail = nlohmann::json::parse(d->body);
    ASSERT_FALSE(detail["features"]["user_count_24h"].is_null()) << user;
    EXPECT_GE(detail["features"]["user_count_24h"].get<int>(), n) << user;
  }
  // The same port serves the Prometheus metrics of the fraud route and of
  // the models it ran inline (the example's configs have no dynamic batching).
  auto metrics = conn->Roundtrip(serve_testing::Get("/metrics"));
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("hotpath_fraud_decisions_total{decision=\"allow\"}"), std::string::npos);
  EXPECT_NE(metrics->body.find("hotpath_fraud_model_duration_seconds_count{model=\"fraud_xgb\",version=\"1\"}"),
            std::string::npos);
  EXPECT_NE(metrics->body.find("hotpath_fraud_model_duration_seconds_count{model=\"fraud_mlp\",version=\"1\"}"),
            std::string::npos);
  auto unknown = conn->Roundtrip(serve_testing::Get("/v1/nothing"));
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->status, 404);
  // A duplicate of an acknowledged id is refused after the restart as well.
  auto dup = conn->Roundtrip(serve_testing::PostJson("/v1/fraud/decide", TxnJson(acked_ids[0], "user0", 5)));
  ASSERT_TRUE(dup.ok());
  EXPECT_EQ(dup->status, 409) << dup->body;
  // `hotpath bench` against the same server's KServe endpoint: every answer
  // 200, and the server-side split read from /metrics.
  cli::BenchArgs b;
  b.port = server->port();
  b.model = "fraud_xgb";
  b.concurrency = {2};
  b.duration_ms = 300;
  b.warmup_ms = 50;
  std::ostringstream out, progress;
  ASSERT_TRUE(cli::RunBench(b, out, progress).ok());
  auto step = nlohmann::json::parse(out.str());
  EXPECT_GT(step["throughput_rps"].get<double>(), 0);
  EXPECT_EQ(step["errors"], 0);
  EXPECT_GT(step["by_status"]["200"].get<int>(), 0);
  EXPECT_GT(step["server_compute_us"].get<double>(), 0);
  // The server's history (ticks once a second) holds the bench's inferences.
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  cli::PerfReportArgs pa;
  pa.port = server->port();
  pa.out_dir = (root / "perf").string();
  std::ostringstream report;
  ASSERT_TRUE(cli::RunPerfReport(pa, report).ok());
  auto summary = nlohmann::json::parse(report.str());
  EXPECT_GE(summary["points"].get<int>(), 1);
  EXPECT_GT(summary["mean_throughput_per_s"].get<double>(), 0) << report.str();
  EXPECT_TRUE(fs::exists(root / "perf" / "perf.svg"));
  server->Kill(SIGTERM);
  fs::remove_all(root);
}

}  // namespace
}  // namespace hotpath
