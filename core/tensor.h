// Tensor: a dtype, a shape and an owned, 64-byte-aligned row-major buffer.
//
// The unit of data between the front end, the scheduler and the model
// backends. A Tensor owns its bytes (move-only); TensorView borrows them.
#ifndef HOTPATH_CORE_TENSOR_H_
#define HOTPATH_CORE_TENSOR_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace hotpath {

enum class DType : uint8_t { kFp32, kFp64, kInt8, kInt32, kInt64, kUint8, kBool };

// Size of one element in bytes.
size_t DTypeSize(DType dtype);
// KServe v2 datatype name: "FP32", "FP64", "INT8", "INT32", "INT64", "UINT8", "BOOL".
std::string_view DTypeName(DType dtype);
// Parses a KServe v2 datatype name; INVALID_ARGUMENT naming it when unknown.
Result<DType> ParseDType(std::string_view name);

template <typename T> constexpr DType DTypeOf();
template <> constexpr DType DTypeOf<float>() { return DType::kFp32; }
template <> constexpr DType DTypeOf<double>() { return DType::kFp64; }
template <> constexpr DType DTypeOf<int8_t>() { return DType::kInt8; }
template <> constexpr DType DTypeOf<int32_t>() { return DType::kInt32; }
template <> constexpr DType DTypeOf<int64_t>() { return DType::kInt64; }
template <> constexpr DType DTypeOf<uint8_t>() { return DType::kUint8; }

using Shape = std::vector<int64_t>;

// Number of elements of `shape` (1 for a scalar). REQUIRES: all dims >= 0.
int64_t NumElements(const Shape& shape);

class Tensor {
 public:
  // An empty FP32 tensor of shape [0].
  Tensor() : Tensor(DType::kFp32, {0}) {}
  // A zero-filled tensor. REQUIRES: all dims >= 0.
  Tensor(DType dtype, Shape shape);

  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;
  Tensor(const Tensor&) = delete;
  Tensor& operator=(const Tensor&) = delete;

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t num_elements() const { return num_elements_; }
  size_t num_bytes() const { return static_cast<size_t>(num_elements_) * DTypeSize(dtype_); }

  void* raw() { return data_.get(); }
  const void* raw() const { return data_.get(); }
  // REQUIRES: DTypeOf<T>() == dtype().
  template <typename T> T* data() { return static_cast<T*>(raw()); }
  template <typename T> const T* data() const { return static_cast<const T*>(raw()); }

 private:
  struct FreeDeleter {
    void operator()(void* p) const;
  };
  DType dtype_;
  Shape shape_;
  int64_t num_elements_;
  std::unique_ptr<void, FreeDeleter> data_;
};

}  // namespace hotpath

#endif  // HOTPATH_CORE_TENSOR_H_
