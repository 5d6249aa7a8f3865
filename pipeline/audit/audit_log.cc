#include "pipeline/audit/audit_log.h"

#include <cmath>
#include <future>
#include <unordered_set>

#include "pipeline/audit/internal/audit_backend.h"
#include "pipeline/audit/internal/postgres_backend.h"
#include "pipeline/audit/internal/sqlite_backend.h"

namespace hotpath::audit {
namespace {

constexpr size_t kMaxIdBytes = 256;

// True when `s` is well-formed UTF-8 without NUL bytes (what PostgreSQL's
// text type accepts; SQLite is held to the same so both trails agree).
bool IsStorableText(std::string_view s) {
  static constexpr uint32_t kMinCodePoint[] = {0, 0x80, 0x800, 0x10000};  // by continuation bytes
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n;  // continuation bytes
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    for (size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < kMinCodePoint[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

bool IsStorableId(std::string_view id) {
  return !id.empty() && id.size() <= kMaxIdBytes && IsStorableText(id);
}

Status Validate(const AuditRecord& r) {
  if (r.txn_id.empty() || r.txn_id.size() > kMaxIdBytes) {
    return InvalidArgumentError("audit record: txn_id must be 1.." + std::to_string(kMaxIdBytes) +
                                " bytes, got " + std::to_string(r.txn_id.size()));
  }
  const std::pair<const char*, const std::string*> texts[] = {
      {"txn_id", &r.txn_id}, {"decision", &r.decision}, {"detail_json", &r.detail_json}};
  for (const auto& [field, text] : texts) {
    if (!IsStorableText(*text)) {
      return InvalidArgumentError(std::string("audit record: ") + field +
                                  " is not UTF-8 text without NUL bytes");
    }
  }
  if (!std::isfinite(r.score)) return InvalidArgumentError("audit record: score is not finite");
  return OkStatus();
}

bool IsPostgresUrl(const std::string& location) {
  return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0;
}

}  // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const Options& options) {
  if (options.location.empty()) return InvalidArgumentError("audit log: location is empty");
  if (options.max_batch == 0 || options.max_pending == 0) {
    return InvalidArgumentError("audit log: max_batch and max_pending must be positive");
  }
  if (options.checkpoint_interval.count() <= 0 || options.connect_timeout.count() <= 0 ||
      options.reconnect_interval.count() < 0) {
    return InvalidArgumentError(
        "audit log: checkpoint_interval and connect_timeout must be positive, "
        "reconnect_interval not negative");
  }
  if (options.wal_limit_bytes <= 0) return InvalidArgumentError("audit log: wal_limit_bytes must be positive");
  std::unique_ptr<internal::AuditBackend> backend;
  if (IsPostgresUrl(options.location)) {
    ASSIGN_OR_RETURN(backend, internal::PostgresBackend::Open(options));
  } else {
    ASSIGN_OR_RETURN(backend, internal::SqliteBackend::Open(options));
  }
  return std::unique_ptr<AuditLog>(new AuditLog(options, std::move(backend)));
}

AuditLog::AuditLog(const Options& options, std::unique_ptr<internal::AuditBackend> backend)
    : options_(options), backend_(std::move(backend)) {
  thread_ = std::thread([this] { WriterLoop(); });
}

AuditLog::~AuditLog() {
  {
    MutexLock l(&mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  thread_.join();
}

Status AuditLog::Append(AuditRecord record, Done done) {
  RETURN_IF_ERROR(Validate(record));
  {
    MutexLock l(&mu_);
    if (stop_) return UnavailableError("audit log is closing");
    if (queue_.size() >= options_.max_pending) {
      return UnavailableError("audit log backlog is full (" + std::to_string(options_.max_pending) +
                              " pending)");
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
      batch.assign(std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.begin() + n));
      queue_.erase(queue_.begin(), queue_.begin() + n);
    }
    CommitBatch(&batch);
    batch.clear();
  }
}

void AuditLog::CommitBatch(std::vector<Pending>* batch) {
  // A repeated id within the batch is refused here; the backend sees distinct ids.
  std::vector<Status> results(batch->size());
  std::vector<const AuditRecord*> records;
  std::vector<size_t> index;  // records[k] is (*batch)[index[k]]
  std::unordered_set<std::string_view> ids;
  for (size_t i = 0; i < batch->size(); ++i) {
    const AuditRecord& r = (*batch)[i].record;
    if (!ids.insert(r.txn_id).second) {
      results[i] = AlreadyExistsError("transaction '" + r.txn_id + "' is already in the audit log");
      continue;
    }
    records.push_back(&r);
    index.push_back(i);
  }
  std::vector<Status> written(records.size());
  Status s = options_.before_commit ? options_.before_commit() : OkStatus();
  if (!s.ok()) {
    s = UnavailableError("audit log: before commit: " + s.message());
  } else {
    s = backend_->WriteBatch(records, &written);
  }
  size_t committed = 0;
  for (size_t k = 0; k < records.size(); ++k) {
    results[index[k]] = s.ok() ? written[k] : s;
    committed += s.ok() && written[k].ok();
  }
  {
    MutexLock l(&mu_);
    commits_ += s.ok();
    committed_ += committed;
  }
  for (size_t i = 0; i < batch->size(); ++i) {
    if ((*batch)[i].done) (*batch)[i].done(results[i]);
  }
}

Result<std::optional<AuditRecord>> AuditLog::Find(const std::string& txn_id) const {
  if (!IsStorableId(txn_id)) return std::optional<AuditRecord>();  // no such record can exist
  return backend_->Find(txn_id);
}

Result<std::vector<AuditRecord>> AuditLog::Range(int64_t from_ms, int64_t to_ms,
                                                 size_t limit) const {
  return backend_->Range(from_ms, to_ms, limit);
}

Result<std::vector<std::string>> AuditLog::RecentIds(size_t limit) const {
  return backend_->RecentIds(limit);
}

const std::string& AuditLog::description() const { return backend_->description(); }

uint64_t AuditLog::commits() const {
  MutexLock l(&mu_);
  return commits_;
}

uint64_t AuditLog::committed_records() const {
  MutexLock l(&mu_);
  return committed_;
}

}  // namespace hotpath::audit
