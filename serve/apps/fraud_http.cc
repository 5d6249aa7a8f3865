#include "serve/apps/fraud_http.h"

#include <charconv>

#include <nlohmann/json.hpp>

#include "serve/internal/http_response.h"

namespace hotpath {
namespace {

using serve_internal::HttpStatusFor;

// The value of `key` in a query string, empty when absent.
std::string_view QueryParam(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    if (kv.size() > key.size() && kv.substr(0, key.size()) == key && kv[key.size()] == '=') {
      return kv.substr(key.size() + 1);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

bool ParseInt(std::string_view s, int64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

FraudHttpApp::FraudHttpApp(fraud::FraudEngine* engine, audit::AuditLog* audit, rules::ReloadableRuleSet* rules,
                           std::string rules_path)
    : engine_(engine), audit_(audit), rules_(rules), rules_path_(std::move(rules_path)) {
  query_thread_ = std::thread([this] { QueryLoop(); });
}

FraudHttpApp::~FraudHttpApp() {
  {
    MutexLock l(&mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  query_thread_.join();
}

void FraudHttpApp::RunQuery(Query query, Respond respond) {
  {
    MutexLock l(&mu_);
    if (queries_.size() >= kMaxQueuedQueries) {
      return respond(JsonError(503, "too many audit-trail queries waiting (" + std::to_string(kMaxQueuedQueries) + ")"));
    }
    queries_.emplace_back(std::move(query), std::move(respond));
  }
  cv_.Signal();
}

void FraudHttpApp::QueryLoop() {
  MutexLock l(&mu_);
  for (;;) {
    while (!stop_ && queries_.empty()) cv_.Wait(&mu_);
    if (queries_.empty()) return;  // stopping and drained
    auto [query, respond] = std::move(queries_.front());
    queries_.pop_front();
    mu_.Unlock();
    respond(query());
    mu_.Lock();
  }
}

bool FraudHttpApp::Handle(const HttpAppRequest& r, Respond respond) {
  constexpr std::string_view kDecisions = "/v1/fraud/decisions";
  if (r.path == "/v1/fraud/decide") {
    if (r.method != "POST") {
      respond(JsonError(405, "use POST for /v1/fraud/decide"));
    } else {
      Decide(r, std::move(respond));
    }
    return true;
  }
  if (r.path == "/v1/fraud/rules/reload") {
    respond(r.method == "POST" ? ReloadRules() : JsonError(405, "use POST for /v1/fraud/rules/reload"));
    return true;
  }
  if (r.path.substr(0, kDecisions.size()) == kDecisions) {
    if (r.method != "GET") {
      respond(JsonError(405, "use GET for /v1/fraud/decisions"));
    } else if (r.path.size() == kDecisions.size()) {
      Range(r.query, std::move(respond));
    } else if (r.path[kDecisions.size()] == '/') {
      RunQuery([this, id = std::string(r.path.substr(kDecisions.size() + 1))] { return Lookup(id); },
               std::move(respond));
    } else {
      return false;
    }
    return true;
  }
  return false;
}

void FraudHttpApp::Decide(const HttpAppRequest& r, Respond respond) {
  Result<fraud::Transaction> t = fraud::ParseTransaction(r.body);
  if (!t.ok()) return respond(JsonError(400, t.status().message()));
  engine_->Decide(std::move(*t), [respond = std::move(respond)](const Status& s, const fraud::DecisionRecord& rec) {
    if (!s.ok()) return respond(JsonError(HttpStatusFor(s.code()), s.message()));
    respond({200, "application/json", fraud::ToJson(rec)});
  });
}

HttpAppResponse FraudHttpApp::Lookup(const std::string& id) const {
  Result<std::optional<audit::AuditRecord>> rec = audit_->Find(id);
  if (!rec.ok()) return JsonError(HttpStatusFor(rec.status().code()), rec.status().message());
  if (!rec->has_value()) return JsonError(404, "no decision for transaction '" + id + "'");
  return {200, "application/json", (*rec)->detail_json};
}

void FraudHttpApp::Range(std::string_view query, Respond respond) {
  int64_t from = 0, to = 0, limit = 1000;
  if (!ParseInt(QueryParam(query, "from_ms"), &from) || !ParseInt(QueryParam(query, "to_ms"), &to)) {
    return respond(JsonError(400, "from_ms and to_ms (Unix milliseconds) are required"));
  }
  const std::string_view l = QueryParam(query, "limit");
  if (!l.empty() && (!ParseInt(l, &limit) || limit < 1 || limit > 100000)) {
    return respond(JsonError(400, "limit must be an integer in 1..100000"));
  }
  RunQuery(
      [this, from, to, limit]() -> HttpAppResponse {
        Result<std::vector<audit::AuditRecord>> rows = audit_->Range(from, to, static_cast<size_t>(limit));
        if (!rows.ok()) return JsonError(HttpStatusFor(rows.status().code()), rows.status().message());
        std::string body = "{\"decisions\": [";
        for (size_t i = 0; i < rows->size(); ++i) {
          if (i) body += ',';
          body += (*rows)[i].detail_json;
        }
        body += "]}";
        return {200, "application/json", std::move(body)};
      },
      std::move(respond));
}

HttpAppResponse FraudHttpApp::ReloadRules() {
  Status s = rules_->ReloadFromFile(rules_path_);
  if (!s.ok()) return JsonError(HttpStatusFor(s.code()), s.message());
  return {200, "application/json", "{\"reloaded\": true}"};
}

}  // namespace hotpath
