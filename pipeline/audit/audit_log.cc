#include "pipeline/audit/audit_log.h"

#include <sqlite3.h>

#include <future>

namespace hotpath::audit {
namespace {

Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "unknown error";
    sqlite3_free(err);
    return InternalError(std::string("sqlite: ") + m + " in: " + sql);
  }
  return OkStatus();
}

Result<sqlite3*> OpenDb(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string m = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return InternalError("audit log '" + path + "': " + m);
  }
  sqlite3_busy_timeout(db, 5000);
  return db;
}

// RAII for prepared statements.
struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

AuditRecord ReadRow(sqlite3_stmt* s) {
  auto text = [&](int i) {
    const unsigned char* t = sqlite3_column_text(s, i);
    return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
  };
  return AuditRecord{text(0), sqlite3_column_int64(s, 1), text(2), sqlite3_column_double(s, 3),
                     sqlite3_column_int64(s, 4), text(5)};
}

constexpr const char* kColumns = "txn_id, timestamp_ms, decision, score, latency_us, detail";

}  // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const Options& options) {
  if (options.max_batch == 0 || options.max_pending == 0) {
    return InvalidArgumentError("audit log: max_batch and max_pending must be positive");
  }
  ASSIGN_OR_RETURN(sqlite3 * writer, OpenDb(options.path));
  const char* sync = options.durability == Durability::kMachine ? "PRAGMA synchronous=FULL;"
                                                                 : "PRAGMA synchronous=OFF;";
  // Checkpoints run on their own thread (PASSIVE: never blocking the
  // writer), so a commit never waits for one.
  Status s = Exec(writer, "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;");
  if (s.ok()) s = Exec(writer, sync);
  if (s.ok()) {
    s = Exec(writer,
             "CREATE TABLE IF NOT EXISTS decisions (txn_id TEXT PRIMARY KEY, timestamp_ms INTEGER "
             "NOT NULL, decision TEXT NOT NULL, score REAL NOT NULL, latency_us INTEGER NOT NULL, "
             "detail TEXT NOT NULL);"
             "CREATE INDEX IF NOT EXISTS decisions_by_time ON decisions(timestamp_ms);");
  }
  if (!s.ok()) {
    sqlite3_close(writer);
    return s;
  }
  Result<sqlite3*> reader = OpenDb(options.path);
  if (!reader.ok()) {
    sqlite3_close(writer);
    return reader.status();
  }
  Result<sqlite3*> checkpointer = OpenDb(options.path);
  if (!checkpointer.ok()) {
    sqlite3_close(writer);
    sqlite3_close(*reader);
    return checkpointer.status();
  }
  return std::unique_ptr<AuditLog>(new AuditLog(options, writer, *reader, *checkpointer));
}

AuditLog::AuditLog(const Options& options, sqlite3* writer, sqlite3* reader, sqlite3* checkpointer)
    : options_(options), writer_(writer), reader_(reader), checkpointer_(checkpointer) {
  thread_ = std::thread([this] { WriterLoop(); });
  checkpoint_thread_ = std::thread([this] { CheckpointLoop(); });
}

void AuditLog::CheckpointLoop() {
  MutexLock l(&mu_);
  while (!stop_) {
    checkpoint_cv_.WaitUntil(&mu_, std::chrono::steady_clock::now() + options_.checkpoint_interval);
    if (stop_) break;
    mu_.Unlock();
    sqlite3_wal_checkpoint_v2(checkpointer_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    mu_.Lock();
  }
}

AuditLog::~AuditLog() {
  {
    MutexLock l(&mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  checkpoint_cv_.SignalAll();
  thread_.join();
  checkpoint_thread_.join();
  sqlite3_wal_checkpoint_v2(checkpointer_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  sqlite3_close(checkpointer_);
  sqlite3_close(writer_);
  sqlite3_close(reader_);
}

Status AuditLog::Append(AuditRecord record, Done done) {
  {
    MutexLock l(&mu_);
    if (stop_) return UnavailableError("audit log is closing");
    if (queue_.size() >= options_.max_pending) {
      return UnavailableError("audit log backlog is full (" + std::to_string(options_.max_pending) + " pending)");
    }
    queue_.push_back({std::move(record), std::move(done)});
  }
  cv_.Signal();
  return OkStatus();
}

Status AuditLog::AppendSync(AuditRecord record) {
  std::promise<Status> p;
  auto f = p.get_future();
  RETURN_IF_ERROR(Append(std::move(record), [&p](const Status& s) { p.set_value(s); }));
  return f.get();
}

void AuditLog::WriterLoop() {
  std::vector<Pending> batch;
  for (;;) {
    {
      MutexLock l(&mu_);
      while (!stop_ && queue_.empty()) cv_.Wait(&mu_);
      if (queue_.empty()) return;  // stopping and drained
      const size_t n = std::min(queue_.size(), options_.max_batch);
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.begin() + n));
      queue_.erase(queue_.begin(), queue_.begin() + n);
    }
    CommitBatch(&batch);
    batch.clear();
  }
}

void AuditLog::CommitBatch(std::vector<Pending>* batch) {
  std::vector<Status> results(batch->size());
  Status s = Exec(writer_, "BEGIN;");
  Stmt insert;
  const std::string sql = std::string("INSERT INTO decisions (") + kColumns + ") VALUES (?,?,?,?,?,?);";
  if (s.ok() && sqlite3_prepare_v2(writer_, sql.c_str(), -1, &insert.s, nullptr) != SQLITE_OK) {
    s = InternalError(std::string("sqlite: ") + sqlite3_errmsg(writer_));
  }
  for (size_t i = 0; s.ok() && i < batch->size(); ++i) {
    const AuditRecord& r = (*batch)[i].record;
    sqlite3_reset(insert.s);
    sqlite3_bind_text(insert.s, 1, r.txn_id.data(), static_cast<int>(r.txn_id.size()), SQLITE_STATIC);
    sqlite3_bind_int64(insert.s, 2, r.timestamp_ms);
    sqlite3_bind_text(insert.s, 3, r.decision.data(), static_cast<int>(r.decision.size()), SQLITE_STATIC);
    sqlite3_bind_double(insert.s, 4, r.score);
    sqlite3_bind_int64(insert.s, 5, r.latency_us);
    sqlite3_bind_text(insert.s, 6, r.detail_json.data(), static_cast<int>(r.detail_json.size()), SQLITE_STATIC);
    const int rc = sqlite3_step(insert.s);
    if (rc == SQLITE_CONSTRAINT) {
      results[i] = AlreadyExistsError("transaction '" + r.txn_id + "' is already in the audit log");
    } else if (rc != SQLITE_DONE) {
      s = InternalError(std::string("sqlite insert: ") + sqlite3_errmsg(writer_));
    }
  }
  if (s.ok()) s = Exec(writer_, "COMMIT;");
  if (!s.ok()) Exec(writer_, "ROLLBACK;").IgnoreError();
  size_t committed = 0;
  for (size_t i = 0; i < batch->size(); ++i) {
    if (!s.ok()) results[i] = s;
    if (results[i].ok()) ++committed;
  }
  {
    MutexLock l(&mu_);
    ++commits_;
    committed_ += committed;
  }
  for (size_t i = 0; i < batch->size(); ++i) {
    if ((*batch)[i].done) (*batch)[i].done(results[i]);
  }
}

Result<std::optional<AuditRecord>> AuditLog::Find(const std::string& txn_id) const {
  MutexLock l(&reader_mu_);
  Stmt q;
  const std::string sql = std::string("SELECT ") + kColumns + " FROM decisions WHERE txn_id = ?;";
  if (sqlite3_prepare_v2(reader_, sql.c_str(), -1, &q.s, nullptr) != SQLITE_OK) {
    return InternalError(std::string("sqlite: ") + sqlite3_errmsg(reader_));
  }
  sqlite3_bind_text(q.s, 1, txn_id.data(), static_cast<int>(txn_id.size()), SQLITE_STATIC);
  const int rc = sqlite3_step(q.s);
  if (rc == SQLITE_ROW) return std::optional<AuditRecord>(ReadRow(q.s));
  if (rc == SQLITE_DONE) return std::optional<AuditRecord>();
  return InternalError(std::string("sqlite: ") + sqlite3_errmsg(reader_));
}

Result<std::vector<AuditRecord>> AuditLog::Range(int64_t from_ms, int64_t to_ms, size_t limit) const {
  MutexLock l(&reader_mu_);
  Stmt q;
  const std::string sql = std::string("SELECT ") + kColumns +
                          " FROM decisions WHERE timestamp_ms >= ? AND timestamp_ms < ? "
                          "ORDER BY timestamp_ms, txn_id LIMIT ?;";
  if (sqlite3_prepare_v2(reader_, sql.c_str(), -1, &q.s, nullptr) != SQLITE_OK) {
    return InternalError(std::string("sqlite: ") + sqlite3_errmsg(reader_));
  }
  sqlite3_bind_int64(q.s, 1, from_ms);
  sqlite3_bind_int64(q.s, 2, to_ms);
  sqlite3_bind_int64(q.s, 3, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
  std::vector<AuditRecord> out;
  int rc;
  while ((rc = sqlite3_step(q.s)) == SQLITE_ROW) out.push_back(ReadRow(q.s));
  if (rc != SQLITE_DONE) return InternalError(std::string("sqlite: ") + sqlite3_errmsg(reader_));
  return out;
}

Result<std::vector<std::string>> AuditLog::RecentIds(size_t limit) const {
  MutexLock l(&reader_mu_);
  Stmt q;
  const char* sql = "SELECT txn_id FROM decisions ORDER BY timestamp_ms DESC LIMIT ?;";
  if (sqlite3_prepare_v2(reader_, sql, -1, &q.s, nullptr) != SQLITE_OK) {
    return InternalError(std::string("sqlite: ") + sqlite3_errmsg(reader_));
  }
  sqlite3_bind_int64(q.s, 1, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
  std::vector<std::string> out;
  int rc;
  while ((rc = sqlite3_step(q.s)) == SQLITE_ROW) {
    out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(q.s, 0)));
  }
  if (rc != SQLITE_DONE) return InternalError(std::string("sqlite: ") + sqlite3_errmsg(reader_));
  return out;
}

uint64_t AuditLog::commits() const {
  MutexLock l(&mu_);
  return commits_;
}

uint64_t AuditLog::committed_records() const {
  MutexLock l(&mu_);
  return committed_;
}

}  // namespace hotpath::audit
