// AuditLog: the durable, queryable record of every decision, on local disk
// (SQLite, WAL mode). Appends are group-committed by one writer thread: while
// one batch is being written, the next accumulates, so a busy server pays one
// commit per batch, not per decision, and an idle one adds no waiting.
//
// Durability (Options::durability):
//  - kProcess: a record is acknowledged once written to the database file
//    through the OS (survives a crash or SIGKILL of hotpath; not power loss).
//  - kMachine: also fsync'ed before the acknowledgement (survives power loss;
//    costs one fsync per batch — ~5 ms on the benchmark VM's disk).
#ifndef HOTPATH_PIPELINE_AUDIT_AUDIT_LOG_H_
#define HOTPATH_PIPELINE_AUDIT_AUDIT_LOG_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "core/thread_annotations.h"

struct sqlite3;

namespace hotpath::audit {

struct AuditRecord {
  std::string txn_id;        // unique; a second record with the same id is refused
  int64_t timestamp_ms = 0;  // the event's time (Unix ms), for range queries
  std::string decision;      // "allow" | "review" | "block"
  double score = 0;          // risk score in [0, 1]
  int64_t latency_us = 0;    // server-side decision latency
  std::string detail_json;   // inputs, features, fired rules, model scores/versions, reasons
};

class AuditLog {
 public:
  enum class Durability { kProcess, kMachine };
  struct Options {
    std::string path;                 // SQLite database file, created if missing
    Durability durability = Durability::kProcess;
    size_t max_batch = 1024;          // records per commit at most
    size_t max_pending = 100000;      // Append beyond this fails with UNAVAILABLE
    // How often a background thread moves the write-ahead log into the
    // database (a passive checkpoint: it never blocks commits).
    std::chrono::milliseconds checkpoint_interval{1000};
  };

  // Opens (creating the schema if needed). INTERNAL naming the path on failure.
  static Result<std::unique_ptr<AuditLog>> Open(const Options& options);
  // Commits everything pending, then closes.
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  using Done = std::function<void(const Status&)>;
  // Queues `record`; `done` runs on the writer thread once the record is
  // durable (OK), refused (ALREADY_EXISTS for a duplicate txn_id) or failed.
  // UNAVAILABLE (and `done` is not called) when max_pending are queued.
  // Thread-safe.
  Status Append(AuditRecord record, Done done);
  // Append and wait for durability.
  Status AppendSync(AuditRecord record);

  // The record of a transaction, or nullopt. Thread-safe (own connection).
  Result<std::optional<AuditRecord>> Find(const std::string& txn_id) const;
  // Records with from_ms <= timestamp_ms < to_ms, oldest first, at most `limit`.
  Result<std::vector<AuditRecord>> Range(int64_t from_ms, int64_t to_ms, size_t limit) const;

  // The ids of the `limit` most recent records (by timestamp), newest first.
  Result<std::vector<std::string>> RecentIds(size_t limit) const;

  // Commits so far and records per commit (for reports and tests).
  uint64_t commits() const;
  uint64_t committed_records() const;

 private:
  struct Pending {
    AuditRecord record;
    Done done;
  };
  AuditLog(const Options& options, sqlite3* writer, sqlite3* reader, sqlite3* checkpointer);
  void WriterLoop() EXCLUDES(mu_);
  void CheckpointLoop() EXCLUDES(mu_);
  void CommitBatch(std::vector<Pending>* batch);

  const Options options_;
  sqlite3* writer_;  // used by the writer thread only
  sqlite3* reader_;  // guarded by reader_mu_
  mutable Mutex reader_mu_;
  mutable Mutex mu_;
  CondVar cv_;  // queue_ gained a record, or stop_
  std::vector<Pending> queue_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  uint64_t commits_ GUARDED_BY(mu_) = 0;
  uint64_t committed_ GUARDED_BY(mu_) = 0;
  std::thread thread_;
  sqlite3* checkpointer_;  // used by checkpoint_thread_ only
  CondVar checkpoint_cv_;  // stop_
  std::thread checkpoint_thread_;
};

}  // namespace hotpath::audit

#endif  // HOTPATH_PIPELINE_AUDIT_AUDIT_LOG_H_
