#include "serve/internal/kserve_handler.h"

#include <array>
#include <cstdio>

#include "serve/internal/http_response.h"
#include "core/json_writer.h"

namespace hotpath::serve_internal {
namespace {

constexpr std::string_view kJson = "application/json";
constexpr size_t kMaxSegments = 7;

// Splits "/a/b/c" into segments; false when there are too many or one is empty.
bool SplitPath(std::string_view path, std::array<std::string_view, kMaxSegments>* seg, size_t* n) {
  *n = 0;
  path.remove_prefix(1);
  while (true) {
    const size_t slash = path.find('/');
    const std::string_view s = path.substr(0, slash);
    if (s.empty() || *n == kMaxSegments) {
      return false;
    }
    (*seg)[(*n)++] = s;
    if (slash == std::string_view::npos) {
      return true;
    }
    path.remove_prefix(slash + 1);
  }
}

void WriteJson(std::string_view body, bool keep_alive, ByteBuffer* out) {
  AppendResponse(200, kJson, body, keep_alive, {}, out);
}

}  // namespace

void KServeHandler::WriteError(int http_status, std::string_view message, bool keep_alive,
                               std::string* scratch, ByteBuffer* out) {
  EncodeError(message, scratch);
  AppendResponse(http_status, kJson, *scratch, keep_alive, {}, out);
}

void KServeHandler::WriteStatus(const Status& status, const Reply& reply) {
  WriteError(HttpStatusFor(status.code()), status.message(), reply.keep_alive, reply.scratch,
             reply.out);
}

void KServeHandler::WriteNotFound(const HttpRequest& req, const Reply& reply) {
  WriteError(404, "no such endpoint: " + std::string(req.path), reply.keep_alive, reply.scratch,
             reply.out);
}

void KServeHandler::WriteMethodNotAllowed(std::string_view allow, const Reply& reply) {
  EncodeError("method not allowed; use " + std::string(allow), reply.scratch);
  const std::string header = "Allow: " + std::string(allow) + "\r\n";
  AppendResponse(405, kJson, *reply.scratch, reply.keep_alive, header, reply.out);
}

KServeHandler::Action KServeHandler::Handle(const HttpRequest& req, bool keep_alive,
                                            InferSlot* slot, std::string* scratch,
                                            ByteBuffer* out) {
  const Reply reply{keep_alive, scratch, out};
  std::array<std::string_view, kMaxSegments> seg;
  size_t n = 0;
  if (!SplitPath(req.path, &seg, &n) || seg[0] != "v2") {
    WriteNotFound(req, reply);
    return Action::kResponded;
  }
  if (n >= 3 && seg[1] == "models") {
    return HandleModelRoute(req, &seg[2], n - 2, slot, reply);
  }
  HandleServerRoute(req, &seg[1], n - 1, reply);
  return Action::kResponded;
}

KServeHandler::Action KServeHandler::HandleModelRoute(const HttpRequest& req,
                                                      const std::string_view* seg, size_t n,
                                                      InferSlot* slot, const Reply& reply) {
  std::string_view version;
  size_t rest = 1;  // segments before the optional ready/infer
  if (n >= 3 && seg[1] == "versions") {
    version = seg[2];
    rest = 3;
  }
  const std::string_view tail = n > rest ? seg[rest] : std::string_view();
  if (n > rest + 1 || (n == rest + 1 && tail != "ready" && tail != "infer")) {
    WriteNotFound(req, reply);
  } else if (tail == "infer") {
    if (req.method == HttpMethod::kPost) {
      return StartInfer(req, seg[0], version, slot, reply);
    }
    WriteMethodNotAllowed("POST", reply);
  } else if (req.method != HttpMethod::kGet) {
    WriteMethodNotAllowed("GET", reply);
  } else if (tail == "ready") {
    HandleModelReady(seg[0], version, reply);
  } else {
    HandleModel(seg[0], version, reply);
  }
  return Action::kResponded;
}

void KServeHandler::HandleServerRoute(const HttpRequest& req, const std::string_view* seg, size_t n,
                                      const Reply& reply) {
  const bool health = n == 2 && seg[0] == "health" && (seg[1] == "live" || seg[1] == "ready");
  if (n != 0 && !health) {
    return WriteNotFound(req, reply);
  }
  if (req.method != HttpMethod::kGet) {
    return WriteMethodNotAllowed("GET", reply);
  }
  if (n == 0) {
    EncodeServerMetadata(service_->GetServerMetadata(), reply.scratch);
    return WriteJson(*reply.scratch, reply.keep_alive, reply.out);
  }
  const bool healthy = seg[1] == "live" ? service_->ServerLive() : service_->ServerReady();
  reply.scratch->assign("{\"").append(seg[1]).append(healthy ? "\":true}" : "\":false}");
  AppendResponse(healthy ? 200 : 503, kJson, *reply.scratch, reply.keep_alive, {}, reply.out);
}

KServeHandler::Action KServeHandler::StartInfer(const HttpRequest& req, std::string_view model,
                                                std::string_view version, InferSlot* slot,
                                                const Reply& reply) {
  const Status st =
      DecodeInferRequest(req.body, req.inference_header_length, &slot->request, &slot->wire);
  if (!st.ok()) {
    WriteStatus(st, reply);
    return Action::kResponded;
  }
  slot->request.model_name.assign(model);
  slot->request.model_version.assign(version);
  slot->keep_alive = reply.keep_alive;
  return Action::kInfer;
}

void KServeHandler::HandleModel(std::string_view model, std::string_view version,
                                const Reply& reply) {
  Result<ModelMetadata> meta = service_->GetModelMetadata(model, version);
  if (!meta.ok()) {
    return WriteStatus(meta.status(), reply);
  }
  EncodeModelMetadata(*meta, reply.scratch);
  WriteJson(*reply.scratch, reply.keep_alive, reply.out);
}

void KServeHandler::HandleModelReady(std::string_view model, std::string_view version,
                                     const Reply& reply) {
  Result<bool> ready = service_->ModelReady(model, version);
  if (!ready.ok()) {
    return WriteStatus(ready.status(), reply);
  }
  reply.scratch->assign("{\"name\":");
  AppendJsonString(model, reply.scratch);
  reply.scratch->append(*ready ? ",\"ready\":true}" : ",\"ready\":false}");
  AppendResponse(*ready ? 200 : 503, kJson, *reply.scratch, reply.keep_alive, {}, reply.out);
}

void KServeHandler::WriteInferResult(const InferSlot& slot, std::string* scratch, ByteBuffer* out) {
  if (!slot.status.ok()) {
    WriteError(HttpStatusFor(slot.status.code()), slot.status.message(), slot.keep_alive, scratch,
               out);
    return;
  }
  const size_t json_len = EncodeInferResponse(slot.request, slot.response, slot.wire, scratch);
  if (json_len == scratch->size()) {
    return WriteJson(*scratch, slot.keep_alive, out);
  }
  char header[64];
  const int len =
      std::snprintf(header, sizeof(header), "Inference-Header-Content-Length: %zu\r\n", json_len);
  AppendResponse(200, "application/octet-stream", *scratch, slot.keep_alive,
                 std::string_view(header, static_cast<size_t>(len)), out);
}

}  // namespace hotpath::serve_internal
