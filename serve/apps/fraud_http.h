// FraudHttpApp: the fraud application's HTTP API.
//   POST /v1/fraud/decide                 body: a transaction (JSON)
//        200 {decision record} | 400 bad transaction | 409 duplicate id |
//        503 saturated, or the audit trail's server is unreachable (the
//        decision was not recorded; the error names the server)
//   GET  /v1/fraud/decisions/{id}         200 the audit record | 404 | 503
//   GET  /v1/fraud/decisions?from_ms=A&to_ms=B[&limit=N]
//                                         200 {"decisions": [...]} (oldest first) | 503
//   POST /v1/fraud/rules/reload           200 | 400 with file:line:col
#ifndef HOTPATH_SERVE_APPS_FRAUD_HTTP_H_
#define HOTPATH_SERVE_APPS_FRAUD_HTTP_H_

#include <deque>
#include <functional>
#include <string>
#include <thread>

#include "core/thread_annotations.h"
#include "pipeline/audit/audit_log.h"
#include "pipeline/fraud/engine.h"
#include "rules/reloadable_rule_set.h"
#include "serve/http_app.h"

namespace hotpath {

class FraudHttpApp final : public HttpApp {
 public:
  // All borrowed; they must outlive the app. Starts the query thread.
  FraudHttpApp(fraud::FraudEngine* engine, audit::AuditLog* audit, rules::ReloadableRuleSet* rules,
               std::string rules_path);
  // Answers the queries still queued, then stops the query thread.
  ~FraudHttpApp() override;
  FraudHttpApp(const FraudHttpApp&) = delete;
  FraudHttpApp& operator=(const FraudHttpApp&) = delete;
  bool Handle(const HttpAppRequest& request, Respond respond) override;

 private:
  using Query = std::function<HttpAppResponse()>;
  void Decide(const HttpAppRequest& request, Respond respond);
  HttpAppResponse Lookup(const std::string& id) const;
  // `query` is the raw query string; 400 (answered at once) when malformed.
  void Range(std::string_view query, Respond respond);
  HttpAppResponse ReloadRules();
  // Audit-trail reads run on the query thread, never on an HTTP loop: with
  // PostgreSQL they are network round trips (or a reconnect attempt). 503
  // when kMaxQueuedQueries are already waiting.
  void RunQuery(Query query, Respond respond) EXCLUDES(mu_);
  void QueryLoop() EXCLUDES(mu_);

  static constexpr size_t kMaxQueuedQueries = 1024;
  fraud::FraudEngine* engine_;
  audit::AuditLog* audit_;
  rules::ReloadableRuleSet* rules_;
  std::string rules_path_;
  Mutex mu_;
  CondVar cv_;  // queries_ gained one, or stop_
  std::deque<std::pair<Query, Respond>> queries_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread query_thread_;  // QueryLoop
};

}  // namespace hotpath

#endif  // HOTPATH_SERVE_APPS_FRAUD_HTTP_H_
