// Little-endian binary encoding for snapshots, the write-ahead log and Redis
// values. ByteReader never reads past its input: a short or corrupt input
// turns `ok()` false and yields zeros, so decoders check once at the end.
#ifndef HOTPATH_FEATURES_INTERNAL_CODEC_H_
#define HOTPATH_FEATURES_INTERNAL_CODEC_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace hotpath::features::internal {

class ByteWriter {
 public:
  explicit ByteWriter(std::string* out) : out_(out) {}
  template <typename T>
  void Put(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_->append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  void PutString(std::string_view s) {
    Put<uint32_t>(static_cast<uint32_t>(s.size()));
    out_->append(s);
  }

 private:
  std::string* out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  template <typename T>
  T Get() {
    T v{};
    if (!ok_ || in_.size() < sizeof(T)) {
      ok_ = false;
      return v;
    }
    std::memcpy(&v, in_.data(), sizeof(T));
    in_.remove_prefix(sizeof(T));
    return v;
  }
  std::string_view GetString() {
    uint32_t n = Get<uint32_t>();
    if (!ok_ || in_.size() < n) {
      ok_ = false;
      return {};
    }
    std::string_view s = in_.substr(0, n);
    in_.remove_prefix(n);
    return s;
  }
  // Rejects a count that could not fit in the remaining bytes (corrupt input).
  bool CountFits(uint64_t count, std::size_t min_bytes_each) {
    if (count > in_.size() / (min_bytes_each ? min_bytes_each : 1)) ok_ = false;
    return ok_;
  }
  bool ok() const { return ok_; }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace hotpath::features::internal

#endif  // HOTPATH_FEATURES_INTERNAL_CODEC_H_
