// GrpcServer: KServe v2 `inference.GRPCInferenceService` over gRPC, with the
// same semantics as the HTTP front: it decodes and validates the wire tensors
// and hands requests to an InferenceService; canonical Status codes map 1:1 to
// gRPC status codes. Uses gRPC's callback API, so a request waiting in a
// batcher holds no thread.
#ifndef HOTPATH_SERVE_GRPC_GRPC_SERVER_H_
#define HOTPATH_SERVE_GRPC_GRPC_SERVER_H_

#include <memory>
#include <string>

#include "core/status.h"
#include "serve/inference_service.h"
#include "serve/repository_control.h"

namespace hotpath {

class GrpcServer {
 public:
  struct Options {
    std::string address = "0.0.0.0";
    int port = 8001;                       // 0 = pick a free port (see port())
    int max_message_bytes = 64 << 20;      // larger requests: RESOURCE_EXHAUSTED
  };

  // Starts serving. `service` (and `repository`, which may be null: the
  // repository RPCs then answer UNIMPLEMENTED) are borrowed and must outlive
  // the server. UNAVAILABLE when the port cannot be bound.
  static Result<std::unique_ptr<GrpcServer>> Start(const Options& options, InferenceService* service,
                                                   RepositoryControl* repository);
  // Shuts down: no new calls; in-flight calls finish first.
  ~GrpcServer();

  int port() const { return port_; }

 private:
  struct Impl;
  explicit GrpcServer(std::unique_ptr<Impl> impl, int port);
  std::unique_ptr<Impl> impl_;
  int port_;
};

}  // namespace hotpath

#endif  // HOTPATH_SERVE_GRPC_GRPC_SERVER_H_
