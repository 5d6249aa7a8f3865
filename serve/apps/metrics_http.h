// MetricsHttpApp: GET /metrics in the Prometheus text format (observe/).
#ifndef HOTPATH_SERVE_APPS_METRICS_HTTP_H_
#define HOTPATH_SERVE_APPS_METRICS_HTTP_H_

#include "observe/metrics.h"
#include "serve/http_app.h"

namespace hotpath {

class MetricsHttpApp final : public HttpApp {
 public:
  // `registry` is borrowed and must outlive the app.
  explicit MetricsHttpApp(const MetricsRegistry* registry) : registry_(registry) {}
  bool Handle(const HttpAppRequest& r, Respond respond) override {
    if (r.path != "/metrics") return false;
    if (r.method != "GET") {
      respond(JsonError(405, "use GET for /metrics"));
    } else {
      respond({200, std::string(MetricsRegistry::kContentType), registry_->ExpositionText()});
    }
    return true;
  }

 private:
  const MetricsRegistry* registry_;
};

}  // namespace hotpath

#endif  // HOTPATH_SERVE_APPS_METRICS_HTTP_H_
