// Reading ONNX TensorProtos and attributes into plain arrays, with every size
// checked against the bytes actually present.
#ifndef HOTPATH_RUNTIME_DENSE_INTERNAL_ONNX_TENSOR_H_
#define HOTPATH_RUNTIME_DENSE_INTERNAL_ONNX_TENSOR_H_

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace hotpath::dense::internal {

// A constant: an initializer or a Constant node's value, as float or int64.
struct ConstTensor {
  std::vector<int64_t> dims;
  std::vector<float> f;    // FLOAT / DOUBLE tensors
  std::vector<double> d;   // DOUBLE tensors, exactly (f holds them rounded)
  std::vector<int64_t> i;  // INT64 / INT32 tensors
  bool is_int = false;
  int64_t numel() const {
    return is_int ? static_cast<int64_t>(i.size()) : static_cast<int64_t>(f.size());
  }
};

// INVALID_ARGUMENT naming the tensor for unsupported types, external data or
// sizes that disagree with dims.
Result<ConstTensor> ReadTensor(const onnx::TensorProto& t);

// A node's attribute by name, or null.
const onnx::AttributeProto* FindAttr(const onnx::NodeProto& node, const char* name);
// Its scalar value, or `def` when absent.
float AttrF(const onnx::NodeProto& node, const char* name, float def);
int64_t AttrI(const onnx::NodeProto& node, const char* name, int64_t def);
std::string AttrS(const onnx::NodeProto& node, const char* name, const std::string& def);

}  // namespace hotpath::dense::internal

#endif  // HOTPATH_RUNTIME_DENSE_INTERNAL_ONNX_TENSOR_H_
