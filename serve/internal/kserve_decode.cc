// Decoding of KServe v2 infer request bodies (see kserve_codec.h).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "serve/internal/json_reader.h"
#include "serve/internal/kserve_codec.h"

namespace hotpath::serve_internal {
namespace {

constexpr size_t kMaxRank = 16;
constexpr int64_t kMaxElements = int64_t{1} << 40;

std::string InputField(size_t index, std::string_view field) {
  return "inputs[" + std::to_string(index) + "]" + (field.empty() ? "" : ".") + std::string(field);
}

// INVALID_ARGUMENT "<field>: <reader's syntax error>".
Status SyntaxError(const std::string& field, const JsonReader& r) {
  return InvalidArgumentError(field + ": " + r.status().message());
}

std::string ShapeString(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    s += (i ? "," : "") + std::to_string(shape[i]);
  }
  return s + "]";
}

// Writes the count-th element of T into the tensor, growing it when needed.
template <typename T>
void Store(T v, InferTensor* t, size_t count) {
  const size_t need = (count + 1) * sizeof(T);
  if (need > t->data.size()) {
    t->data.resize(std::max<size_t>(need, t->data.size() * 2));
  }
  std::memcpy(t->data.data() + count * sizeof(T), &v, sizeof(T));
}

// Reads one scalar element of the tensor's dtype.
template <typename T>
Status ReadOne(JsonReader& r, size_t index, InferTensor* t, size_t* count) {
  T v{};
  if constexpr (std::is_floating_point_v<T>) {
    // null is NaN (missing), the only way to send one in JSON.
    if (r.ReadNull()) {
      v = std::numeric_limits<T>::quiet_NaN();
    } else if (!(std::is_same_v<T, float> ? r.ReadFloat(reinterpret_cast<float*>(&v))
                                          : r.ReadDouble(reinterpret_cast<double*>(&v)))) {
      return SyntaxError(InputField(index, "data[" + std::to_string(*count) + "]"), r);
    }
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!r.ReadBool(&v)) {
      return SyntaxError(InputField(index, "data[" + std::to_string(*count) + "]"), r);
    }
  } else {
    int64_t x = 0;
    if (!r.ReadInt(&x)) {
      return SyntaxError(InputField(index, "data[" + std::to_string(*count) + "]"), r);
    }
    if (x < std::numeric_limits<T>::min() || x > std::numeric_limits<T>::max()) {
      return InvalidArgumentError(InputField(index, "data[" + std::to_string(*count) + "]") + ": " +
                                  std::to_string(x) + " is out of range for " +
                                  std::string(DTypeName(t->dtype)));
    }
    v = static_cast<T>(x);
  }
  Store<T>(v, t, (*count)++);
  return OkStatus();
}

// Reads a value or a (nested) array of values, flattening row-major.
template <typename T>
Status ReadValues(JsonReader& r, size_t index, InferTensor* t, size_t* count) {
  if (r.Peek() != '[') {
    return ReadOne<T>(r, index, t, count);
  }
  if (!r.BeginArray()) {
    return SyntaxError(InputField(index, "data"), r);
  }
  while (r.NextElement()) {
    RETURN_IF_ERROR(ReadValues<T>(r, index, t, count));
  }
  return r.ok() ? OkStatus() : SyntaxError(InputField(index, "data"), r);
}

Status ReadData(JsonReader& r, size_t index, InferTensor* t, size_t* count) {
  switch (t->dtype) {
    case DType::kFp32:
      return ReadValues<float>(r, index, t, count);
    case DType::kFp64:
      return ReadValues<double>(r, index, t, count);
    case DType::kInt8:
      return ReadValues<int8_t>(r, index, t, count);
    case DType::kInt32:
      return ReadValues<int32_t>(r, index, t, count);
    case DType::kInt64:
      return ReadValues<int64_t>(r, index, t, count);
    case DType::kUint8:
      return ReadValues<uint8_t>(r, index, t, count);
    case DType::kBool:
      return ReadValues<bool>(r, index, t, count);
  }
  return InternalError("unhandled dtype");
}

// Decodes `data` once the dtype and shape are known; checks the count.
// `text_bytes` bounds the pre-sizing: each value takes at least two bytes.
Status DecodeData(JsonReader& r, size_t index, size_t text_bytes, InferTensor* t) {
  const int64_t expected = NumElements(t->shape);
  // Pre-size from the shape, but never beyond what the text could hold.
  const size_t cap = std::min<size_t>(static_cast<size_t>(expected), text_bytes / 2 + 1);
  t->data.resize(cap * DTypeSize(t->dtype));
  size_t count = 0;
  RETURN_IF_ERROR(ReadData(r, index, t, &count));
  if (static_cast<int64_t>(count) != expected) {
    return InvalidArgumentError(InputField(index, "data") + ": " + std::to_string(count) +
                                " values but shape " + ShapeString(t->shape) + " needs " +
                                std::to_string(expected));
  }
  t->data.resize(count * DTypeSize(t->dtype));
  return OkStatus();
}

Status DecodeShape(JsonReader& r, size_t index, Shape* shape) {
  shape->clear();
  if (!r.BeginArray()) {
    return SyntaxError(InputField(index, "shape"), r);
  }
  int64_t elements = 1;
  while (r.NextElement()) {
    int64_t d = 0;
    if (!r.ReadInt(&d)) {
      return SyntaxError(InputField(index, "shape"), r);
    }
    if (d < 0 || shape->size() >= kMaxRank) {
      return InvalidArgumentError(InputField(index, "shape") +
                                  ": dimensions must be >= 0, at most 16 of them");
    }
    elements = d == 0 ? 0 : (elements > kMaxElements / d ? kMaxElements + 1 : elements * d);
    if (elements > kMaxElements) {
      return InvalidArgumentError(InputField(index, "shape") + ": too many elements");
    }
    shape->push_back(d);
  }
  return r.ok() ? OkStatus() : SyntaxError(InputField(index, "shape"), r);
}

Status DecodeDType(JsonReader& r, size_t index, DType* dtype) {
  std::string_view name;
  if (!r.ReadString(&name)) {
    return SyntaxError(InputField(index, "datatype"), r);
  }
  Result<DType> d = ParseDType(name);
  if (!d.ok()) {
    return InvalidArgumentError(InputField(index, "datatype") + ": '" + std::string(name) +
                                "' is not one of FP32, FP64, INT8, INT32, INT64, UINT8, BOOL");
  }
  *dtype = *d;
  return OkStatus();
}

// What one input object carried, to check once the object is read.
struct InputFields {
  bool name = false, shape = false, dtype = false, data = false;
  std::string_view deferred_data;  // data seen before its datatype or shape
  int64_t binary_size = -1;
};

Status DecodeInputParameters(JsonReader& r, size_t index, InputFields* f) {
  std::string_view key;
  if (!r.BeginObject()) {
    return SyntaxError(InputField(index, "parameters"), r);
  }
  while (r.NextKey(&key)) {
    if (key == "binary_data_size") {
      uint64_t n = 0;
      if (!r.ReadUint(&n)) {
        return SyntaxError(InputField(index, "parameters.binary_data_size"), r);
      }
      f->binary_size = static_cast<int64_t>(std::min<uint64_t>(n, kMaxElements));
    } else if (!r.SkipValue()) {
      break;
    }
  }
  return r.ok() ? OkStatus() : SyntaxError(InputField(index, "parameters"), r);
}

Status DecodeInputMember(JsonReader& r, std::string_view key, size_t index, InferTensor* t,
                         InputFields* f) {
  if (key == "name") {
    std::string_view name;
    if (!r.ReadString(&name)) {
      return SyntaxError(InputField(index, "name"), r);
    }
    t->name.assign(name);
    f->name = true;
  } else if (key == "shape") {
    RETURN_IF_ERROR(DecodeShape(r, index, &t->shape));
    f->shape = true;
  } else if (key == "datatype") {
    RETURN_IF_ERROR(DecodeDType(r, index, &t->dtype));
    f->dtype = true;
  } else if (key == "data") {
    f->data = true;
    if (f->shape && f->dtype) {
      return DecodeData(r, index, r.remaining(), t);
    }
    if (!r.SkipValue(&f->deferred_data)) {
      return SyntaxError(InputField(index, "data"), r);
    }
  } else if (key == "parameters") {
    return DecodeInputParameters(r, index, f);
  } else if (!r.SkipValue()) {  // `key` may be gone: skipping reads strings
    return SyntaxError(InputField(index, ""), r);
  }
  return OkStatus();
}

// Decodes inputs[index]; `*binary_size` gets its binary byte count, or -1
// when its values came in JSON.
Status DecodeInput(JsonReader& r, size_t index, InferTensor* t, int64_t* binary_size) {
  InputFields f;
  *binary_size = -1;
  std::string_view key;
  if (!r.BeginObject()) {
    return SyntaxError(InputField(index, ""), r);
  }
  while (r.NextKey(&key)) {
    RETURN_IF_ERROR(DecodeInputMember(r, key, index, t, &f));
  }
  if (!r.ok()) {
    return SyntaxError(InputField(index, ""), r);
  }
  if (!f.name) {
    return InvalidArgumentError(InputField(index, "name") + ": required");
  }
  if (!f.shape) {
    return InvalidArgumentError(InputField(index, "shape") + ": required");
  }
  if (!f.dtype) {
    return InvalidArgumentError(InputField(index, "datatype") + ": required");
  }
  if (f.data == (f.binary_size >= 0)) {
    return InvalidArgumentError(InputField(index, "data") +
                                ": give either data or parameters.binary_data_size, not both");
  }
  if (f.binary_size >= 0) {
    const int64_t want = NumElements(t->shape) * static_cast<int64_t>(DTypeSize(t->dtype));
    if (f.binary_size != want) {
      return InvalidArgumentError(
          InputField(index, "parameters.binary_data_size") + ": " + std::to_string(f.binary_size) +
          " bytes but shape " + ShapeString(t->shape) + " of " + std::string(DTypeName(t->dtype)) +
          " needs " + std::to_string(want));
    }
    *binary_size = want;
  }
  if (!f.deferred_data.empty()) {
    JsonReader sub(f.deferred_data);
    RETURN_IF_ERROR(DecodeData(sub, index, f.deferred_data.size(), t));
  }
  return OkStatus();
}

Status DecodeInputs(JsonReader& r, InferRequest* request, InferWireOptions* wire) {
  if (!r.BeginArray()) {
    return SyntaxError("inputs", r);
  }
  size_t n = 0;
  while (r.NextElement()) {
    if (request->inputs.size() <= n) {
      request->inputs.emplace_back();
    }
    if (wire->binary_input_bytes.size() <= n) {
      wire->binary_input_bytes.push_back(-1);
    }
    RETURN_IF_ERROR(DecodeInput(r, n, &request->inputs[n], &wire->binary_input_bytes[n]));
    ++n;
  }
  if (!r.ok()) {
    return SyntaxError("inputs", r);
  }
  if (n == 0) {
    return InvalidArgumentError("inputs: at least one input is required");
  }
  request->inputs.resize(n);
  wire->binary_input_bytes.resize(n);
  return OkStatus();
}

Status DecodeOutput(JsonReader& r, size_t index, std::string* name, uint8_t* binary) {
  const std::string field = "outputs[" + std::to_string(index) + "]";
  std::string_view key, s;
  bool has_name = false;
  if (!r.BeginObject()) {
    return SyntaxError(field, r);
  }
  while (r.NextKey(&key)) {
    if (key == "name") {
      if (!r.ReadString(&s)) {
        return SyntaxError(field + ".name", r);
      }
      name->assign(s);
      has_name = true;
    } else if (key == "parameters") {
      if (!r.BeginObject()) {
        return SyntaxError(field + ".parameters", r);
      }
      while (r.NextKey(&key)) {
        if (key == "binary_data") {
          bool b = false;
          if (!r.ReadBool(&b)) {
            return SyntaxError(field + ".parameters.binary_data", r);
          }
          *binary = b;
        } else if (key == "classification") {
          return InvalidArgumentError(field + ".parameters.classification: not supported");
        } else if (!r.SkipValue()) {
          break;
        }
      }
    } else if (!r.SkipValue()) {
      break;
    }
  }
  if (!r.ok()) {
    return SyntaxError(field, r);
  }
  return has_name ? OkStatus() : InvalidArgumentError(field + ".name: required");
}

Status DecodeOutputs(JsonReader& r, InferRequest* request, InferWireOptions* wire) {
  if (!r.BeginArray()) {
    return SyntaxError("outputs", r);
  }
  size_t n = 0;
  while (r.NextElement()) {
    if (request->requested_outputs.size() <= n) {
      request->requested_outputs.emplace_back();
    }
    if (wire->binary_outputs.size() <= n) {
      wire->binary_outputs.push_back(0);
    }
    wire->binary_outputs[n] = 0;
    RETURN_IF_ERROR(DecodeOutput(r, n, &request->requested_outputs[n], &wire->binary_outputs[n]));
    ++n;
  }
  if (!r.ok()) {
    return SyntaxError("outputs", r);
  }
  request->requested_outputs.resize(n);
  wire->binary_outputs.resize(n);
  return OkStatus();
}

Status DecodeRequestParameters(JsonReader& r, InferRequest* request, InferWireOptions* wire) {
  std::string_view key;
  if (!r.BeginObject()) {
    return SyntaxError("parameters", r);
  }
  while (r.NextKey(&key)) {
    uint64_t n = 0;
    if (key == "binary_data_output") {
      if (!r.ReadBool(&wire->binary_output_all)) {
        return SyntaxError("parameters.binary_data_output", r);
      }
    } else if (key == "priority") {
      if (!r.ReadUint(&n) || n > 1000) {
        return r.ok() ? InvalidArgumentError("parameters.priority: must be in [0, 1000]")
                      : SyntaxError("parameters.priority", r);
      }
      request->priority = static_cast<int>(n);
    } else if (key == "timeout") {
      if (!r.ReadUint(&n)) {
        return SyntaxError("parameters.timeout", r);
      }
      request->timeout = std::chrono::microseconds(std::min<uint64_t>(n, uint64_t{1} << 40));
    } else if (!r.SkipValue()) {
      break;
    }
  }
  return r.ok() ? OkStatus() : SyntaxError("parameters", r);
}

Status DecodeTopLevel(JsonReader& r, InferRequest* request, InferWireOptions* wire) {
  std::string_view key, s;
  bool has_inputs = false;
  if (!r.BeginObject()) {
    return r.status();
  }
  while (r.NextKey(&key)) {
    if (key == "id") {
      if (!r.ReadString(&s)) {
        return SyntaxError("id", r);
      }
      wire->id.assign(s);
      wire->has_id = true;
    } else if (key == "parameters") {
      RETURN_IF_ERROR(DecodeRequestParameters(r, request, wire));
    } else if (key == "inputs") {
      RETURN_IF_ERROR(DecodeInputs(r, request, wire));
      has_inputs = true;
    } else if (key == "outputs") {
      RETURN_IF_ERROR(DecodeOutputs(r, request, wire));
    } else if (!r.SkipValue()) {
      break;
    }
  }
  if (!r.ok()) {
    return r.status();
  }
  if (!r.AtEnd()) {
    return InvalidArgumentError("malformed JSON: trailing characters after the object");
  }
  return has_inputs ? OkStatus() : InvalidArgumentError("inputs: required");
}

// Copies the binary section into the inputs that declared binary_data_size.
Status AssignBinary(std::string_view binary, InferRequest* request, const InferWireOptions& wire) {
  size_t offset = 0;
  for (size_t i = 0; i < request->inputs.size(); ++i) {
    const int64_t n = wire.binary_input_bytes[i];
    if (n < 0) {
      continue;
    }
    if (offset + static_cast<size_t>(n) > binary.size()) {
      return InvalidArgumentError(InputField(i, "parameters.binary_data_size") + ": " +
                                  std::to_string(n) + " bytes at offset " + std::to_string(offset) +
                                  " run past the binary section of " +
                                  std::to_string(binary.size()) + " bytes");
    }
    std::vector<std::byte>& data = request->inputs[i].data;
    data.resize(static_cast<size_t>(n));
    if (n > 0) {
      std::memcpy(data.data(), binary.data() + offset, static_cast<size_t>(n));
    }
    offset += static_cast<size_t>(n);
    if (request->inputs[i].dtype == DType::kBool) {
      for (std::byte b : data) {
        if (b != std::byte{0} && b != std::byte{1}) {
          return InvalidArgumentError(InputField(i, "") +
                                      ": BOOL binary data must be bytes 0 or 1");
        }
      }
    }
  }
  if (offset != binary.size()) {
    return InvalidArgumentError("binary section: " + std::to_string(binary.size()) +
                                " bytes after the JSON header but the inputs declare " +
                                std::to_string(offset));
  }
  return OkStatus();
}

}  // namespace

Status DecodeInferRequest(std::string_view body, int64_t json_bytes, InferRequest* request,
                          InferWireOptions* wire) {
  if (json_bytes > static_cast<int64_t>(body.size())) {
    return InvalidArgumentError("Inference-Header-Content-Length: " + std::to_string(json_bytes) +
                                " is larger than the body of " + std::to_string(body.size()) +
                                " bytes");
  }
  const size_t json_len = json_bytes < 0 ? body.size() : static_cast<size_t>(json_bytes);
  request->requested_outputs.clear();
  request->priority = 0;
  request->timeout = Nanos(0);
  wire->has_id = false;
  wire->binary_output_all = false;
  wire->binary_outputs.clear();
  JsonReader r(body.substr(0, json_len));
  RETURN_IF_ERROR(DecodeTopLevel(r, request, wire));
  return AssignBinary(body.substr(json_len), request, *wire);
}

}  // namespace hotpath::serve_internal
