// AuditBackend: the storage under an AuditLog — one transactional batch
// write and three queries. Implementations: SQLite (sqlite_backend.h) and
// PostgreSQL (postgres_backend.h); AuditLog::Open picks one by location.
#ifndef HOTPATH_PIPELINE_AUDIT_INTERNAL_AUDIT_BACKEND_H_
#define HOTPATH_PIPELINE_AUDIT_INTERNAL_AUDIT_BACKEND_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "pipeline/audit/audit_log.h"

namespace hotpath::audit::internal {

class AuditBackend {
 public:
  virtual ~AuditBackend() = default;

  // Writes `records` (validated, distinct txn_ids) in one transaction. OK:
  // the transaction committed, and (*results)[i] says whether records[i] was
  // stored (OK) or refused as a duplicate of a stored id (ALREADY_EXISTS).
  // An error: nothing was acknowledged (UNAVAILABLE when the server cannot be
  // reached; the transaction may still have committed if the connection broke
  // after the statement was sent). Called by one thread at a time.
  virtual Status WriteBatch(const std::vector<const AuditRecord*>& records,
                            std::vector<Status>* results) = 0;

  // AuditLog's queries, same contracts. Thread-safe.
  virtual Result<std::optional<AuditRecord>> Find(const std::string& txn_id) = 0;
  virtual Result<std::vector<AuditRecord>> Range(int64_t from_ms, int64_t to_ms, size_t limit) = 0;
  virtual Result<std::vector<std::string>> RecentIds(size_t limit) = 0;

  // The path or the server (no password), for messages.
  virtual const std::string& description() const = 0;
};

}  // namespace hotpath::audit::internal

#endif  // HOTPATH_PIPELINE_AUDIT_INTERNAL_AUDIT_BACKEND_H_
