#include "serve/apps/scale_http.h"

#include <charconv>
#include <cstdio>

namespace hotpath {
namespace {

const char* ReasonName(scale::ScaleReason r) {
  switch (r) {
    case scale::ScaleReason::kHold: return "hold";
    case scale::ScaleReason::kReactive: return "reactive";
    case scale::ScaleReason::kPanic: return "panic";
    case scale::ScaleReason::kPredictive: return "predictive";
    case scale::ScaleReason::kBounds: return "bounds";
  }
  return "hold";
}

}  // namespace

Result<std::unique_ptr<ScaleHttpApp>> ScaleHttpApp::Create(const scale::PolicyConfig& policy,
                                                           const scale::ReplicaFacts& facts) {
  ASSIGN_OR_RETURN(auto autoscaler, scale::Autoscaler::Create(policy, facts));
  return std::unique_ptr<ScaleHttpApp>(new ScaleHttpApp(std::move(autoscaler)));
}

void ScaleHttpApp::RecordDemand(double t_s, double rps) {
  MutexLock l(&mu_);
  autoscaler_->RecordDemand(t_s, rps);
  last_t_s_ = t_s;
  last_rps_ = rps;
}

scale::ScaleDecision ScaleHttpApp::Recommend(double t_s, int current) {
  MutexLock l(&mu_);
  const int replicas = current > 0 ? current : last_replicas_;
  scale::ScaleDecision d = autoscaler_->Decide(t_s, {replicas, replicas}, std::nullopt);
  last_replicas_ = d.replicas;
  return d;
}

bool ScaleHttpApp::Handle(const HttpAppRequest& r, Respond respond) {
  if (r.path != "/v1/scale/recommendation") return false;
  if (r.method != "GET") {
    respond(JsonError(405, "use GET for /v1/scale/recommendation"));
    return true;
  }
  int current = 0;
  if (r.query.rfind("current=", 0) == 0) {
    const std::string_view v = r.query.substr(8, r.query.find('&') == std::string_view::npos
                                                     ? std::string_view::npos
                                                     : r.query.find('&') - 8);
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), current);
    if (ec != std::errc() || p != v.data() + v.size() || current < 1) {
      respond(JsonError(400, "current must be a positive integer"));
      return true;
    }
  }
  double t_s, rps;
  {
    MutexLock l(&mu_);
    t_s = last_t_s_ + 1;
    rps = last_rps_;
  }
  const scale::ScaleDecision d = Recommend(t_s, current);
  char body[256];
  std::snprintf(body, sizeof(body),
                "{\"replicas\": %d, \"spot_replicas\": %d, \"panic\": %s, \"reason\": \"%s\", \"demand_rps\": %.3f}",
                d.replicas, d.spot_replicas, d.panic ? "true" : "false", ReasonName(d.reason), rps);
  respond({200, "application/json", body});
  return true;
}

}  // namespace hotpath
