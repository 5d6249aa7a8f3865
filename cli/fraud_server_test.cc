// The fraud server end to end, as a separate process: `hotpath serve
// --fraud DIR` is started, fed transactions over HTTP, SIGKILLed while
// clients are mid-stream, and restarted on the same state. Every decision a
// client received must be in the audit trail, and every acknowledged event
// must be in the features (the next transaction of a user sees them all).
// Then two replicas on one PostgreSQL audit trail.
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
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/bench_command.h"
#include "cli/perf_command.h"
#include "features/feature_store.h"
#include "pipeline/audit/internal/postgres_server_process.h"
#include "pipeline/fraud/transaction.h"
#include "serve/testing/http_test_client.h"

namespace hotpath {
namespace {

namespace fs = std::filesystem;
using serve_testing::HttpTestClient;

class FraudServer {
 public:
  // `hotpath serve --fraud fraud_dir --state state` on `port`, plus `extra` flags.
  FraudServer(const fs::path& fraud_dir, const fs::path& state, int port, std::vector<std::string> extra = {})
      : port_(port) {
    std::vector<std::string> args = {"hotpath",      "serve",       "--fraud",    fraud_dir.string(),
                                     "--state",      state.string(), "--http-port", std::to_string(port),
                                     "--grpc-port",  "-1",          "--http-loops", "1",
                                     "--poll-ms",    "0",           "--load",     "fraud_xgb"};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = fork();
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(HOTPATH_BINARY, argv.data());
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

// A small trained example under `root`.
void MakeExample(const fs::path& example) {
  ASSERT_EQ(0, std::system((std::string(HOTPATH_MAKE_FRAUD_EXAMPLE) + " " + HOTPATH_SOURCE_DIR +
                            "/examples/fraud " + example.string() + " 20000 2>/dev/null").c_str()));
}

TEST(FraudServerTest, SigkillLosesNoDecisionAndNoEvent) {
  const fs::path root = fs::temp_directory_path() / ("hotpath_fraud_server_" + std::to_string(::getpid()));
  fs::remove_all(root);
  const fs::path example = root / "example";
  MakeExample(example);
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

// Two replicas of the real binary on one PostgreSQL trail (`--audit
// postgresql://...`): a decision made by one is found through the other, an
// id decided by one is a duplicate (409) at the other, and while the
// database is down decisions and lookups answer 503 naming the server (never
// an unrecorded 200); once it is back, the client's retry is decided.
TEST(FraudServerTest, ReplicasShareAPostgresTrail) {
  if (audit::internal::PostgresServerProcess::FindBinDir().empty()) GTEST_SKIP() << "PostgreSQL is not installed";
  audit::internal::PostgresServerProcess pg({});
  ASSERT_TRUE(pg.Start().ok());
  ASSERT_TRUE(pg.CreateDatabase("fraud").ok());
  const fs::path root = fs::temp_directory_path() / ("hotpath_fraud_replicas_" + std::to_string(::getpid()));
  fs::remove_all(root);
  const fs::path example = root / "example";
  MakeExample(example);
  const std::vector<std::string> audit = {"--audit", pg.Url("fraud")};
  FraudServer a(example, root / "a", serve_testing::FreeLoopbackPort(), audit);
  FraudServer b(example, root / "b", serve_testing::FreeLoopbackPort(), audit);
  ASSERT_TRUE(a.WaitReady());
  ASSERT_TRUE(b.WaitReady());
  auto to_a = HttpTestClient::Connect(a.port());
  auto to_b = HttpTestClient::Connect(b.port());
  ASSERT_TRUE(to_a.ok() && to_b.ok());
  auto decided = to_a->Roundtrip(serve_testing::PostJson("/v1/fraud/decide", TxnJson("r-1", "ann", 42)));
  ASSERT_TRUE(decided.ok());
  ASSERT_EQ(decided->status, 200) << decided->body;
  auto found = to_b->Roundtrip(serve_testing::Get("/v1/fraud/decisions/r-1"));
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->status, 200) << found->body;
  EXPECT_EQ(nlohmann::json::parse(found->body)["decision"], nlohmann::json::parse(decided->body)["decision"]);
  auto twin = to_b->Roundtrip(serve_testing::PostJson("/v1/fraud/decide", TxnJson("r-1", "ann", 42)));
  ASSERT_TRUE(twin.ok());
  EXPECT_EQ(twin->status, 409) << twin->body;

  pg.Stop();
  const std::string r2 = TxnJson("r-2", "bob", 7);  // a retry resends the same transaction
  auto down = to_a->Roundtrip(serve_testing::PostJson("/v1/fraud/decide", r2));
  ASSERT_TRUE(down.ok());
  EXPECT_EQ(down->status, 503) << down->body;
  EXPECT_NE(down->body.find("postgresql://hotpath@127.0.0.1:" + std::to_string(pg.port()) + "/fraud"),
            std::string::npos)
      << down->body;
  auto lookup = to_b->Roundtrip(serve_testing::Get("/v1/fraud/decisions/r-1"));
  ASSERT_TRUE(lookup.ok());
  EXPECT_EQ(lookup->status, 503) << lookup->body;

  ASSERT_TRUE(pg.Start().ok());
  int status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {  // reconnects within its interval (500 ms)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto retry = to_a->Roundtrip(serve_testing::PostJson("/v1/fraud/decide", r2));
    ASSERT_TRUE(retry.ok());
    status = retry->status;
  }
  EXPECT_EQ(status, 200);
  int found_status = 0;  // the other replica reconnects within its own interval
  for (int i = 0; i < 100 && found_status != 200; ++i) {
    auto both = to_b->Roundtrip(serve_testing::Get("/v1/fraud/decisions/r-2"));
    ASSERT_TRUE(both.ok());
    found_status = both->status;
    if (found_status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(found_status, 200);
  a.Kill(SIGTERM);
  b.Kill(SIGTERM);
  fs::remove_all(root);
}

}  // namespace
}  // namespace hotpath
