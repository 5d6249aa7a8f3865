// KServeHandler: routes one parsed HTTP request to the KServe v2 REST
// endpoints, answering the synchronous ones (health, metadata, readiness,
// errors) directly and preparing infer requests for the InferenceService.
#ifndef HOTPATH_SERVE_INTERNAL_KSERVE_HANDLER_H_
#define HOTPATH_SERVE_INTERNAL_KSERVE_HANDLER_H_

#include <string>

#include "serve/http_app.h"
#include "serve/inference_service.h"
#include "serve/internal/byte_buffer.h"
#include "serve/internal/http_parser.h"
#include "serve/internal/kserve_codec.h"

namespace hotpath::serve_internal {

// One connection's in-flight infer: owned by the connection, reused by every
// request on it, borrowed by the service between Infer and its callback.
struct InferSlot {
  InferRequest request;
  InferResponse response;
  InferWireOptions wire;
  Status status;
  bool keep_alive = true;
  // An HttpApp request in flight (instead of an infer) and its answer.
  bool app = false;
  HttpAppResponse app_response;
};

class KServeHandler {
 public:
  enum class Action { kResponded, kInfer };

  // `service` is borrowed and must outlive the handler.
  explicit KServeHandler(InferenceService* service) : service_(service) {}

  // Answers `req` into `out` (kResponded), or decodes a valid infer request
  // into `*slot` (kInfer: the caller runs it and then calls WriteInferResult).
  // `scratch` is a reused body buffer. `keep_alive` is the response's.
  Action Handle(const HttpRequest& req, bool keep_alive, InferSlot* slot, std::string* scratch,
                ByteBuffer* out);

  // Writes the response for a finished infer (its status and response).
  void WriteInferResult(const InferSlot& slot, std::string* scratch, ByteBuffer* out);

  // Writes {"error": message} with `http_status`.
  static void WriteError(int http_status, std::string_view message, bool keep_alive,
                         std::string* scratch, ByteBuffer* out);

 private:
  // Where and how one response is written.
  struct Reply {
    bool keep_alive;
    std::string* scratch;
    ByteBuffer* out;
  };
  // /v2/models/{m}[/versions/{v}][/ready|/infer]; `seg` starts at {m}.
  Action HandleModelRoute(const HttpRequest& req, const std::string_view* seg, size_t n,
                          InferSlot* slot, const Reply& reply);
  // /v2, /v2/health/live, /v2/health/ready.
  void HandleServerRoute(const HttpRequest& req, const std::string_view* seg, size_t n,
                         const Reply& reply);
  Action StartInfer(const HttpRequest& req, std::string_view model, std::string_view version,
                    InferSlot* slot, const Reply& reply);
  void HandleModel(std::string_view model, std::string_view version, const Reply& reply);
  void HandleModelReady(std::string_view model, std::string_view version, const Reply& reply);
  static void WriteStatus(const Status& status, const Reply& reply);
  static void WriteNotFound(const HttpRequest& req, const Reply& reply);
  static void WriteMethodNotAllowed(std::string_view allow, const Reply& reply);

  InferenceService* service_;
};

}  // namespace hotpath::serve_internal

#endif  // HOTPATH_SERVE_INTERNAL_KSERVE_HANDLER_H_
