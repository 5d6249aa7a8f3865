// PostgresBackend: the audit trail in a PostgreSQL database through libpq,
// for deployments where many replicas write and query one trail. Each batch
// is one multi-row INSERT ... ON CONFLICT (txn_id) DO NOTHING RETURNING
// txn_id: one round trip, one transaction, duplicates told apart by what it
// returns. Connections that break are replaced on the next call (at most one
// attempt per reconnect_interval); while the server is unreachable every
// call fails fast with UNAVAILABLE naming it.
#ifndef HOTPATH_PIPELINE_AUDIT_INTERNAL_POSTGRES_BACKEND_H_
#define HOTPATH_PIPELINE_AUDIT_INTERNAL_POSTGRES_BACKEND_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/thread_annotations.h"
#include "pipeline/audit/internal/audit_backend.h"

struct pg_conn;
struct pg_result;

namespace hotpath::audit::internal {

struct PgResultDeleter {
  void operator()(pg_result* r) const;
};
using PgResult = std::unique_ptr<pg_result, PgResultDeleter>;

// One libpq connection, re-established on demand. Not thread-safe: one
// user at a time.
class PgConnection {
 public:
  // `url`: a libpq connection URL; `server`: its name for messages.
  PgConnection(std::string url, std::string server, std::chrono::milliseconds connect_timeout,
               std::chrono::milliseconds reconnect_interval);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // The connection when it is up; otherwise a new one, unless the last
  // attempt was less than reconnect_interval ago. UNAVAILABLE naming the
  // server (with libpq's reason) when there is none.
  Result<pg_conn*> Get();
  // The status for a statement (`what`) that did not return `expected`
  // (null: libpq could not run it). UNAVAILABLE naming the server when the
  // connection is gone (it is dropped, so the next Get reconnects) or the
  // server is shutting down; INTERNAL with the server's message otherwise.
  Status Failure(const pg_result* result, std::string_view what);

 private:
  void Drop();

  const std::string url_;
  const std::string server_;
  const std::chrono::milliseconds connect_timeout_;
  const std::chrono::milliseconds reconnect_interval_;
  pg_conn* conn_ = nullptr;
  std::chrono::steady_clock::time_point next_attempt_{};
  Status last_error_;  // why conn_ is null
};

class PostgresBackend final : public AuditBackend {
 public:
  // Connects (twice: a writer and a reader) and creates the schema if it is
  // missing (serialised by an advisory lock, so replicas may start
  // together). INVALID_ARGUMENT for a URL libpq cannot parse; UNAVAILABLE
  // naming the server when it cannot be reached; INTERNAL for SQL errors.
  static Result<std::unique_ptr<PostgresBackend>> Open(const AuditLog::Options& options);
  ~PostgresBackend() override = default;

  Status WriteBatch(const std::vector<const AuditRecord*>& records,
                    std::vector<Status>* results) override;
  Result<std::optional<AuditRecord>> Find(const std::string& txn_id) override;
  Result<std::vector<AuditRecord>> Range(int64_t from_ms, int64_t to_ms, size_t limit) override;
  Result<std::vector<std::string>> RecentIds(size_t limit) override;
  const std::string& description() const override { return server_; }

 private:
  PostgresBackend(const AuditLog::Options& options, std::string server);
  // Runs a read-only statement on the reader connection; retried once on a
  // fresh connection when the first attempt lost it.
  Result<PgResult> Query(const char* sql, int num_params, const char* const* params)
      EXCLUDES(reader_mu_);

  const std::string server_;
  PgConnection writer_;  // used by WriteBatch's caller only
  Mutex reader_mu_;
  PgConnection reader_ GUARDED_BY(reader_mu_);
};

}  // namespace hotpath::audit::internal

#endif  // HOTPATH_PIPELINE_AUDIT_INTERNAL_POSTGRES_BACKEND_H_
