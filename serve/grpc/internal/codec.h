// Conversion between KServe v2 gRPC messages and the front-neutral
// InferRequest / InferResponse, validating everything that comes in.
#ifndef HOTPATH_SERVE_GRPC_INTERNAL_CODEC_H_
#define HOTPATH_SERVE_GRPC_INTERNAL_CODEC_H_

#include "core/status.h"
#include "serve/grpc/grpc_predict_v2.pb.h"
#include "serve/inference_service.h"

namespace hotpath::grpc_internal {

// Largest tensor accepted, in elements.
inline constexpr int64_t kMaxElements = int64_t{1} << 28;

// Fills `out` from `in`. INVALID_ARGUMENT naming the input and field: empty
// model name, unknown datatype, negative or overflowing shape, element count
// that does not match the contents, raw_input_contents not one per input,
// wrong parameter types.
Status DecodeInferRequest(const inference::ModelInferRequest& in, InferRequest* out);

// Writes `in` into `out` (raw_output_contents, one per output), echoing `id`.
void EncodeInferResponse(const InferResponse& in, const std::string& id,
                         inference::ModelInferResponse* out);

}  // namespace hotpath::grpc_internal

#endif  // HOTPATH_SERVE_GRPC_INTERNAL_CODEC_H_
