#include "runtime/dense/internal/onnx_tensor.h"

#include <cstring>

namespace hotpath::dense::internal {
namespace {

constexpr int64_t kMaxElements = int64_t{1} << 30;

Status TensorError(const onnx::TensorProto& t, const std::string& what) {
  return InvalidArgumentError("ONNX tensor '" + t.name() + "': " + what);
}

Result<int64_t> CheckedNumel(const onnx::TensorProto& t) {
  int64_t n = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || (d > 0 && n > kMaxElements / d)) return TensorError(t, "bad or huge dims");
    n *= d;
  }
  return n;
}

template <typename Raw, typename Out>
Status FromRaw(const onnx::TensorProto& t, int64_t n, std::vector<Out>* out) {
  if (t.raw_data().size() != static_cast<size_t>(n) * sizeof(Raw)) {
    return TensorError(t, "raw_data has " + std::to_string(t.raw_data().size()) + " bytes for " +
                              std::to_string(n) + " elements");
  }
  out->resize(n);
  for (int64_t k = 0; k < n; ++k) {
    Raw v;
    std::memcpy(&v, t.raw_data().data() + k * sizeof(Raw), sizeof(Raw));
    (*out)[k] = static_cast<Out>(v);
  }
  return OkStatus();
}

template <typename Field, typename Out>
Status FromField(const onnx::TensorProto& t, const Field& field, int64_t n, std::vector<Out>* out) {
  if (field.size() != n) {
    return TensorError(t, "has " + std::to_string(field.size()) + " values for " +
                              std::to_string(n) + " elements");
  }
  out->assign(field.begin(), field.end());
  return OkStatus();
}

}  // namespace

Result<ConstTensor> ReadTensor(const onnx::TensorProto& t) {
  if (t.data_location() == onnx::TensorProto::EXTERNAL) return TensorError(t, "external data");
  ASSIGN_OR_RETURN(const int64_t n, CheckedNumel(t));
  ConstTensor c;
  c.dims.assign(t.dims().begin(), t.dims().end());
  const bool raw = t.has_raw_data();
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      RETURN_IF_ERROR(raw ? FromRaw<float>(t, n, &c.f) : FromField(t, t.float_data(), n, &c.f));
      break;
    case onnx::TensorProto::DOUBLE:
      RETURN_IF_ERROR(raw ? FromRaw<double>(t, n, &c.d) : FromField(t, t.double_data(), n, &c.d));
      c.f.assign(c.d.begin(), c.d.end());
      break;
    case onnx::TensorProto::INT64:
      c.is_int = true;
      RETURN_IF_ERROR(raw ? FromRaw<int64_t>(t, n, &c.i) : FromField(t, t.int64_data(), n, &c.i));
      break;
    case onnx::TensorProto::INT32:
      c.is_int = true;
      RETURN_IF_ERROR(raw ? FromRaw<int32_t>(t, n, &c.i) : FromField(t, t.int32_data(), n, &c.i));
      break;
    default:
      return TensorError(t, "unsupported data_type " + std::to_string(t.data_type()));
  }
  return c;
}

const onnx::AttributeProto* FindAttr(const onnx::NodeProto& node, const char* name) {
  for (const auto& a : node.attribute()) {
    if (a.name() == name) return &a;
  }
  return nullptr;
}

float AttrF(const onnx::NodeProto& node, const char* name, float def) {
  const onnx::AttributeProto* a = FindAttr(node, name);
  return a != nullptr ? a->f() : def;
}

int64_t AttrI(const onnx::NodeProto& node, const char* name, int64_t def) {
  const onnx::AttributeProto* a = FindAttr(node, name);
  return a != nullptr ? a->i() : def;
}

std::string AttrS(const onnx::NodeProto& node, const char* name, const std::string& def) {
  const onnx::AttributeProto* a = FindAttr(node, name);
  return a != nullptr ? a->s() : def;
}

}  // namespace hotpath::dense::internal
