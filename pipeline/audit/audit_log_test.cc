// The audit trail's contract, run against both backends: SQLite in a temp
// file and PostgreSQL in a private server the test starts (one server for
// the binary, one fresh database per test). PostgreSQL-only behaviour
// (outages, URLs) is in postgres_audit_log_test.cc.
#include "pipeline/audit/audit_log.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cmath>
#include <filesystem>
#include <functional>
#include <future>
#include <set>
#include <thread>

#include "pipeline/audit/internal/postgres_server_process.h"

namespace hotpath::audit {
namespace {

using internal::PostgresServerProcess;

// The PostgreSQL server of this test binary: started on first use, stopped
// when the tests end.
class SharedPostgres : public ::testing::Environment {
 public:
  // The server, or null with the reason it cannot run.
  static PostgresServerProcess* Get(std::string* why) {
    static const Status started = [] {
      if (PostgresServerProcess::FindBinDir().empty())
        return FailedPreconditionError("PostgreSQL is not installed");
      server() = std::make_unique<PostgresServerProcess>(PostgresServerProcess::Options{});
      return server()->Start();
    }();
    *why = started.ToString();
    return started.ok() ? server().get() : nullptr;
  }
  void TearDown() override { server().reset(); }

 private:
  static std::unique_ptr<PostgresServerProcess>& server() {
    static std::unique_ptr<PostgresServerProcess> s;
    return s;
  }
};
::testing::Environment* const kSharedPostgres =
    ::testing::AddGlobalTestEnvironment(new SharedPostgres);

enum class Backend { kSqlite, kPostgres };
const char* Name(Backend b) { return b == Backend::kSqlite ? "sqlite" : "postgresql"; }
void PrintTo(Backend b, std::ostream* os) { *os << Name(b); }

class AuditLogTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    dir_ = std::filesystem::temp_directory_path() /
           ("hotpath_audit_" + std::to_string(::getpid()) + "_" + name.substr(0, name.find('/')));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    if (GetParam() == Backend::kSqlite) {
      options_.location = (dir_ / "audit.db").string();
      return;
    }
    std::string why;
    PostgresServerProcess* server = SharedPostgres::Get(&why);
    if (server == nullptr) GTEST_SKIP() << why;
    static int databases = 0;
    const std::string db = "audit" + std::to_string(++databases);
    ASSERT_TRUE(server->CreateDatabase(db).ok());
    options_.location = server->Url(db);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<AuditLog> Open() {
    auto log = AuditLog::Open(options_);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(*log) : nullptr;
  }

  static AuditRecord Record(int i) {
    return AuditRecord{"tx-" + std::to_string(i),
                       1000 + (i * 7919) % 500,
                       i % 3 ? "allow" : "review",
                       (i % 100) / 100.0 + 1e-9,
                       i,
                       "{\"i\":" + std::to_string(i) + "}"};
  }

  std::filesystem::path dir_;
  AuditLog::Options options_;
};

INSTANTIATE_TEST_SUITE_P(Backends, AuditLogTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& info) { return std::string(Name(info.param)); });

TEST_P(AuditLogTest, FindAndRangeMatchWhatWasWritten) {
  auto log = Open();
  ASSERT_TRUE(log);
  std::vector<AuditRecord> all;
  for (int i = 0; i < 300; ++i) {
    all.push_back(Record(i));
    ASSERT_TRUE(log->AppendSync(Record(i)).ok());
  }
  auto found = log->Find("tx-42");
  ASSERT_TRUE(found.ok() && found->has_value());
  const AuditRecord want = Record(42);
  EXPECT_EQ((*found)->txn_id, want.txn_id);
  EXPECT_EQ((*found)->timestamp_ms, want.timestamp_ms);
  EXPECT_EQ((*found)->decision, "review");
  EXPECT_EQ((*found)->score, want.score);  // exactly: doubles round-trip
  EXPECT_EQ((*found)->latency_us, 42);
  EXPECT_EQ((*found)->detail_json, "{\"i\":42}");
  EXPECT_FALSE((*log->Find("tx-missing")).has_value());
  // Range against a brute-force filter.
  auto range = log->Range(1100, 1200, 1000);
  ASSERT_TRUE(range.ok());
  std::multiset<std::string> want_ids, got_ids;
  for (const auto& r : all) {
    if (r.timestamp_ms >= 1100 && r.timestamp_ms < 1200) want_ids.insert(r.txn_id);
  }
  for (const auto& r : *range) got_ids.insert(r.txn_id);
  EXPECT_EQ(got_ids, want_ids);
  for (size_t i = 1; i < range->size(); ++i) {
    const auto& a = (*range)[i - 1];
    const auto& b = (*range)[i];
    EXPECT_TRUE(a.timestamp_ms < b.timestamp_ms ||
                (a.timestamp_ms == b.timestamp_ms && a.txn_id < b.txn_id));
  }
  EXPECT_EQ(log->Range(0, 5000, 7)->size(), 7u);
  EXPECT_TRUE(log->Range(1200, 1100, 10)->empty());
  EXPECT_TRUE(log->Range(0, 5000, 0)->empty());
  EXPECT_EQ(log->Range(INT64_MIN, INT64_MAX, SIZE_MAX)->size(), 300u);
}

TEST_P(AuditLogTest, RecentIdsAreNewestFirst) {
  auto log = Open();
  ASSERT_TRUE(log);
  for (int i = 0; i < 20; ++i) {
    AuditRecord r = Record(i);
    r.timestamp_ms = 5000 + i;
    ASSERT_TRUE(log->AppendSync(std::move(r)).ok());
  }
  auto ids = log->RecentIds(3);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<std::string>{"tx-19", "tx-18", "tx-17"}));
  EXPECT_EQ(log->RecentIds(1000)->size(), 20u);
}

TEST_P(AuditLogTest, DuplicateIdIsRefusedOthersCommit) {
  auto log = Open();
  ASSERT_TRUE(log);
  ASSERT_TRUE(log->AppendSync(Record(1)).ok());
  Status dup = log->AppendSync(Record(1));
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists) << dup.ToString();
  EXPECT_TRUE(log->AppendSync(Record(2)).ok());
  // Twins queued together (likely one batch): exactly one is stored.
  std::atomic<int> ok{0}, refused{0};
  std::promise<void> both;
  std::atomic<int> left{2};
  for (int k = 0; k < 2; ++k) {
    ASSERT_TRUE(log->Append(Record(3),
                            [&](const Status& s) {
                              (s.ok() ? ok : refused)++;
                              if (--left == 0) both.set_value();
                            })
                    .ok());
  }
  both.get_future().wait();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(refused.load(), 1);
  EXPECT_EQ(log->committed_records(), 3u);
  EXPECT_EQ(log->Range(INT64_MIN, INT64_MAX, 100)->size(), 3u);
}

// before_commit runs before every commit, on the writer thread; when it
// fails, the whole batch fails UNAVAILABLE with its message and nothing of
// it is stored.
TEST_P(AuditLogTest, BeforeCommitRunsFirstAndItsFailureFailsTheBatch) {
  std::atomic<int> calls{0};
  std::atomic<bool> fail{false};
  AuditLog* self = nullptr;
  std::atomic<uint64_t> commits_seen{~0ull};
  options_.before_commit = [&]() -> Status {
    ++calls;
    if (self != nullptr) commits_seen = self->commits();  // not yet counted
    return fail ? UnavailableError("feature log: disk full") : OkStatus();
  };
  auto log = Open();
  ASSERT_TRUE(log);
  self = log.get();
  ASSERT_TRUE(log->AppendSync(Record(1)).ok());
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(commits_seen.load(), 0u);
  fail = true;
  Status s = log->AppendSync(Record(2));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("feature log: disk full"), std::string::npos) << s.ToString();
  EXPECT_FALSE(log->Find("tx-2")->has_value());
  fail = false;
  EXPECT_TRUE(log->AppendSync(Record(2)).ok());  // the retry commits
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(log->committed_records(), 2u);
}

TEST_P(AuditLogTest, ConcurrentAppendsAreGroupCommitted) {
  auto log = Open();
  ASSERT_TRUE(log);
  // Appends from 8 threads that do not wait for each other (as decisions
  // arrive): whatever queues while a commit runs goes into the next one.
  // (Synchronous appends would make the count depend on how the 2 cores
  // interleave the threads with the commits.)
  std::atomic<int> acked{0}, answered{0};
  std::promise<void> all;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 250; ++i) {
        Status s = log->Append(Record(t * 1000 + i), [&](const Status& st) {
          acked += st.ok();
          if (++answered == 2000) all.set_value();
        });
        ASSERT_TRUE(s.ok()) << s.ToString();
      }
    });
  }
  for (auto& t : threads) t.join();
  all.get_future().wait();
  EXPECT_EQ(acked.load(), 2000);
  EXPECT_EQ(log->committed_records(), 2000u);
  EXPECT_LT(log->commits(), 1000u);  // records share commits
  EXPECT_EQ(log->Range(INT64_MIN, INT64_MAX, 10000)->size(), 2000u);
}

// `done` runs only once the record is committed: another connection (a
// second AuditLog on the same trail) already sees it from inside `done`.
TEST_P(AuditLogTest, AcknowledgedRecordIsVisibleToAnotherConnection) {
  auto log = Open();
  auto other = Open();
  ASSERT_TRUE(log && other);
  constexpr int kRecords = 200;
  std::atomic<int> seen{0}, done{0};
  std::promise<void> all;
  for (int i = 0; i < kRecords; ++i) {
    ASSERT_TRUE(log->Append(Record(i),
                            [&, i](const Status& s) {
                              auto found = other->Find("tx-" + std::to_string(i));
                              seen += s.ok() && found.ok() && found->has_value();
                              if (++done == kRecords) all.set_value();
                            })
                    .ok());
  }
  all.get_future().wait();
  EXPECT_EQ(seen.load(), kRecords);
}

// Two replicas append into one trail: every record lands once, an id both
// try is stored by exactly one, and each sees the other's records.
TEST_P(AuditLogTest, TwoWritersShareOneTrail) {
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a && b);
  std::atomic<int> ok{0}, refused{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    AuditLog* log = t % 2 ? b.get() : a.get();
    threads.emplace_back([&, log, t] {
      for (int i = 0; i < 200; ++i) {
        // Threads 0/1 (one per replica) share ids; 2 and 3 have their own.
        const int id = (t < 2 ? 0 : t * 1000) + i;
        const Status s = log->AppendSync(Record(id));
        (s.ok() ? ok : s.code() == StatusCode::kAlreadyExists ? refused : failed)++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(ok.load(), 600);
  EXPECT_EQ(refused.load(), 200);
  EXPECT_EQ(a->committed_records() + b->committed_records(), 600u);
  EXPECT_EQ(a->Range(INT64_MIN, INT64_MAX, 10000)->size(), 600u);
  EXPECT_TRUE(b->Find("tx-2000")->has_value());
  EXPECT_TRUE(a->Find("tx-3000")->has_value());
}

TEST_P(AuditLogTest, RecordsSurviveReopen) {
  {
    auto log = Open();
    ASSERT_TRUE(log);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(log->AppendSync(Record(i)).ok());
  }
  auto log = Open();
  ASSERT_TRUE(log);
  EXPECT_EQ(log->Range(0, 1 << 30, 100)->size(), 10u);
}

// SQLite: with the writer checkpointing once the write-ahead log passes
// wal_limit_bytes, the log file stays near that size however much is
// written; without it (the control) the log grows with every commit. No
// background checkpoint runs here (interval of an hour), so the writer's
// own checkpoints are all that bounds it.
TEST_P(AuditLogTest, WriteAheadLogStaysNearItsLimit) {
  if (GetParam() != Backend::kSqlite) GTEST_SKIP() << "SQLite's write-ahead log";
  auto wal_bytes_after = [&](int64_t limit) {
    options_.location = (dir_ / ("limit" + std::to_string(limit) + ".db")).string();
    options_.checkpoint_interval = std::chrono::hours(1);
    options_.wal_limit_bytes = limit;
    auto log = Open();
    EXPECT_TRUE(log);
    if (!log) return uintmax_t{0};
    for (int i = 0; i < 1500; ++i) {
      AuditRecord r = Record(i);
      r.detail_json = "{\"pad\":\"" + std::string(1200, 'x') + "\"}";
      EXPECT_TRUE(log->AppendSync(std::move(r)).ok());
    }
    EXPECT_EQ(log->Range(INT64_MIN, INT64_MAX, 5000)->size(), 1500u);
    return std::filesystem::file_size(options_.location + "-wal");
  };
  EXPECT_GT(wal_bytes_after(int64_t{1} << 40), uintmax_t{4} << 20);  // >= 1 page per commit
  EXPECT_LT(wal_bytes_after(256 << 10), uintmax_t{512} << 10);
}

TEST_P(AuditLogTest, BadRecordsAreRefusedAtAppend) {
  auto log = Open();
  ASSERT_TRUE(log);
  auto refused = [&](AuditRecord r, const std::string& field) {
    bool called = false;
    const Status s = log->Append(std::move(r), [&](const Status&) { called = true; });
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << field;
    EXPECT_NE(s.message().find(field), std::string::npos) << s.ToString();
    EXPECT_FALSE(called);
  };
  AuditRecord r = Record(1);
  r.txn_id = "";
  refused(r, "txn_id");
  r.txn_id = std::string(257, 'x');
  refused(r, "txn_id");
  r.txn_id = std::string("a\0b", 3);
  refused(r, "txn_id");
  r = Record(1);
  r.detail_json = std::string("{\"x\":\"\0\"}", 10);
  refused(r, "detail_json");
  r.detail_json = "{\"x\":\"\xff\xfe\"}";
  refused(r, "detail_json");
  r.detail_json = "\xe2\x82";  // truncated sequence
  refused(r, "detail_json");
  r.detail_json = "\xed\xa0\x80";  // a surrogate
  refused(r, "detail_json");
  r = Record(1);
  r.decision = "\xc0\xaf";  // overlong
  refused(r, "decision");
  r = Record(1);
  r.score = std::nan("");
  refused(r, "score");
  r.score = INFINITY;
  refused(r, "score");
  EXPECT_EQ(log->committed_records(), 0u);
  // Queries with ids no record can have find nothing.
  for (const std::string& id :
       {std::string(), std::string(300, 'x'), std::string("tx-1\0z", 6), std::string("\xff")}) {
    auto f = log->Find(id);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_FALSE(f->has_value());
  }
}

TEST_P(AuditLogTest, BadOptionsAreRefused) {
  for (auto bad : std::vector<std::function<void(AuditLog::Options*)>>{
           [](AuditLog::Options* o) { o->location.clear(); },
           [](AuditLog::Options* o) { o->max_batch = 0; },
           [](AuditLog::Options* o) { o->max_pending = 0; },
           [](AuditLog::Options* o) { o->checkpoint_interval = std::chrono::milliseconds(0); },
           [](AuditLog::Options* o) { o->connect_timeout = std::chrono::milliseconds(-1); },
           [](AuditLog::Options* o) { o->reconnect_interval = std::chrono::milliseconds(-1); },
           [](AuditLog::Options* o) { o->wal_limit_bytes = 0; }}) {
    AuditLog::Options o = options_;
    bad(&o);
    EXPECT_EQ(AuditLog::Open(o).status().code(), StatusCode::kInvalidArgument);
  }
}

TEST_P(AuditLogTest, ExtremeButValidRecordsRoundTrip) {
  auto log = Open();
  ASSERT_TRUE(log);
  std::vector<AuditRecord> records = {
      {std::string(256, 'i'), INT64_MIN, "block", 0, INT64_MAX, "{}"},
      {"ü-€-𝄞 'quoted' \"double\" \\ $1 ;--", INT64_MAX, "allow", 1, 0, "{\"s\":\"日本語\"}"},
      {"big", 0, "review", 0.5, -1, std::string(2 << 20, 'd')},
      {"empty-detail", -5, "", 5e-324, 1, ""},
  };
  for (const AuditRecord& r : records)
    ASSERT_TRUE(log->AppendSync(r).ok()) << r.txn_id.substr(0, 20);
  for (const AuditRecord& want : records) {
    auto got = log->Find(want.txn_id);
    ASSERT_TRUE(got.ok() && got->has_value()) << want.txn_id.substr(0, 20);
    EXPECT_EQ((*got)->timestamp_ms, want.timestamp_ms);
    EXPECT_EQ((*got)->decision, want.decision);
    EXPECT_EQ((*got)->score, want.score);
    EXPECT_EQ((*got)->latency_us, want.latency_us);
    EXPECT_EQ((*got)->detail_json, want.detail_json);
  }
  EXPECT_EQ(log->Range(INT64_MIN, INT64_MIN + 1, 10)->size(), 1u);
  EXPECT_EQ(log->RecentIds(1)->at(0), records[1].txn_id);
}

// A child process appends and reports every acknowledged id through a pipe;
// it is SIGKILLed mid-stream. Every acknowledged record must be stored.
TEST_P(AuditLogTest, AcknowledgedRecordsSurviveSigkill) {
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
  auto log = Open();
  ASSERT_TRUE(log);
  size_t missing = 0;
  for (int a : acked) {
    auto f = log->Find("tx-" + std::to_string(a));
    ASSERT_TRUE(f.ok());
    missing += !f->has_value();
  }
  EXPECT_GE(acked.size(), 3000u);
  EXPECT_EQ(missing, 0u) << "acknowledged records lost";
}

}  // namespace
}  // namespace hotpath::audit
