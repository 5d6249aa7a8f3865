// Encoding of KServe v2 response bodies (see kserve_codec.h).
#include <cstring>

#include "core/json_writer.h"
#include "serve/internal/kserve_codec.h"

namespace hotpath::serve_internal {
namespace {

void AppendShape(const Shape& shape, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) {
      out->push_back(',');
    }
    AppendJsonNumber(shape[i], out);
  }
  out->push_back(']');
}

template <typename T>
void AppendValues(const InferTensor& t, std::string* out) {
  const size_t n = t.data.size() / sizeof(T);
  for (size_t i = 0; i < n; ++i) {
    if (i) {
      out->push_back(',');
    }
    if constexpr (std::is_same_v<T, bool>) {
      out->append(t.data[i] != std::byte{0} ? "true" : "false");
    } else {
      T v;
      std::memcpy(&v, t.data.data() + i * sizeof(T), sizeof(T));
      AppendJsonNumber(v, out);
    }
  }
}

void AppendData(const InferTensor& t, std::string* out) {
  out->push_back('[');
  switch (t.dtype) {
    case DType::kFp32:
      AppendValues<float>(t, out);
      break;
    case DType::kFp64:
      AppendValues<double>(t, out);
      break;
    case DType::kInt8:
      AppendValues<int8_t>(t, out);
      break;
    case DType::kInt32:
      AppendValues<int32_t>(t, out);
      break;
    case DType::kInt64:
      AppendValues<int64_t>(t, out);
      break;
    case DType::kUint8:
      AppendValues<uint8_t>(t, out);
      break;
    case DType::kBool:
      AppendValues<bool>(t, out);
      break;
  }
  out->push_back(']');
}

bool IsBinary(const InferRequest& request, const InferWireOptions& wire, const std::string& name) {
  if (wire.binary_output_all) {
    return true;
  }
  for (size_t i = 0; i < request.requested_outputs.size(); ++i) {
    if (request.requested_outputs[i] == name) {
      return wire.binary_outputs[i] != 0;
    }
  }
  return false;
}

void AppendTensorSpecs(const std::vector<TensorSpec>& specs, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < specs.size(); ++i) {
    if (i) {
      out->push_back(',');
    }
    out->append("{\"name\":");
    AppendJsonString(specs[i].name, out);
    out->append(",\"datatype\":");
    AppendJsonString(DTypeName(specs[i].dtype), out);
    out->append(",\"shape\":");
    AppendShape(specs[i].shape, out);
    out->push_back('}');
  }
  out->push_back(']');
}

}  // namespace

size_t EncodeInferResponse(const InferRequest& request, const InferResponse& response,
                           const InferWireOptions& wire, std::string* body) {
  body->clear();
  body->append("{\"model_name\":");
  AppendJsonString(response.model_name, body);
  body->append(",\"model_version\":");
  AppendJsonString(response.model_version, body);
  if (wire.has_id) {
    body->append(",\"id\":");
    AppendJsonString(wire.id, body);
  }
  body->append(",\"outputs\":[");
  size_t binary_bytes = 0;
  for (size_t i = 0; i < response.outputs.size(); ++i) {
    const InferTensor& t = response.outputs[i];
    if (i) {
      body->push_back(',');
    }
    body->append("{\"name\":");
    AppendJsonString(t.name, body);
    body->append(",\"datatype\":");
    AppendJsonString(DTypeName(t.dtype), body);
    body->append(",\"shape\":");
    AppendShape(t.shape, body);
    if (IsBinary(request, wire, t.name)) {
      body->append(",\"parameters\":{\"binary_data_size\":");
      AppendJsonNumber(t.data.size(), body);
      body->push_back('}');
      binary_bytes += t.data.size();
    } else {
      body->append(",\"data\":");
      AppendData(t, body);
    }
    body->push_back('}');
  }
  body->append("]}");
  const size_t json_len = body->size();
  if (binary_bytes == 0) {
    return json_len;
  }
  for (const InferTensor& t : response.outputs) {
    if (IsBinary(request, wire, t.name)) {
      body->append(reinterpret_cast<const char*>(t.data.data()), t.data.size());
    }
  }
  return json_len;
}

void EncodeServerMetadata(const ServerMetadata& meta, std::string* body) {
  body->clear();
  body->append("{\"name\":");
  AppendJsonString(meta.name, body);
  body->append(",\"version\":");
  AppendJsonString(meta.version, body);
  body->append(",\"extensions\":[");
  for (size_t i = 0; i < meta.extensions.size(); ++i) {
    if (i) {
      body->push_back(',');
    }
    AppendJsonString(meta.extensions[i], body);
  }
  body->append("]}");
}

void EncodeModelMetadata(const ModelMetadata& meta, std::string* body) {
  body->clear();
  body->append("{\"name\":");
  AppendJsonString(meta.name, body);
  body->append(",\"versions\":[");
  for (size_t i = 0; i < meta.versions.size(); ++i) {
    if (i) {
      body->push_back(',');
    }
    AppendJsonString(meta.versions[i], body);
  }
  body->append("],\"platform\":");
  AppendJsonString(meta.platform, body);
  body->append(",\"inputs\":");
  AppendTensorSpecs(meta.inputs, body);
  body->append(",\"outputs\":");
  AppendTensorSpecs(meta.outputs, body);
  body->push_back('}');
}

void EncodeError(std::string_view message, std::string* body) {
  body->clear();
  body->append("{\"error\":");
  AppendJsonString(message, body);
  body->push_back('}');
}

}  // namespace hotpath::serve_internal
