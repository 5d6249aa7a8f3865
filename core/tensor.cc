#include "core/tensor.h"

#include <cstdlib>
#include <cstring>
#include <string>

namespace hotpath {

size_t DTypeSize(DType dtype) {
  switch (dtype) {
    case DType::kFp32: return 4;
    case DType::kFp64: return 8;
    case DType::kInt8: return 1;
    case DType::kInt32: return 4;
    case DType::kInt64: return 8;
    case DType::kUint8: return 1;
    case DType::kBool: return 1;
  }
  return 1;
}

std::string_view DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kFp32: return "FP32";
    case DType::kFp64: return "FP64";
    case DType::kInt8: return "INT8";
    case DType::kInt32: return "INT32";
    case DType::kInt64: return "INT64";
    case DType::kUint8: return "UINT8";
    case DType::kBool: return "BOOL";
  }
  return "FP32";
}

Result<DType> ParseDType(std::string_view name) {
  for (DType d : {DType::kFp32, DType::kFp64, DType::kInt8, DType::kInt32, DType::kInt64,
                  DType::kUint8, DType::kBool}) {
    if (DTypeName(d) == name) return d;
  }
  return InvalidArgumentError("unknown datatype '" + std::string(name) + "'");
}

int64_t NumElements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

void Tensor::FreeDeleter::operator()(void* p) const { std::free(p); }

Tensor::Tensor(DType dtype, Shape shape)
    : dtype_(dtype), shape_(std::move(shape)), num_elements_(NumElements(shape_)) {
  constexpr size_t kAlign = 64;
  size_t bytes = (num_bytes() + kAlign - 1) / kAlign * kAlign;
  if (bytes == 0) bytes = kAlign;
  void* p = std::aligned_alloc(kAlign, bytes);
  std::memset(p, 0, bytes);
  data_.reset(p);
}

}  // namespace hotpath
