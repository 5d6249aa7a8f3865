#include "pipeline/audit/audit_log.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

namespace hotpath::audit {
namespace {

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("hotpath_audit_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    options_.path = (dir_ / "audit.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static AuditRecord Record(int i) {
    return AuditRecord{"tx-" + std::to_string(i), 1000 + (i * 7919) % 500, i % 3 ? "allow" : "review",
                       (i % 100) / 100.0, i, "{\"i\":" + std::to_string(i) + "}"};
  }

  std::filesystem::path dir_;
  AuditLog::Options options_;
};

TEST_F(AuditLogTest, FindAndRangeMatchWhatWasWritten) {
  auto log = AuditLog::Open(options_);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  std::vector<AuditRecord> all;
  for (int i = 0; i < 300; ++i) {
    all.push_back(Record(i));
    ASSERT_TRUE((*log)->AppendSync(Record(i)).ok());
  }
  auto found = (*log)->Find("tx-42");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->detail_json, "{\"i\":42}");
  EXPECT_EQ((*found)->decision, "review");
  EXPECT_FALSE((*(*log)->Find("tx-missing")).has_value());
  // Range against a brute-force filter.
  auto range = (*log)->Range(1100, 1200, 1000);
  ASSERT_TRUE(range.ok());
  std::multiset<std::string> want, got;
  for (const auto& r : all) {
    if (r.timestamp_ms >= 1100 && r.timestamp_ms < 1200) want.insert(r.txn_id);
  }
  for (const auto& r : *range) got.insert(r.txn_id);
  EXPECT_EQ(got, want);
  for (size_t i = 1; i < range->size(); ++i) EXPECT_LE((*range)[i - 1].timestamp_ms, (*range)[i].timestamp_ms);
  EXPECT_EQ((*log)->Range(0, 5000, 7)->size(), 7u);
}

TEST_F(AuditLogTest, DuplicateIdIsRefusedOthersCommit) {
  auto log = AuditLog::Open(options_);
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->AppendSync(Record(1)).ok());
  Status dup = (*log)->AppendSync(Record(1));
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE((*log)->AppendSync(Record(2)).ok());
  EXPECT_EQ((*log)->committed_records(), 2u);
}

TEST_F(AuditLogTest, ConcurrentAppendsAreGroupCommitted) {
  auto log = AuditLog::Open(options_);
  ASSERT_TRUE(log.ok());
  std::atomic<int> acked{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 250; ++i) {
        if ((*log)->AppendSync(Record(t * 1000 + i)).ok()) acked++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(acked.load(), 2000);
  EXPECT_EQ((*log)->committed_records(), 2000u);
  EXPECT_LT((*log)->commits(), 2000u);  // several records share a commit
}

TEST_F(AuditLogTest, RecordsSurviveReopen) {
  {
    auto log = AuditLog::Open(options_);
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 10; ++i) ASSERT_TRUE((*log)->AppendSync(Record(i)).ok());
  }
  auto log = AuditLog::Open(options_);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->Range(0, 1 << 30, 100)->size(), 10u);
}

// A child process appends and reports every acknowledged id through a pipe;
// it is SIGKILLed mid-stream. Every acknowledged record must be on disk.
TEST_F(AuditLogTest, AcknowledgedRecordsSurviveSigkill) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    auto log = AuditLog::Open(options_);
    if (!log.ok()) _exit(3);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0;; ++i) {
          const int id = t * 1000000 + i;
          if ((*log)->AppendSync(Record(id)).ok()) {
            if (write(fds[1], &id, sizeof(id)) != sizeof(id)) _exit(4);
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    _exit(0);
  }
  close(fds[1]);
  std::set<int> acked;
  int id;
  while (acked.size() < 3000 && read(fds[0], &id, sizeof(id)) == sizeof(id)) acked.insert(id);
  kill(pid, SIGKILL);
  while (read(fds[0], &id, sizeof(id)) == sizeof(id)) acked.insert(id);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  auto log = AuditLog::Open(options_);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  size_t missing = 0;
  for (int a : acked) {
    auto f = (*log)->Find("tx-" + std::to_string(a));
    ASSERT_TRUE(f.ok());
    missing += !f->has_value();
  }
  EXPECT_GE(acked.size(), 3000u);
  EXPECT_EQ(missing, 0u) << "acknowledged records lost";
}

}  // namespace
}  // namespace hotpath::audit
