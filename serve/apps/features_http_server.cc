#include "serve/apps/features_http_server.h"

namespace hotpath {
namespace {

// Live and ready, with no models: every model path answers NOT_FOUND.
class NoModels final : public InferenceService {
 public:
  bool ServerLive() const override { return true; }
  bool ServerReady() const override { return true; }
  ServerMetadata GetServerMetadata() const override { return {"hotpath", "0.1.0", {}}; }
  Result<bool> ModelReady(std::string_view, std::string_view) const override {
    return NotFoundError("no models are served");
  }
  Result<ModelMetadata> GetModelMetadata(std::string_view, std::string_view) const override {
    return NotFoundError("no models are served");
  }
  void Infer(const InferRequest&, InferResponse*, InferDone done) override {
    done(NotFoundError("no models are served"));
  }
};

}  // namespace

Result<std::unique_ptr<FeaturesHttpServer>> FeaturesHttpServer::Start(const Options& options,
                                                                      HttpApp* app) {
  if (app == nullptr) return InvalidArgumentError("FeaturesHttpServer: app is required");
  if (options.num_loops < 1)
    return InvalidArgumentError("FeaturesHttpServer: num_loops must be >= 1");
  std::unique_ptr<FeaturesHttpServer> server(new FeaturesHttpServer());
  server->no_models_ = std::make_unique<NoModels>();
  HttpServer::Options ho;
  ho.address = options.address;
  ho.port = options.port;
  ho.num_loops = options.num_loops;
  ho.app = app;
  ho.busy_poll_us = options.busy_poll_us;
  ASSIGN_OR_RETURN(server->http_, HttpServer::Create(ho, server->no_models_.get()));
  return server;
}

}  // namespace hotpath
