// ParsePolicyConfig / LoadPolicyConfig: the policy file boundary.
#include <limits>

#include "scale/internal/json_fields.h"
#include "scale/policy.h"

namespace hotpath::scale {

namespace {

using internal::BoolField;
using internal::IntField;
using internal::NumberField;
using nlohmann::json;

constexpr double kBig = 1e9;
constexpr int kMaxInt = std::numeric_limits<int>::max();

// Overrides `v` with obj[key] when present; `path` names the object.
Status Num(const json& obj, const std::string& path, const char* key, double lo, double hi,
           double& v) {
  ASSIGN_OR_RETURN(v, NumberField(obj, path, key, lo, hi, &v));
  return OkStatus();
}

Status Int(const json& obj, const std::string& path, const char* key, int lo, int& v) {
  ASSIGN_OR_RETURN(v, IntField(obj, path, key, lo, kMaxInt, &v));
  return OkStatus();
}

Status Bool(const json& obj, const std::string& path, const char* key, bool& v) {
  ASSIGN_OR_RETURN(v, BoolField(obj, path, key, &v));
  return OkStatus();
}

// Calls `fn(section)` when `obj[key]` exists, after checking it is an object.
template <typename Fn>
Status Section(const json& obj, const char* key, Fn fn) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    return OkStatus();
  }
  RETURN_IF_ERROR(internal::RequireObject(*it, key));
  return fn(*it, std::string(key));
}

Status ParseDirection(const json& o, const std::string& p, ScaleDirectionConfig& d) {
  RETURN_IF_ERROR(internal::RejectUnknownKeys(
      o, p, {"stabilization_s", "max_percent", "max_pods", "period_s", "cooldown_s"}));
  RETURN_IF_ERROR(Num(o, p, "stabilization_s", 0, kBig, d.stabilization_s));
  RETURN_IF_ERROR(Num(o, p, "max_percent", 0, kBig, d.max_percent));
  RETURN_IF_ERROR(Int(o, p, "max_pods", 0, d.max_pods));
  RETURN_IF_ERROR(Num(o, p, "period_s", 1e-3, kBig, d.period_s));
  return Num(o, p, "cooldown_s", 0, kBig, d.cooldown_s);
}

Status ParseExtras(const json& doc, PolicyConfig& c) {
  RETURN_IF_ERROR(Section(doc, "scale_up", [&](const json& o, const std::string& p) {
    return ParseDirection(o, p, c.scale_up);
  }));
  RETURN_IF_ERROR(Section(doc, "scale_down", [&](const json& o, const std::string& p) {
    return ParseDirection(o, p, c.scale_down);
  }));
  RETURN_IF_ERROR(Section(doc, "panic", [&](const json& o, const std::string& p) {
    RETURN_IF_ERROR(
        internal::RejectUnknownKeys(o, p, {"enabled", "window_s", "threshold", "hold_s"}));
    RETURN_IF_ERROR(Bool(o, p, "enabled", c.panic.enabled));
    RETURN_IF_ERROR(Num(o, p, "window_s", 1e-3, kBig, c.panic.window_s));
    RETURN_IF_ERROR(Num(o, p, "threshold", 1e-3, kBig, c.panic.threshold));
    return Num(o, p, "hold_s", 0, kBig, c.panic.hold_s);
  }));
  RETURN_IF_ERROR(Section(doc, "predictive", [&](const json& o, const std::string& p) {
    RETURN_IF_ERROR(internal::RejectUnknownKeys(
        o, p, {"enabled", "lead_s", "margin", "use_upper", "forecast_step_s"}));
    RETURN_IF_ERROR(Bool(o, p, "enabled", c.predictive.enabled));
    RETURN_IF_ERROR(Num(o, p, "lead_s", 0, kBig, c.predictive.lead_s));
    RETURN_IF_ERROR(Num(o, p, "margin", 0, 10, c.predictive.margin));
    RETURN_IF_ERROR(Bool(o, p, "use_upper", c.predictive.use_upper));
    return Int(o, p, "forecast_step_s", 1, c.predictive.forecast_step_s);
  }));
  return Section(doc, "spot", [&](const json& o, const std::string& p) {
    RETURN_IF_ERROR(
        internal::RejectUnknownKeys(o, p, {"enabled", "max_share", "risk_budget", "min_saving"}));
    RETURN_IF_ERROR(Bool(o, p, "enabled", c.spot.enabled));
    RETURN_IF_ERROR(Num(o, p, "max_share", 0, 1, c.spot.max_share));
    RETURN_IF_ERROR(Num(o, p, "risk_budget", 0, 1, c.spot.risk_budget));
    return Num(o, p, "min_saving", 0, 1, c.spot.min_saving);
  });
}

Result<PolicyConfig> BasePreset(const json& doc) {
  const std::string fallback = "hotpath";
  ASSIGN_OR_RETURN(std::string base, internal::StringField(doc, "", "base", &fallback));
  if (base == "hotpath") {
    return PolicyConfig::Hotpath();
  }
  if (base == "kubernetes") {
    return PolicyConfig::Kubernetes();
  }
  if (base == "static") {
    return PolicyConfig::StaticPeak();
  }
  return InvalidArgumentError("base: expected \"hotpath\", \"kubernetes\" or \"static\", got \"" +
                              base + "\"");
}

Status ParseMode(const json& doc, PolicyConfig& c) {
  if (!doc.contains("mode")) {
    return OkStatus();
  }
  ASSIGN_OR_RETURN(std::string mode, internal::StringField(doc, "", "mode"));
  if (mode == "static") {
    c.mode = PolicyMode::kStatic;
  } else if (mode == "autoscale") {
    c.mode = PolicyMode::kAutoscale;
  } else {
    return InvalidArgumentError("mode: expected \"static\" or \"autoscale\", got \"" + mode + "\"");
  }
  return OkStatus();
}

Status ParseTop(const json& doc, PolicyConfig& c) {
  ASSIGN_OR_RETURN(c.name, internal::StringField(doc, "", "name", &c.name));
  RETURN_IF_ERROR(ParseMode(doc, c));
  RETURN_IF_ERROR(Int(doc, "", "static_replicas", 0, c.static_replicas));
  RETURN_IF_ERROR(Num(doc, "", "target_utilization", 1e-3, 1, c.target_utilization));
  RETURN_IF_ERROR(Num(doc, "", "tolerance", 0, 1, c.tolerance));
  RETURN_IF_ERROR(Int(doc, "", "min_replicas", 0, c.min_replicas));
  RETURN_IF_ERROR(Int(doc, "", "max_replicas", 1, c.max_replicas));
  RETURN_IF_ERROR(Num(doc, "", "sync_period_s", 1e-3, kBig, c.sync_period_s));
  RETURN_IF_ERROR(Num(doc, "", "metric_window_s", 1e-3, kBig, c.metric_window_s));
  return Num(doc, "", "metrics_lag_s", 0, kBig, c.metrics_lag_s);
}

}  // namespace

Result<PolicyConfig> ParsePolicyConfig(std::string_view json_text) {
  ASSIGN_OR_RETURN(json doc, internal::ParseJsonDocument(json_text, "policy"));
  RETURN_IF_ERROR(internal::RequireObject(doc, "policy"));
  RETURN_IF_ERROR(internal::RejectUnknownKeys(
      doc, "",
      {"base", "name", "mode", "static_replicas", "target_utilization", "tolerance", "min_replicas",
       "max_replicas", "sync_period_s", "metric_window_s", "metrics_lag_s", "scale_up",
       "scale_down", "panic", "predictive", "spot"}));
  ASSIGN_OR_RETURN(PolicyConfig c, BasePreset(doc));
  RETURN_IF_ERROR(ParseTop(doc, c));
  RETURN_IF_ERROR(ParseExtras(doc, c));
  RETURN_IF_ERROR(ValidatePolicyConfig(c));
  return c;
}

Result<PolicyConfig> LoadPolicyConfig(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, internal::ReadTextFile(path));
  return ParsePolicyConfig(text);
}

}  // namespace hotpath::scale
