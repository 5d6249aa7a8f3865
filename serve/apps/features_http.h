// FeaturesHttpApp: the feature store's HTTP API.
//   POST /v1/features/events   body: a JSON array of events ({"type": SOURCE,
//        key fields, timestamp, fields}); each is applied or reported:
//        200 {"applied": N, "errors": [{"index": i, "code": "OUT_OF_RANGE",
//        "error": "..."}]} (code OUT_OF_RANGE: older than the allowed
//        lateness; INVALID_ARGUMENT: malformed; RESOURCE_EXHAUSTED: entity
//        cap); 400 when the body is not a JSON array.
//   POST /v1/features/read     body: {"entities": ["k1", ...], "features":
//        ["group.agg.window" | "group.derived", ...], "as_of_ms": T (optional)}
//        200 {"values": [[{"status": "present", "value": x}, ...], ...]}
//        (entity-major; last_n cells carry "values": [...]; numbers in
//        shortest round-trip form); 400 naming a bad reference or time.
#ifndef HOTPATH_SERVE_APPS_FEATURES_HTTP_H_
#define HOTPATH_SERVE_APPS_FEATURES_HTTP_H_

#include <memory>

#include "features/durable_store.h"
#include "features/event.h"
#include "serve/http_app.h"

namespace hotpath {

class FeaturesHttpApp final : public HttpApp {
 public:
  // Reads go to `reads` (borrowed, must outlive the app); event batches to
  // `ingest`, which must be thread-safe (called from every event loop).
  // INVALID_ARGUMENT when either is missing.
  static Result<std::unique_ptr<FeaturesHttpApp>> Create(
      std::shared_ptr<const features::Definitions> definitions, const features::FeatureStore* reads,
      features::IngestFn ingest);
  // The server's wiring: reads from `store`'s memory, ingest through its
  // write-ahead log. `store` is borrowed and must outlive the app.
  static Result<std::unique_ptr<FeaturesHttpApp>> Create(
      std::shared_ptr<const features::Definitions> definitions, features::DurableFeatureStore* store);
  bool Handle(const HttpAppRequest& request, Respond respond) override;

 private:
  FeaturesHttpApp(std::shared_ptr<const features::Definitions> defs,
                  std::unique_ptr<features::EventParser> parser, const features::FeatureStore* reads,
                  features::IngestFn ingest)
      : defs_(std::move(defs)), parser_(std::move(parser)), reads_(reads), ingest_(std::move(ingest)) {}
  HttpAppResponse Ingest(std::string_view body);
  HttpAppResponse Read(std::string_view body) const;

  std::shared_ptr<const features::Definitions> defs_;
  std::unique_ptr<features::EventParser> parser_;
  const features::FeatureStore* reads_;
  features::IngestFn ingest_;
};

}  // namespace hotpath

#endif  // HOTPATH_SERVE_APPS_FEATURES_HTTP_H_
