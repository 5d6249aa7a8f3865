// FraudHttpApp: the fraud application's HTTP API.
//   POST /v1/fraud/decide                 body: a transaction (JSON)
//        200 {decision record} | 400 bad transaction | 409 duplicate id |
//        503 saturated
//   GET  /v1/fraud/decisions/{id}         200 the audit record | 404
//   GET  /v1/fraud/decisions?from_ms=A&to_ms=B[&limit=N]
//                                         200 {"decisions": [...]} (oldest first)
//   POST /v1/fraud/rules/reload           200 | 400 with file:line:col
#ifndef HOTPATH_SERVE_APPS_FRAUD_HTTP_H_
#define HOTPATH_SERVE_APPS_FRAUD_HTTP_H_

#include <string>

#include "pipeline/audit/audit_log.h"
#include "pipeline/fraud/engine.h"
#include "rules/reloadable_rule_set.h"
#include "serve/http_app.h"

namespace hotpath {

class FraudHttpApp final : public HttpApp {
 public:
  // All borrowed; they must outlive the app.
  FraudHttpApp(fraud::FraudEngine* engine, audit::AuditLog* audit, rules::ReloadableRuleSet* rules,
               std::string rules_path)
      : engine_(engine), audit_(audit), rules_(rules), rules_path_(std::move(rules_path)) {}
  bool Handle(const HttpAppRequest& request, Respond respond) override;

 private:
  void Decide(const HttpAppRequest& request, Respond respond);
  HttpAppResponse Lookup(std::string_view id) const;
  HttpAppResponse Range(std::string_view query) const;
  HttpAppResponse ReloadRules();

  fraud::FraudEngine* engine_;
  audit::AuditLog* audit_;
  rules::ReloadableRuleSet* rules_;
  std::string rules_path_;
};

}  // namespace hotpath

#endif  // HOTPATH_SERVE_APPS_FRAUD_HTTP_H_
