// AlignedArray: an owned, 64-byte-aligned, zero-initialised array for packed
// weights and scratch (cache-line aligned so kernels may use aligned loads).
#ifndef HOTPATH_RUNTIME_DENSE_INTERNAL_ALIGNED_H_
#define HOTPATH_RUNTIME_DENSE_INTERNAL_ALIGNED_H_

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

namespace hotpath::dense::internal {

template <typename T>
class AlignedArray {
 public:
  AlignedArray() = default;
  // REQUIRES: T is trivially copyable. Throws std::bad_alloc like new.
  explicit AlignedArray(size_t n) : size_(n) {
    if (n == 0) return;
    const size_t bytes = (n * sizeof(T) + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, bytes);
    if (p == nullptr) throw std::bad_alloc();
    std::memset(p, 0, bytes);
    data_.reset(static_cast<T*>(p));
  }
  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return data_.get()[i]; }
  const T& operator[](size_t i) const { return data_.get()[i]; }

 private:
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T, Free> data_;
  size_t size_ = 0;
};

}  // namespace hotpath::dense::internal

#endif  // HOTPATH_RUNTIME_DENSE_INTERNAL_ALIGNED_H_
