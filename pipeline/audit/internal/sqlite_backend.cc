#include "pipeline/audit/internal/sqlite_backend.h"

#include <sqlite3.h>

#include <algorithm>
#include <climits>

namespace hotpath::audit::internal {
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
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
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

Status Prepare(sqlite3* db, const std::string& sql, Stmt* stmt) {
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt->s, nullptr) != SQLITE_OK) {
    return InternalError(std::string("sqlite: ") + sqlite3_errmsg(db));
  }
  return OkStatus();
}

int64_t ClampLimit(size_t limit) {
  return static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX));
}

AuditRecord ReadRow(sqlite3_stmt* s) {
  auto text = [&](int i) {
    const unsigned char* t = sqlite3_column_text(s, i);
    return t ? std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(s, i))
             : std::string();
  };
  return AuditRecord{text(0),
                     sqlite3_column_int64(s, 1),
                     text(2),
                     sqlite3_column_double(s, 3),
                     sqlite3_column_int64(s, 4),
                     text(5)};
}

int64_t PageSize(sqlite3* db) {
  sqlite3_stmt* st = nullptr;
  int64_t size = 4096;
  if (sqlite3_prepare_v2(db, "PRAGMA page_size;", -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
    size = sqlite3_column_int64(st, 0);
  }
  sqlite3_finalize(st);
  return size > 0 ? size : 4096;
}

constexpr const char* kColumns = "txn_id, timestamp_ms, decision, score, latency_us, detail";

}  // namespace

Result<std::unique_ptr<SqliteBackend>> SqliteBackend::Open(const AuditLog::Options& options) {
  ASSIGN_OR_RETURN(sqlite3 * writer, OpenDb(options.location));
  const char* sync = options.durability == AuditLog::Durability::kMachine
                         ? "PRAGMA synchronous=FULL;"
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
  Result<sqlite3*> reader = OpenDb(options.location);
  if (!reader.ok()) {
    sqlite3_close(writer);
    return reader.status();
  }
  Result<sqlite3*> checkpointer = OpenDb(options.location);
  if (!checkpointer.ok()) {
    sqlite3_close(writer);
    sqlite3_close(*reader);
    return checkpointer.status();
  }
  return std::unique_ptr<SqliteBackend>(new SqliteBackend(options, writer, *reader, *checkpointer));
}

SqliteBackend::SqliteBackend(const AuditLog::Options& options, sqlite3* writer, sqlite3* reader,
                             sqlite3* checkpointer)
    : path_(options.location),
      checkpoint_interval_(options.checkpoint_interval),
      wal_limit_pages_(static_cast<int>(std::clamp<int64_t>(options.wal_limit_bytes / PageSize(writer), 1, INT32_MAX))),
      writer_(writer),
      reader_(reader),
      checkpointer_(checkpointer) {
  sqlite3_wal_hook(writer_, &SqliteBackend::AfterCommit, this);
  checkpoint_thread_ = std::thread([this] { CheckpointLoop(); });
}

int SqliteBackend::AfterCommit(void* self, sqlite3* db, const char* name, int pages) {
  if (pages >= static_cast<SqliteBackend*>(self)->wal_limit_pages_) {
    // Moves the frames the background checkpoint has not reached; with no
    // commit in between, the next one restarts the log. SQLITE_BUSY (the
    // background checkpoint is running) retries after the next commit.
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  }
  return SQLITE_OK;
}

SqliteBackend::~SqliteBackend() {
  {
    MutexLock l(&mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  checkpoint_thread_.join();
  for (sqlite3_stmt* st : {begin_, commit_, rollback_, insert_}) sqlite3_finalize(st);
  sqlite3_wal_checkpoint_v2(checkpointer_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  sqlite3_close(checkpointer_);
  sqlite3_close(writer_);
  sqlite3_close(reader_);
}

void SqliteBackend::CheckpointLoop() {
  MutexLock l(&mu_);
  while (!stop_) {
    cv_.WaitUntil(&mu_, std::chrono::steady_clock::now() + checkpoint_interval_);
    if (stop_) break;
    mu_.Unlock();
    sqlite3_wal_checkpoint_v2(checkpointer_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    mu_.Lock();
  }
}

Status SqliteBackend::PrepareWriter() {
  if (insert_ != nullptr) return OkStatus();
  const std::string insert = std::string("INSERT INTO decisions (") + kColumns + ") VALUES (?,?,?,?,?,?);";
  for (auto [sql, st] : {std::pair{"BEGIN;", &begin_}, std::pair{"COMMIT;", &commit_},
                         std::pair{"ROLLBACK;", &rollback_}, std::pair{insert.c_str(), &insert_}}) {
    if (sqlite3_prepare_v2(writer_, sql, -1, st, nullptr) != SQLITE_OK) {
      return InternalError(std::string("sqlite: ") + sqlite3_errmsg(writer_) + " in: " + sql);
    }
  }
  return OkStatus();
}

Status SqliteBackend::WriteBatch(const std::vector<const AuditRecord*>& records,
                                 std::vector<Status>* results) {
  RETURN_IF_ERROR(PrepareWriter());
  // Runs a statement without results; SQLITE_DONE is success.
  auto run = [this](sqlite3_stmt* st) {
    const int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc;
  };
  auto failed = [this](const char* what) {
    return InternalError(std::string("sqlite ") + what + ": " + sqlite3_errmsg(writer_));
  };
  if (run(begin_) != SQLITE_DONE) return failed("begin");
  Status s;
  for (size_t i = 0; s.ok() && i < records.size(); ++i) {
    const AuditRecord& r = *records[i];
    sqlite3_bind_text(insert_, 1, r.txn_id.data(), static_cast<int>(r.txn_id.size()), SQLITE_STATIC);
    sqlite3_bind_int64(insert_, 2, r.timestamp_ms);
    sqlite3_bind_text(insert_, 3, r.decision.data(), static_cast<int>(r.decision.size()), SQLITE_STATIC);
    sqlite3_bind_double(insert_, 4, r.score);
    sqlite3_bind_int64(insert_, 5, r.latency_us);
    sqlite3_bind_text(insert_, 6, r.detail_json.data(), static_cast<int>(r.detail_json.size()), SQLITE_STATIC);
    const int rc = sqlite3_step(insert_);
    if (rc == SQLITE_CONSTRAINT) {
      (*results)[i] = AlreadyExistsError("transaction '" + r.txn_id + "' is already in the audit log");
    } else if (rc != SQLITE_DONE) {
      s = failed("insert");
    }
    sqlite3_reset(insert_);
  }
  sqlite3_clear_bindings(insert_);  // the records' text is not ours to keep
  if (s.ok() && run(commit_) != SQLITE_DONE) s = failed("commit");
  if (!s.ok()) run(rollback_);
  return s;
}

Result<std::optional<AuditRecord>> SqliteBackend::Find(const std::string& txn_id) {
  MutexLock l(&reader_mu_);
  Stmt q;
  RETURN_IF_ERROR(Prepare(
      reader_, std::string("SELECT ") + kColumns + " FROM decisions WHERE txn_id = ?;", &q));
  sqlite3_bind_text(q.s, 1, txn_id.data(), static_cast<int>(txn_id.size()), SQLITE_STATIC);
  const int rc = sqlite3_step(q.s);
  if (rc == SQLITE_ROW) return std::optional<AuditRecord>(ReadRow(q.s));
  if (rc == SQLITE_DONE) return std::optional<AuditRecord>();
  return InternalError(std::string("sqlite: ") + sqlite3_errmsg(reader_));
}

Result<std::vector<AuditRecord>> SqliteBackend::Range(int64_t from_ms, int64_t to_ms,
                                                      size_t limit) {
  MutexLock l(&reader_mu_);
  Stmt q;
  RETURN_IF_ERROR(Prepare(reader_,
                          std::string("SELECT ") + kColumns +
                              " FROM decisions WHERE timestamp_ms >= ? AND timestamp_ms < ? "
                              "ORDER BY timestamp_ms, txn_id LIMIT ?;",
                          &q));
  sqlite3_bind_int64(q.s, 1, from_ms);
  sqlite3_bind_int64(q.s, 2, to_ms);
  sqlite3_bind_int64(q.s, 3, ClampLimit(limit));
  std::vector<AuditRecord> out;
  int rc;
  while ((rc = sqlite3_step(q.s)) == SQLITE_ROW) out.push_back(ReadRow(q.s));
  if (rc != SQLITE_DONE) return InternalError(std::string("sqlite: ") + sqlite3_errmsg(reader_));
  return out;
}

Result<std::vector<std::string>> SqliteBackend::RecentIds(size_t limit) {
  MutexLock l(&reader_mu_);
  Stmt q;
  RETURN_IF_ERROR(
      Prepare(reader_, "SELECT txn_id FROM decisions ORDER BY timestamp_ms DESC LIMIT ?;", &q));
  sqlite3_bind_int64(q.s, 1, ClampLimit(limit));
  std::vector<std::string> out;
  int rc;
  while ((rc = sqlite3_step(q.s)) == SQLITE_ROW) {
    out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(q.s, 0)),
                     sqlite3_column_bytes(q.s, 0));
  }
  if (rc != SQLITE_DONE) return InternalError(std::string("sqlite: ") + sqlite3_errmsg(reader_));
  return out;
}

}  // namespace hotpath::audit::internal
