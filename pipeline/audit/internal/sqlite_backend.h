// SqliteBackend: the audit trail in a local SQLite database file (WAL mode),
// with a background thread that checkpoints the write-ahead log.
#ifndef HOTPATH_PIPELINE_AUDIT_INTERNAL_SQLITE_BACKEND_H_
#define HOTPATH_PIPELINE_AUDIT_INTERNAL_SQLITE_BACKEND_H_

#include <memory>
#include <thread>

#include "core/thread_annotations.h"
#include "pipeline/audit/internal/audit_backend.h"

struct sqlite3;
struct sqlite3_stmt;

namespace hotpath::audit::internal {

class SqliteBackend final : public AuditBackend {
 public:
  // Opens `options.location` (creating the file and schema). INTERNAL
  // naming the path on failure.
  static Result<std::unique_ptr<SqliteBackend>> Open(const AuditLog::Options& options);
  ~SqliteBackend() override;
  SqliteBackend(const SqliteBackend&) = delete;
  SqliteBackend& operator=(const SqliteBackend&) = delete;

  Status WriteBatch(const std::vector<const AuditRecord*>& records,
                    std::vector<Status>* results) override;
  Result<std::optional<AuditRecord>> Find(const std::string& txn_id) override;
  Result<std::vector<AuditRecord>> Range(int64_t from_ms, int64_t to_ms, size_t limit) override;
  Result<std::vector<std::string>> RecentIds(size_t limit) override;
  const std::string& description() const override { return path_; }

 private:
  SqliteBackend(const AuditLog::Options& options, sqlite3* writer, sqlite3* reader,
                sqlite3* checkpointer);
  void CheckpointLoop() EXCLUDES(mu_);
  // Prepares the writer's statements unless done.
  Status PrepareWriter();
  // sqlite3_wal_hook: after each commit of the writer, with the log's size.
  static int AfterCommit(void* self, sqlite3* db, const char* name, int pages);

  const std::string path_;
  const std::chrono::milliseconds checkpoint_interval_;
  const int wal_limit_pages_;  // AuditLog::Options::wal_limit_bytes in pages
  sqlite3* const writer_;        // used by WriteBatch's caller only
  sqlite3* const reader_;        // guarded by reader_mu_
  sqlite3* const checkpointer_;  // used by checkpoint_thread_ only
  // writer_'s statements, prepared at the first batch: BEGIN, COMMIT,
  // ROLLBACK and the INSERT (a batch then parses no SQL).
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
  sqlite3_stmt* rollback_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  Mutex reader_mu_;
  Mutex mu_;
  CondVar cv_;  // stop_
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread checkpoint_thread_;
};

}  // namespace hotpath::audit::internal

#endif  // HOTPATH_PIPELINE_AUDIT_INTERNAL_SQLITE_BACKEND_H_
