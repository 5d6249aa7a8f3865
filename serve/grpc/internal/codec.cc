#include "serve/grpc/internal/codec.h"

#include <algorithm>
#include <chrono>
#include <cstring>

namespace hotpath::grpc_internal {
namespace {

using Input = inference::ModelInferRequest::InferInputTensor;

std::string Where(const Input& in) { return "input '" + in.name() + "'"; }

Result<int64_t> CheckedCount(const Input& in) {
  int64_t n = 1;
  for (int64_t d : in.shape()) {
    if (d < 0) return InvalidArgumentError(Where(in) + ": shape has a negative dimension");
    if (d != 0 && n > kMaxElements / d) return InvalidArgumentError(Where(in) + ": tensor is too large");
    n *= d;
  }
  if (n > kMaxElements) return InvalidArgumentError(Where(in) + ": tensor is too large");
  return n;
}

// Copies `count` typed contents into `out` as `T`; INVALID_ARGUMENT when the
// repeated field holds a different number of elements.
template <typename T, typename Repeated>
Status CopyContents(const Repeated& src, int64_t count, const Input& in, const char* field,
                    InferTensor* out) {
  if (static_cast<int64_t>(src.size()) != count) {
    return InvalidArgumentError(Where(in) + ": contents." + field + " has " + std::to_string(src.size()) +
                                " elements, shape needs " + std::to_string(count));
  }
  out->data.resize(static_cast<size_t>(count) * sizeof(T));
  T* dst = out->as<T>();
  for (int64_t i = 0; i < count; ++i) dst[i] = static_cast<T>(src[static_cast<int>(i)]);
  return OkStatus();
}

Status DecodeContents(const Input& in, int64_t count, InferTensor* out) {
  const auto& c = in.contents();
  switch (out->dtype) {
    case DType::kFp32: return CopyContents<float>(c.fp32_contents(), count, in, "fp32_contents", out);
    case DType::kFp64: return CopyContents<double>(c.fp64_contents(), count, in, "fp64_contents", out);
    case DType::kInt8: return CopyContents<int8_t>(c.int_contents(), count, in, "int_contents", out);
    case DType::kInt32: return CopyContents<int32_t>(c.int_contents(), count, in, "int_contents", out);
    case DType::kInt64: return CopyContents<int64_t>(c.int64_contents(), count, in, "int64_contents", out);
    case DType::kUint8: return CopyContents<uint8_t>(c.uint_contents(), count, in, "uint_contents", out);
    case DType::kBool: return CopyContents<uint8_t>(c.bool_contents(), count, in, "bool_contents", out);
  }
  return InvalidArgumentError(Where(in) + ": unsupported datatype");
}

Status DecodeParameters(const inference::ModelInferRequest& in, InferRequest* out) {
  for (const auto& [key, p] : in.parameters()) {
    if (key == "priority" || key == "timeout") {
      if (p.parameter_choice_case() != inference::InferParameter::kInt64Param || p.int64_param() < 0) {
        return InvalidArgumentError("parameter '" + key + "' must be a non-negative int64");
      }
      if (key == "priority") {
        out->priority = static_cast<int>(std::min<int64_t>(p.int64_param(), 1 << 20));
      } else {
        out->timeout = std::chrono::microseconds(std::min<int64_t>(p.int64_param(), int64_t{1} << 40));
      }
    }
  }
  return OkStatus();
}

}  // namespace

Status DecodeInferRequest(const inference::ModelInferRequest& in, InferRequest* out) {
  if (in.model_name().empty()) return InvalidArgumentError("model_name is empty");
  out->model_name = in.model_name();
  out->model_version = in.model_version();
  const bool raw = in.raw_input_contents_size() > 0;
  if (raw && in.raw_input_contents_size() != in.inputs_size()) {
    return InvalidArgumentError("raw_input_contents has " + std::to_string(in.raw_input_contents_size()) +
                                " entries for " + std::to_string(in.inputs_size()) + " inputs");
  }
  out->inputs.resize(in.inputs_size());
  for (int i = 0; i < in.inputs_size(); ++i) {
    const Input& src = in.inputs(i);
    InferTensor& t = out->inputs[i];
    t.name = src.name();
    Result<DType> dtype = ParseDType(src.datatype());
    if (!dtype.ok()) return InvalidArgumentError(Where(src) + ": " + dtype.status().message());
    t.dtype = *dtype;
    t.shape.assign(src.shape().begin(), src.shape().end());
    ASSIGN_OR_RETURN(int64_t count, CheckedCount(src));
    if (raw) {
      const std::string& bytes = in.raw_input_contents(i);
      const size_t want = static_cast<size_t>(count) * DTypeSize(t.dtype);
      if (bytes.size() != want) {
        return InvalidArgumentError(Where(src) + ": raw_input_contents has " + std::to_string(bytes.size()) +
                                    " bytes, shape and datatype need " + std::to_string(want));
      }
      t.data.resize(want);
      std::memcpy(t.data.data(), bytes.data(), want);
    } else {
      RETURN_IF_ERROR(DecodeContents(src, count, &t));
    }
  }
  out->requested_outputs.clear();
  for (const auto& o : in.outputs()) out->requested_outputs.push_back(o.name());
  return DecodeParameters(in, out);
}

void EncodeInferResponse(const InferResponse& in, const std::string& id,
                         inference::ModelInferResponse* out) {
  out->set_model_name(in.model_name);
  out->set_model_version(in.model_version);
  out->set_id(id);
  for (const InferTensor& t : in.outputs) {
    auto* o = out->add_outputs();
    o->set_name(t.name);
    o->set_datatype(std::string(DTypeName(t.dtype)));
    for (int64_t d : t.shape) o->add_shape(d);
    out->add_raw_output_contents(reinterpret_cast<const char*>(t.data.data()), t.data.size());
  }
}

}  // namespace hotpath::grpc_internal
