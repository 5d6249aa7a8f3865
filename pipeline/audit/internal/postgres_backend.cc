#include "pipeline/audit/internal/postgres_backend.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <unordered_set>

namespace hotpath::audit::internal {
namespace {

constexpr const char* kColumns = "txn_id, timestamp_ms, decision, score, latency_us, detail";
constexpr size_t kColumnsPerRow = 6;
// A statement takes at most 65535 parameters.
constexpr size_t kMaxRowsPerStatement = 65535 / kColumnsPerRow;

// libpq's (multi-line, tab-indented) message as one line.
std::string OneLine(const char* message) {
  std::string m;
  for (const char* p = message ? message : ""; *p != '\0'; ++p) {
    const bool space = *p == '\n' || *p == '\t' || *p == ' ';
    if (!space) {
      m += *p;
    } else if (!m.empty() && m.back() != ' ') {
      m += ' ';
    }
  }
  while (!m.empty() && m.back() == ' ') m.pop_back();
  return m.empty() ? "unknown error" : m;
}

// "postgresql://user@host:port/db" from a connection URL, without the password.
Result<std::string> ServerName(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    std::string m = OneLine(error);
    PQfreemem(error);
    return InvalidArgumentError("audit log: bad PostgreSQL URL: " + m);
  }
  std::string user, host, port, db;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string_view k = o->keyword;
    if (k == "user") user = o->val;
    if (k == "host" || (k == "hostaddr" && host.empty())) host = o->val;
    if (k == "port") port = o->val;
    if (k == "dbname") db = o->val;
  }
  PQconninfoFree(options);
  return "postgresql://" + (user.empty() ? "" : user + "@") + (host.empty() ? "localhost" : host) +
         (port.empty() ? "" : ":" + port) + "/" + db;
}

// An idle connection has nothing to read; data or EOF on it means the server
// ended the session (a shutdown notice, a restart).
bool EndedWhileIdle(const PGconn* c) {
  pollfd p{PQsocket(c), POLLIN, 0};
  return ::poll(&p, 1, 0) != 0;
}

bool IsUnavailable(const PGconn* c, const PGresult* r) {
  if (c == nullptr || PQstatus(c) != CONNECTION_OK || r == nullptr) return true;
  const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  if (state == nullptr) return false;
  // 08: connection exception; 53: insufficient resources (too many
  // connections, disk full); 57P: operator intervention (shutdown, restart).
  const std::string_view s = state;
  return s.starts_with("08") || s.starts_with("53") || s.starts_with("57P");
}

template <typename T>
T ParseNumber(const char* s) {
  T v{};
  std::from_chars(s, s + std::char_traits<char>::length(s), v);
  return v;
}

std::string Text(const PGresult* r, int row, int col) {
  return std::string(PQgetvalue(r, row, col), static_cast<size_t>(PQgetlength(r, row, col)));
}

AuditRecord ReadRow(const PGresult* r, int row) {
  return AuditRecord{Text(r, row, 0),
                     ParseNumber<int64_t>(PQgetvalue(r, row, 1)),
                     Text(r, row, 2),
                     std::strtod(PQgetvalue(r, row, 3), nullptr),
                     ParseNumber<int64_t>(PQgetvalue(r, row, 4)),
                     Text(r, row, 5)};
}

// Decimal text of an integer or a double (shortest round-trip form).
struct Number {
  char text[32];
  template <typename T>
  explicit Number(T v) {
    *std::to_chars(text, text + sizeof(text) - 1, v).ptr = '\0';
  }
};

std::string Limit(size_t limit) { return std::to_string(std::min<size_t>(limit, INT64_MAX)); }

// The multi-row INSERT of `rows`; `params` point into `rows` and `numbers`.
std::string InsertStatement(const std::vector<const AuditRecord*>& rows,
                            std::vector<Number>* numbers, std::vector<const char*>* params) {
  std::string sql = std::string("INSERT INTO decisions (") + kColumns + ") VALUES ";
  numbers->reserve(rows.size() * 3);  // no reallocation: params point into it
  params->reserve(rows.size() * kColumnsPerRow);
  for (size_t i = 0; i < rows.size(); ++i) {
    const AuditRecord& r = *rows[i];
    sql += i ? ",(" : "(";
    for (size_t k = 1; k <= kColumnsPerRow; ++k) {
      sql += '$';
      sql += std::to_string(i * kColumnsPerRow + k);
      sql += k < kColumnsPerRow ? ',' : ')';
    }
    const char* ts = numbers->emplace_back(r.timestamp_ms).text;
    const char* score = numbers->emplace_back(r.score).text;
    const char* latency = numbers->emplace_back(r.latency_us).text;
    params->insert(params->end(), {r.txn_id.c_str(), ts, r.decision.c_str(), score, latency,
                                   r.detail_json.c_str()});
  }
  return sql + " ON CONFLICT (txn_id) DO NOTHING RETURNING txn_id";
}

}  // namespace

void PgResultDeleter::operator()(pg_result* r) const { PQclear(r); }

PgConnection::PgConnection(std::string url, std::string server,
                           std::chrono::milliseconds connect_timeout,
                           std::chrono::milliseconds reconnect_interval)
    : url_(std::move(url)),
      server_(std::move(server)),
      connect_timeout_(connect_timeout),
      reconnect_interval_(reconnect_interval) {}

PgConnection::~PgConnection() { Drop(); }

void PgConnection::Drop() {
  PQfinish(conn_);
  conn_ = nullptr;
}

Result<pg_conn*> PgConnection::Get() {
  if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK && !EndedWhileIdle(conn_)) return conn_;
  if (conn_ != nullptr) {
    last_error_ = UnavailableError("audit trail " + server_ + ": connection lost");
    Drop();
  }
  const auto now = std::chrono::steady_clock::now();
  if (now < next_attempt_) return last_error_;
  next_attempt_ = now + reconnect_interval_;
  // Defaults first: the URL's own parameters (expanded from dbname) win.
  const int64_t timeout_s = std::chrono::ceil<std::chrono::seconds>(connect_timeout_).count();
  const std::string timeout = std::to_string(std::max<int64_t>(2, timeout_s));  // libpq's least
  const char* keys[] = {
      "connect_timeout",     "application_name", "tcp_user_timeout", "keepalives_idle",
      "keepalives_interval", "keepalives_count", "dbname",           nullptr};
  const char* values[] = {timeout.c_str(), "hotpath-audit", "10000", "10", "5", "2",
                          url_.c_str(),    nullptr};
  conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (PQstatus(conn_) != CONNECTION_OK) {
    last_error_ = UnavailableError("audit trail " + server_ +
                                   " is unreachable: " + OneLine(PQerrorMessage(conn_)));
    Drop();
    return last_error_;
  }
  // Notices ("relation already exists, skipping", a shutdown's FATAL while
  // idle) are not for stderr; failures come back as statuses.
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
  return conn_;
}

Status PgConnection::Failure(const pg_result* result, std::string_view what) {
  if (IsUnavailable(conn_, result)) {
    const std::string reason =
        OneLine(result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(conn_));
    Drop();
    last_error_ = UnavailableError("audit trail " + server_ + " is unavailable (" +
                                   std::string(what) + "): " + reason);
    return last_error_;
  }
  return InternalError("audit trail " + server_ + " " + std::string(what) + ": " +
                       OneLine(PQresultErrorMessage(result)));
}

Result<std::unique_ptr<PostgresBackend>> PostgresBackend::Open(const AuditLog::Options& options) {
  if (options.max_batch > kMaxRowsPerStatement) {
    return InvalidArgumentError("audit log: max_batch for PostgreSQL is at most " +
                                std::to_string(kMaxRowsPerStatement) + ", got " +
                                std::to_string(options.max_batch));
  }
  ASSIGN_OR_RETURN(std::string server, ServerName(options.location));
  std::unique_ptr<PostgresBackend> b(new PostgresBackend(options, std::move(server)));
  ASSIGN_OR_RETURN(PGconn * c, b->writer_.Get());
  // One schema creation at a time across replicas (CREATE ... IF NOT EXISTS
  // is not safe against a concurrent twin).
  PgResult r(PQexec(c,
                    "BEGIN; SELECT pg_advisory_xact_lock(7263901); "
                    "CREATE TABLE IF NOT EXISTS decisions (txn_id TEXT PRIMARY KEY, "
                    "timestamp_ms BIGINT NOT NULL, decision TEXT NOT NULL, "
                    "score DOUBLE PRECISION NOT NULL, latency_us BIGINT NOT NULL, "
                    "detail TEXT NOT NULL); "
                    "CREATE INDEX IF NOT EXISTS decisions_by_time "
                    "ON decisions (timestamp_ms, txn_id); COMMIT;"));
  if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
    return b->writer_.Failure(r.get(), "creating the schema");
  }
  MutexLock l(&b->reader_mu_);
  RETURN_IF_ERROR(b->reader_.Get().status());
  return b;
}

PostgresBackend::PostgresBackend(const AuditLog::Options& o, std::string server)
    : server_(std::move(server)),
      writer_(o.location, server_, o.connect_timeout, o.reconnect_interval),
      reader_(o.location, server_, o.connect_timeout, o.reconnect_interval) {}

Status PostgresBackend::WriteBatch(const std::vector<const AuditRecord*>& records,
                                   std::vector<Status>* results) {
  ASSIGN_OR_RETURN(PGconn * c, writer_.Get());
  // Rows in id order: replicas inserting overlapping ids take their locks in
  // the same order, so they cannot deadlock.
  std::vector<const AuditRecord*> sorted = records;
  std::sort(sorted.begin(), sorted.end(),
            [](const AuditRecord* a, const AuditRecord* b) { return a->txn_id < b->txn_id; });
  std::vector<Number> numbers;
  std::vector<const char*> params;
  const std::string sql = InsertStatement(sorted, &numbers, &params);
  // One statement is one transaction: TUPLES_OK means it committed.
  PgResult res(PQexecParams(c, sql.c_str(), static_cast<int>(params.size()), nullptr, params.data(),
                            nullptr, nullptr, 0));
  if (PQresultStatus(res.get()) != PGRES_TUPLES_OK) return writer_.Failure(res.get(), "insert");
  std::unordered_set<std::string_view> inserted;
  for (int row = 0; row < PQntuples(res.get()); ++row) {
    inserted.emplace(PQgetvalue(res.get(), row, 0),
                     static_cast<size_t>(PQgetlength(res.get(), row, 0)));
  }
  for (size_t i = 0; i < records.size(); ++i) {
    if (!inserted.contains(records[i]->txn_id)) {
      (*results)[i] = AlreadyExistsError("transaction '" + records[i]->txn_id +
                                         "' is already in the audit log");
    }
  }
  return OkStatus();
}

Result<PgResult> PostgresBackend::Query(const char* sql, int num_params,
                                        const char* const* params) {
  MutexLock l(&reader_mu_);
  Status failure;
  for (int attempt = 0; attempt < 2; ++attempt) {
    ASSIGN_OR_RETURN(PGconn * c, reader_.Get());
    PgResult r(PQexecParams(c, sql, num_params, nullptr, params, nullptr, nullptr, 0));
    if (PQresultStatus(r.get()) == PGRES_TUPLES_OK) return r;
    failure = reader_.Failure(r.get(), "query");
    if (failure.code() != StatusCode::kUnavailable) break;
  }
  return failure;
}

Result<std::optional<AuditRecord>> PostgresBackend::Find(const std::string& txn_id) {
  const std::string sql = std::string("SELECT ") + kColumns + " FROM decisions WHERE txn_id = $1";
  const char* params[] = {txn_id.c_str()};
  ASSIGN_OR_RETURN(PgResult r, Query(sql.c_str(), 1, params));
  if (PQntuples(r.get()) == 0) return std::optional<AuditRecord>();
  return std::optional<AuditRecord>(ReadRow(r.get(), 0));
}

Result<std::vector<AuditRecord>> PostgresBackend::Range(int64_t from_ms, int64_t to_ms,
                                                        size_t limit) {
  const std::string sql = std::string("SELECT ") + kColumns +
                          " FROM decisions WHERE timestamp_ms >= $1 AND timestamp_ms < $2 "
                          "ORDER BY timestamp_ms, txn_id LIMIT $3";
  const Number from(from_ms), to(to_ms);
  const std::string n = Limit(limit);
  const char* params[] = {from.text, to.text, n.c_str()};
  ASSIGN_OR_RETURN(PgResult r, Query(sql.c_str(), 3, params));
  std::vector<AuditRecord> out;
  out.reserve(static_cast<size_t>(PQntuples(r.get())));
  for (int row = 0; row < PQntuples(r.get()); ++row) out.push_back(ReadRow(r.get(), row));
  return out;
}

Result<std::vector<std::string>> PostgresBackend::RecentIds(size_t limit) {
  const std::string n = Limit(limit);
  const char* params[] = {n.c_str()};
  ASSIGN_OR_RETURN(
      PgResult r,
      Query("SELECT txn_id FROM decisions ORDER BY timestamp_ms DESC LIMIT $1", 1, params));
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(PQntuples(r.get())));
  for (int row = 0; row < PQntuples(r.get()); ++row) out.push_back(Text(r.get(), row, 0));
  return out;
}

}  // namespace hotpath::audit::internal
