// ScaleHttpApp: the replica recommendation an autoscaler consumes (KEDA's
// metrics-api scaler, or any external-metrics adapter), from hotpath's scaling
// policy (scale/policy.h) fed with the request rate this server observes.
//   GET /v1/scale/recommendation[?current=N]
//     200 {"replicas": R, "spot_replicas": S, "panic": bool, "reason": "...",
//          "demand_rps": D}
// `current` is the fleet's present size (default: the last recommendation).
// The predictive part needs days of history and is not used live.
#ifndef HOTPATH_SERVE_APPS_SCALE_HTTP_H_
#define HOTPATH_SERVE_APPS_SCALE_HTTP_H_

#include <memory>

#include "core/thread_annotations.h"
#include "scale/policy.h"
#include "serve/http_app.h"

namespace hotpath {

class ScaleHttpApp final : public HttpApp {
 public:
  static Result<std::unique_ptr<ScaleHttpApp>> Create(const scale::PolicyConfig& policy,
                                                      const scale::ReplicaFacts& facts);
  // Records the requests/s observed during the second starting at `t_s`
  // (seconds on any steady timeline, non-decreasing). Thread-safe.
  void RecordDemand(double t_s, double rps) EXCLUDES(mu_);
  bool Handle(const HttpAppRequest& request, Respond respond) override;

  // The recommendation at `t_s` for a fleet of `current` replicas (0: the
  // last recommendation). Thread-safe.
  scale::ScaleDecision Recommend(double t_s, int current) EXCLUDES(mu_);

 private:
  explicit ScaleHttpApp(std::unique_ptr<scale::Autoscaler> autoscaler) : autoscaler_(std::move(autoscaler)) {}

  Mutex mu_;
  std::unique_ptr<scale::Autoscaler> autoscaler_ GUARDED_BY(mu_);
  double last_t_s_ GUARDED_BY(mu_) = 0;
  double last_rps_ GUARDED_BY(mu_) = 0;
  int last_replicas_ GUARDED_BY(mu_) = 1;
};

}  // namespace hotpath

#endif  // HOTPATH_SERVE_APPS_SCALE_HTTP_H_
