// ByteBuffer: a growable byte queue for socket I/O: append at the back,
// consume from the front, no zero-filling and no shrinking, so a connection's
// buffers stop allocating once they have grown to its largest message.
#ifndef HOTPATH_SERVE_INTERNAL_BYTE_BUFFER_H_
#define HOTPATH_SERVE_INTERNAL_BYTE_BUFFER_H_

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

namespace hotpath::serve_internal {

class ByteBuffer {
 public:
  ByteBuffer() = default;
  ~ByteBuffer() { std::free(data_); }
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;

  // The unconsumed bytes.
  std::string_view view() const { return {data_ + begin_, end_ - begin_}; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }

  // Returns space for at least `n` more bytes at the back (moving the
  // unconsumed bytes to the front first when that makes room).
  char* Reserve(size_t n) {
    if (cap_ - end_ >= n) {
      return data_ + end_;
    }
    if (begin_ > 0) {
      std::memmove(data_, data_ + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
      if (cap_ - end_ >= n) {
        return data_ + end_;
      }
    }
    size_t cap = cap_ ? cap_ : 4096;
    while (cap - end_ < n) {
      cap *= 2;
    }
    char* p = static_cast<char*>(std::realloc(data_, cap));
    if (p == nullptr) {
      throw std::bad_alloc();
    }
    data_ = p;
    cap_ = cap;
    return data_ + end_;
  }
  size_t free_space() const { return cap_ - end_; }
  // Marks `n` bytes written into Reserve()'s space as content.
  void Commit(size_t n) { end_ += n; }
  void Append(std::string_view s) {
    if (s.empty()) {
      return;
    }
    std::memcpy(Reserve(s.size()), s.data(), s.size());
    end_ += s.size();
  }
  // Drops `n` bytes from the front. REQUIRES: n <= size().
  void Consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) {
      begin_ = end_ = 0;
    }
  }
  void Clear() { begin_ = end_ = 0; }

 private:
  char* data_ = nullptr;
  size_t begin_ = 0;
  size_t end_ = 0;
  size_t cap_ = 0;
};

}  // namespace hotpath::serve_internal

#endif  // HOTPATH_SERVE_INTERNAL_BYTE_BUFFER_H_
