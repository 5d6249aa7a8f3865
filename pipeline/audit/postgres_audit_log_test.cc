// The PostgreSQL trail when its server misbehaves: unreachable at start,
// stopped under load, restarted; and the URL forms. Each test starts its own
// server (it stops and restarts it). The contract shared with SQLite is in
// audit_log_test.cc.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "pipeline/audit/audit_log.h"
#include "pipeline/audit/internal/postgres_server_process.h"

namespace hotpath::audit {
namespace {

using internal::PostgresServerProcess;

class PostgresAuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (PostgresServerProcess::FindBinDir().empty()) GTEST_SKIP() << "PostgreSQL is not installed";
    const Status started = server_.Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    ASSERT_TRUE(server_.CreateDatabase("audit").ok());
    options_.location = server_.Url("audit");
    options_.reconnect_interval = std::chrono::milliseconds(50);
  }

  static AuditRecord Record(int i) {
    return AuditRecord{"tx-" + std::to_string(i), 1000 + i, "allow", 0.25, 10, "{}"};
  }

  PostgresServerProcess server_{PostgresServerProcess::Options{}};
  AuditLog::Options options_;
};

TEST_F(PostgresAuditLogTest, UnreachableServerIsUnavailableNamingIt) {
  server_.Stop();
  auto log = AuditLog::Open(options_);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kUnavailable);
  const std::string server = "hotpath@127.0.0.1:" + std::to_string(server_.port()) + "/audit";
  EXPECT_NE(log.status().message().find(server), std::string::npos) << log.status().ToString();
}

TEST_F(PostgresAuditLogTest, StoppedServerFailsAppendsThenRecoversAfterRestart) {
  auto opened = AuditLog::Open(options_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  AuditLog& log = **opened;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(log.AppendSync(Record(i)).ok());

  server_.Stop();
  const std::string server = "127.0.0.1:" + std::to_string(server_.port());
  for (int i = 10; i < 15; ++i) {
    const Status s = log.AppendSync(Record(i));
    EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
    EXPECT_NE(s.message().find(server), std::string::npos) << s.ToString();
  }
  auto found = log.Find("tx-1");
  EXPECT_EQ(found.status().code(), StatusCode::kUnavailable) << found.status().ToString();
  EXPECT_EQ(log.Range(0, 5000, 10).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(log.RecentIds(10).status().code(), StatusCode::kUnavailable);

  ASSERT_TRUE(server_.Start().ok());
  // The next attempt after reconnect_interval connects again.
  Status s = UnavailableError("not tried");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int id = 100;
  while (!s.ok() && std::chrono::steady_clock::now() < deadline) {
    s = log.AppendSync(Record(id++));
    if (!s.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(s.ok()) << s.ToString();
  for (int i = 10; i < 15; ++i) ASSERT_TRUE(log.AppendSync(Record(i)).ok());  // the retries land
  auto all = log.Range(0, 5000, 1000);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->size(), 16u);
  EXPECT_TRUE(log.Find("tx-3")->has_value());
}

// Appends racing a shutdown: each one is acknowledged OK (and then stored)
// or failed with UNAVAILABLE; none vanishes.
TEST_F(PostgresAuditLogTest, NoAcknowledgedRecordIsLostAcrossAnOutage) {
  auto opened = AuditLog::Open(options_);
  ASSERT_TRUE(opened.ok());
  AuditLog& log = **opened;
  std::atomic<bool> stop{false};
  std::atomic<int> next{0}, other_errors{0};
  std::vector<int> acked[4];
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      while (!stop) {
        const int id = next++;
        const Status s = log.AppendSync(Record(id));
        if (s.ok()) acked[t].push_back(id);
        other_errors += !s.ok() && s.code() != StatusCode::kUnavailable;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  server_.Stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_TRUE(server_.Start().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(other_errors.load(), 0);
  size_t total = 0, missing = 0;
  for (const auto& ids : acked) {
    for (int id : ids) {
      auto f = log.Find("tx-" + std::to_string(id));
      ASSERT_TRUE(f.ok()) << f.status().ToString();
      missing += !f->has_value();
      ++total;
    }
  }
  EXPECT_GT(total, 0u);
  EXPECT_EQ(missing, 0u);
}

TEST_F(PostgresAuditLogTest, UrlFormsAndPasswordsStayOutOfMessages) {
  AuditLog::Options o = options_;
  o.location = "postgres://hotpath:s3cret@127.0.0.1:" + std::to_string(server_.port()) +
               "/audit?application_name=x";
  auto log = AuditLog::Open(o);  // trust authentication ignores the password
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ((*log)->description(),
            "postgresql://hotpath@127.0.0.1:" + std::to_string(server_.port()) + "/audit");
  server_.Stop();
  const Status s = (*log)->AppendSync(Record(1));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message().find("s3cret"), std::string::npos) << s.ToString();

  o.max_batch = 20000;  // 6 parameters a row; a statement takes 65535
  EXPECT_EQ(AuditLog::Open(o).status().code(), StatusCode::kInvalidArgument);
  o.max_batch = 1024;
  o.location = "postgresql://[::1";
  EXPECT_EQ(AuditLog::Open(o).status().code(), StatusCode::kInvalidArgument);
  o.location = "postgresql://127.0.0.1/db?no_such_parameter=1";
  EXPECT_EQ(AuditLog::Open(o).status().code(), StatusCode::kInvalidArgument);
}

// Replicas starting together create the schema once, without errors.
TEST_F(PostgresAuditLogTest, ConcurrentOpensCreateTheSchemaOnce) {
  ASSERT_TRUE(server_.CreateDatabase("fresh").ok());
  AuditLog::Options o = options_;
  o.location = server_.Url("fresh");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] { failures += !AuditLog::Open(o).ok(); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace hotpath::audit
