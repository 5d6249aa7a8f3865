// FeaturesHttpServer: the HTTP front (HttpServer) serving one app and no
// models — KServe paths answer 404, health answers ready. It is what the
// `hotpath features` tests and bench/features run the real feature routes
// behind, without a model repository.
//
// Start, port and the destructor are for the owning thread.
#ifndef HOTPATH_SERVE_APPS_FEATURES_HTTP_SERVER_H_
#define HOTPATH_SERVE_APPS_FEATURES_HTTP_SERVER_H_

#include <memory>
#include <string>

#include "core/status.h"
#include "serve/http_app.h"
#include "serve/http_server.h"
#include "serve/inference_service.h"

namespace hotpath {

class FeaturesHttpServer {
 public:
  struct Options {
    std::string address = "127.0.0.1";
    int port = 0;       // 0: an ephemeral port (see port())
    int num_loops = 1;  // event loop threads, >= 1
    int64_t busy_poll_us = 0;  // HttpServer::Options::busy_poll_us (CPU cost stated there)
  };

  // Serves `app` (borrowed; must outlive the server). UNAVAILABLE when the
  // port cannot be bound; INVALID_ARGUMENT for bad options.
  static Result<std::unique_ptr<FeaturesHttpServer>> Start(const Options& options, HttpApp* app);
  // Drains (HttpServer's destructor): in-flight requests finish first.
  ~FeaturesHttpServer() = default;
  FeaturesHttpServer(const FeaturesHttpServer&) = delete;
  FeaturesHttpServer& operator=(const FeaturesHttpServer&) = delete;

  int port() const { return http_->port(); }

 private:
  FeaturesHttpServer() = default;

  std::unique_ptr<InferenceService> no_models_;
  std::unique_ptr<HttpServer> http_;  // declared last: drained before no_models_ goes
};

}  // namespace hotpath

#endif  // HOTPATH_SERVE_APPS_FEATURES_HTTP_SERVER_H_
