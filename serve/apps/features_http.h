// FeaturesHttpApp: the feature store's HTTP API.
//   POST /v1/features/events   body: a JSON array of events ({"type": SOURCE,
//        key fields, timestamp, fields}); each is applied or reported:
//        200 {"applied": N, "errors": [{"index": i, "error": "..."}]};
//        400 when the body is not a JSON array.
//   POST /v1/features/read     body: {"entities": ["k1", ...], "features":
//        ["group.agg.window" | "group.derived", ...], "as_of_ms": T (optional)}
//        200 {"values": [[{"status": "present", "value": x}, ...], ...]}
//        (entity-major); 400 naming a bad reference or time.
#ifndef HOTPATH_SERVE_APPS_FEATURES_HTTP_H_
#define HOTPATH_SERVE_APPS_FEATURES_HTTP_H_

#include <memory>

#include "features/durable_store.h"
#include "features/event.h"
#include "serve/http_app.h"

namespace hotpath {

class FeaturesHttpApp final : public HttpApp {
 public:
  // `store` is borrowed and must outlive the app.
  static Result<std::unique_ptr<FeaturesHttpApp>> Create(
      std::shared_ptr<const features::Definitions> definitions, features::DurableFeatureStore* store);
  bool Handle(const HttpAppRequest& request, Respond respond) override;

 private:
  FeaturesHttpApp(std::shared_ptr<const features::Definitions> defs,
                  std::unique_ptr<features::EventParser> parser, features::DurableFeatureStore* store)
      : defs_(std::move(defs)), parser_(std::move(parser)), store_(store) {}
  HttpAppResponse Ingest(std::string_view body);
  HttpAppResponse Read(std::string_view body) const;

  std::shared_ptr<const features::Definitions> defs_;
  std::unique_ptr<features::EventParser> parser_;
  features::DurableFeatureStore* store_;
};

}  // namespace hotpath

#endif  // HOTPATH_SERVE_APPS_FEATURES_HTTP_H_
