// KServe v2 (Open Inference Protocol) REST bodies: decoding infer requests
// (JSON tensors, flat or nested, and the binary tensor data extension) into an
// InferRequest, and encoding responses, metadata and errors as JSON.
//
// Decoding validates the wire format only (syntax, datatypes, shapes against
// element counts, binary sizes); the model-specific checks belong to the
// InferenceService. Every error is INVALID_ARGUMENT naming the field, e.g.
// "inputs[0].data: 31 values but shape [1,32] needs 32".
#ifndef HOTPATH_SERVE_INTERNAL_KSERVE_CODEC_H_
#define HOTPATH_SERVE_INTERNAL_KSERVE_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "serve/inference_service.h"

namespace hotpath::serve_internal {

// Per-request choices that stay in the front: the id to echo and which
// outputs go back as binary. Reused across requests.
struct InferWireOptions {
  std::string id;
  bool has_id = false;
  bool binary_output_all = false;           // request parameter binary_data_output
  std::vector<uint8_t> binary_outputs;      // per InferRequest::requested_outputs
  std::vector<int64_t> binary_input_bytes;  // per input; -1 = its values came in JSON
};

// Decodes `body` into `*request` (inputs, requested outputs, priority,
// timeout; the model name and version come from the URL) and `*wire`.
// `json_bytes` is the Inference-Header-Content-Length, or -1 when the whole
// body is JSON. Reuses the request's buffers.
Status DecodeInferRequest(std::string_view body, int64_t json_bytes, InferRequest* request,
                          InferWireOptions* wire);

// Writes the response body to `*body` (cleared first): the JSON header, then
// the binary outputs. Returns the JSON header's length (== body->size() when
// nothing is binary).
size_t EncodeInferResponse(const InferRequest& request, const InferResponse& response,
                           const InferWireOptions& wire, std::string* body);

void EncodeServerMetadata(const ServerMetadata& meta, std::string* body);
void EncodeModelMetadata(const ModelMetadata& meta, std::string* body);
// {"error": "<message>"}
void EncodeError(std::string_view message, std::string* body);

}  // namespace hotpath::serve_internal

#endif  // HOTPATH_SERVE_INTERNAL_KSERVE_CODEC_H_
