#include "serve/grpc/grpc_server.h"

#include <grpcpp/grpcpp.h>

#include "serve/grpc/grpc_predict_v2.grpc.pb.h"
#include "serve/grpc/internal/codec.h"

namespace hotpath {
namespace {

using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;

// Canonical codes are gRPC's codes, number for number.
grpc::Status ToGrpc(const Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), s.message());
}

ServerUnaryReactor* Finish(CallbackServerContext* ctx, const Status& s) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  r->Finish(ToGrpc(s));
  return r;
}

// One ModelInfer call: the decoded request and the response the service
// fills, alive until the service's `done` runs.
struct InferCall {
  InferRequest request;
  InferResponse response;
};

class Service final : public inference::GRPCInferenceService::CallbackService {
 public:
  Service(InferenceService* service, RepositoryControl* repository)
      : service_(service), repository_(repository) {}

  ServerUnaryReactor* ServerLive(CallbackServerContext* ctx, const inference::ServerLiveRequest*,
                                 inference::ServerLiveResponse* resp) override {
    resp->set_live(service_->ServerLive());
    return Finish(ctx, OkStatus());
  }

  ServerUnaryReactor* ServerReady(CallbackServerContext* ctx, const inference::ServerReadyRequest*,
                                  inference::ServerReadyResponse* resp) override {
    resp->set_ready(service_->ServerReady());
    return Finish(ctx, OkStatus());
  }

  ServerUnaryReactor* ModelReady(CallbackServerContext* ctx, const inference::ModelReadyRequest* req,
                                 inference::ModelReadyResponse* resp) override {
    Result<bool> ready = service_->ModelReady(req->name(), req->version());
    if (ready.ok()) resp->set_ready(*ready);
    return Finish(ctx, ready.status());
  }

  ServerUnaryReactor* ServerMetadata(CallbackServerContext* ctx, const inference::ServerMetadataRequest*,
                                     inference::ServerMetadataResponse* resp) override {
    hotpath::ServerMetadata m = service_->GetServerMetadata();
    resp->set_name(m.name);
    resp->set_version(m.version);
    for (const auto& e : m.extensions) resp->add_extensions(e);
    return Finish(ctx, OkStatus());
  }

  ServerUnaryReactor* ModelMetadata(CallbackServerContext* ctx, const inference::ModelMetadataRequest* req,
                                    inference::ModelMetadataResponse* resp) override {
    Result<hotpath::ModelMetadata> m = service_->GetModelMetadata(req->name(), req->version());
    if (!m.ok()) return Finish(ctx, m.status());
    resp->set_name(m->name);
    resp->set_platform(m->platform);
    for (const auto& v : m->versions) resp->add_versions(v);
    auto add = [](const TensorSpec& spec, inference::ModelMetadataResponse::TensorMetadata* t) {
      t->set_name(spec.name);
      t->set_datatype(std::string(DTypeName(spec.dtype)));
      for (int64_t d : spec.shape) t->add_shape(d);
    };
    for (const auto& in : m->inputs) add(in, resp->add_inputs());
    for (const auto& out : m->outputs) add(out, resp->add_outputs());
    return Finish(ctx, OkStatus());
  }

  ServerUnaryReactor* ModelInfer(CallbackServerContext* ctx, const inference::ModelInferRequest* req,
                                 inference::ModelInferResponse* resp) override {
    auto call = std::make_shared<InferCall>();
    Status s = grpc_internal::DecodeInferRequest(*req, &call->request);
    if (!s.ok()) return Finish(ctx, s);
    const auto deadline = ctx->deadline();
    if (deadline != std::chrono::system_clock::time_point::max()) {
      const auto left = std::chrono::duration_cast<Nanos>(deadline - std::chrono::system_clock::now());
      if (left.count() <= 0) return Finish(ctx, DeadlineExceededError("deadline passed before the request ran"));
      if (call->request.timeout.count() == 0 || left < call->request.timeout) call->request.timeout = left;
    }
    ServerUnaryReactor* reactor = ctx->DefaultReactor();
    const std::string id = req->id();
    service_->Infer(call->request, &call->response, [call, resp, reactor, id](Status st) {
      if (st.ok()) grpc_internal::EncodeInferResponse(call->response, id, resp);
      reactor->Finish(ToGrpc(st));
    });
    return reactor;
  }

  ServerUnaryReactor* RepositoryIndex(CallbackServerContext* ctx, const inference::RepositoryIndexRequest* req,
                                      inference::RepositoryIndexResponse* resp) override {
    if (repository_ == nullptr) return Finish(ctx, UnimplementedError("this server has no model repository"));
    Result<std::vector<RepositoryEntry>> index = repository_->Index();
    if (!index.ok()) return Finish(ctx, index.status());
    for (const RepositoryEntry& e : *index) {
      if (req->ready() && e.state != "READY") continue;
      auto* m = resp->add_models();
      m->set_name(e.name);
      m->set_version(e.version);
      m->set_state(e.state);
      m->set_reason(e.reason);
    }
    return Finish(ctx, OkStatus());
  }

  ServerUnaryReactor* RepositoryModelLoad(CallbackServerContext* ctx,
                                          const inference::RepositoryModelLoadRequest* req,
                                          inference::RepositoryModelLoadResponse*) override {
    if (repository_ == nullptr) return Finish(ctx, UnimplementedError("this server has no model repository"));
    return Finish(ctx, repository_->Load(req->model_name()));
  }

  ServerUnaryReactor* RepositoryModelUnload(CallbackServerContext* ctx,
                                            const inference::RepositoryModelUnloadRequest* req,
                                            inference::RepositoryModelUnloadResponse*) override {
    if (repository_ == nullptr) return Finish(ctx, UnimplementedError("this server has no model repository"));
    return Finish(ctx, repository_->Unload(req->model_name()));
  }

 private:
  InferenceService* service_;
  RepositoryControl* repository_;
};

}  // namespace

struct GrpcServer::Impl {
  Impl(InferenceService* s, RepositoryControl* r) : service(s, r) {}
  Service service;
  std::unique_ptr<grpc::Server> server;
};

Result<std::unique_ptr<GrpcServer>> GrpcServer::Start(const Options& options, InferenceService* service,
                                                      RepositoryControl* repository) {
  if (options.port < 0 || options.port > 65535) return InvalidArgumentError("grpc port out of range");
  if (options.max_message_bytes <= 0) return InvalidArgumentError("grpc max_message_bytes must be positive");
  auto impl = std::make_unique<Impl>(service, repository);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.address + ":" + std::to_string(options.port),
                           grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.RegisterService(&impl->service);
  impl->server = builder.BuildAndStart();
  if (impl->server == nullptr || port == 0) {
    return UnavailableError("cannot listen for gRPC on " + options.address + ":" + std::to_string(options.port));
  }
  return std::unique_ptr<GrpcServer>(new GrpcServer(std::move(impl), port));
}

GrpcServer::GrpcServer(std::unique_ptr<Impl> impl, int port) : impl_(std::move(impl)), port_(port) {}

GrpcServer::~GrpcServer() { impl_->server->Shutdown(); }

}  // namespace hotpath
