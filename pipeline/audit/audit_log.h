// AuditLog: the durable, queryable record of every decision. Appends are
// group-committed by one writer thread: while one batch is being written, the
// next accumulates, so a busy server pays one commit per batch, not per
// decision, and an idle one adds no waiting.
//
// Where the trail lives is chosen by Options::location:
//  - a file path: SQLite on local disk (WAL mode), the embedded default for
//    one machine;
//  - "postgresql://user[:password]@host[:port]/db[?param=value...]" (or
//    "postgres://..."; libpq's URL syntax): one PostgreSQL database that many
//    replicas write to and query (a shared trail). Each batch is one
//    multi-row INSERT, i.e. one transaction and one round trip.
//
// Durability: `done` of an Append runs with OK only after the record is
// committed. SQLite (Options::durability):
//  - kProcess: written to the database file through the OS (survives a
//    crash or SIGKILL of hotpath; not power loss).
//  - kMachine: also fsync'ed before the acknowledgement (survives power loss;
//    costs one fsync per batch — ~5 ms on the benchmark VM's disk).
// PostgreSQL: the server acknowledged the COMMIT, so it is as durable as the
// server's synchronous_commit makes it (default "on": WAL flushed to disk).
//
// Server outages (PostgreSQL): appends and queries fail with UNAVAILABLE
// naming the server (never a silently dropped record); while it is
// unreachable, batches fail fast, and a new connection is tried at most every
// Options::reconnect_interval, so the trail recovers by itself when the
// server is back. An UNAVAILABLE append whose statement had reached the
// server may still have committed: a retry then answers ALREADY_EXISTS.
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

namespace hotpath::audit {

namespace internal {
class AuditBackend;
}

struct AuditRecord {
  std::string txn_id;        // unique, 1..256 bytes; a second record with the same id is refused
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
    // A SQLite database file (created if missing) or a postgresql:// URL.
    std::string location;
    Durability durability = Durability::kProcess;  // SQLite only (see above)
    size_t max_batch = 1024;                       // records per commit at most
    size_t max_pending = 100000;                   // Append beyond this fails with UNAVAILABLE
    // SQLite: how often a background thread moves the write-ahead log into
    // the database (a passive checkpoint: it never blocks commits).
    std::chrono::milliseconds checkpoint_interval{100};
    // SQLite: once the write-ahead log holds this many bytes, the writer
    // checkpoints what the background thread has not yet moved (between two
    // commits), so the next commit starts the log again from its beginning.
    // Under a steady stream of commits a passive checkpoint never catches up
    // with the last commit, and the log would grow without bound (1 GB in
    // 20 s at 10k decisions/s), every page of it new to the disk.
    int64_t wal_limit_bytes = 32 << 20;
    // PostgreSQL: the limit of one connection attempt, and the least time
    // between attempts while the server is unreachable.
    std::chrono::milliseconds connect_timeout{2000};  // whole seconds, at least 2 (libpq)
    std::chrono::milliseconds reconnect_interval{500};
    // Runs on the writer thread before each batch is committed, e.g. to
    // write a log the records depend on (the fraud engine flushes the
    // feature log here). An error fails every record of the batch with
    // UNAVAILABLE and its message; nothing of the batch is committed.
    std::function<Status()> before_commit;
  };

  // Opens the trail (creating the schema if needed). INVALID_ARGUMENT for bad
  // options; SQLite: INTERNAL naming the path; PostgreSQL: UNAVAILABLE naming
  // the server when it cannot be reached.
  static Result<std::unique_ptr<AuditLog>> Open(const Options& options);
  // Commits everything pending, then closes.
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  using Done = std::function<void(const Status&)>;
  // Queues `record`; `done` runs on the writer thread once the record is
  // durable (OK), refused (ALREADY_EXISTS for a duplicate txn_id, also within
  // one batch) or failed (UNAVAILABLE when the server is unreachable,
  // INTERNAL otherwise). Returns without calling `done`: INVALID_ARGUMENT
  // naming the field for an empty or over-long txn_id, text that is not UTF-8
  // or holds NUL bytes, or a non-finite score; UNAVAILABLE when max_pending
  // are queued or the log is closing. Thread-safe.
  Status Append(AuditRecord record, Done done);
  // Append and wait for the outcome.
  Status AppendSync(AuditRecord record);

  // The record of a transaction, or nullopt. Thread-safe (own connection).
  Result<std::optional<AuditRecord>> Find(const std::string& txn_id) const;
  // Records with from_ms <= timestamp_ms < to_ms, oldest first (ties by id),
  // at most `limit`. Thread-safe.
  Result<std::vector<AuditRecord>> Range(int64_t from_ms, int64_t to_ms, size_t limit) const;
  // The ids of the `limit` most recent records (by timestamp), newest first.
  Result<std::vector<std::string>> RecentIds(size_t limit) const;

  // Where the trail is, for logs: the file path, or the server as
  // "postgresql://user@host:port/db" (no password).
  const std::string& description() const;
  // Commits so far and records committed by them (for reports and tests).
  uint64_t commits() const;
  uint64_t committed_records() const;

 private:
  struct Pending {
    AuditRecord record;
    Done done;
  };
  AuditLog(const Options& options, std::unique_ptr<internal::AuditBackend> backend);
  void WriterLoop() EXCLUDES(mu_);
  void CommitBatch(std::vector<Pending>* batch) EXCLUDES(mu_);

  const Options options_;
  // Written by the writer thread only; its queries are thread-safe.
  const std::unique_ptr<internal::AuditBackend> backend_;
  mutable Mutex mu_;
  CondVar cv_;  // queue_ gained a record, or stop_
  std::vector<Pending> queue_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  uint64_t commits_ GUARDED_BY(mu_) = 0;
  uint64_t committed_ GUARDED_BY(mu_) = 0;
  std::thread thread_;  // WriterLoop
};

}  // namespace hotpath::audit

#endif  // HOTPATH_PIPELINE_AUDIT_AUDIT_LOG_H_
