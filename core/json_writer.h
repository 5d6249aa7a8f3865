// Appending JSON fragments to a reused std::string: escaped strings and
// numbers in their shortest round-trip form (std::to_chars), so a float
// written here parses back to the same bits; JsonObjectWriter for objects.
#ifndef HOTPATH_CORE_JSON_WRITER_H_
#define HOTPATH_CORE_JSON_WRITER_H_

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace hotpath {

// Appends `s` as a quoted JSON string.
inline void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (u < 0x20) {
      out->append("\\u00");
      out->push_back(kHex[u >> 4]);
      out->push_back(kHex[u & 15]);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

// Appends a number; NaN and infinities (not JSON) become null.
template <typename T>
inline void AppendJsonNumber(T v, std::string* out) {
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(v)) {
      out->append("null");
      return;
    }
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, end);
}

// Writes one JSON object member by member into `*out`:
//   JsonObjectWriter w(&out);
//   w.Key("id").String(id);
//   w.Key("score").Number(0.5);
//   w.Close();  // "}" ("{}" when no member was written)
class JsonObjectWriter {
 public:
  explicit JsonObjectWriter(std::string* out) : out_(out) {}
  // Starts a member; follow with exactly one value.
  JsonObjectWriter& Key(std::string_view key) {
    out_->push_back(first_ ? '{' : ',');
    first_ = false;
    AppendJsonString(key, out_);
    out_->push_back(':');
    return *this;
  }
  void String(std::string_view s) { AppendJsonString(s, out_); }
  template <typename T>
  void Number(T v) {
    AppendJsonNumber(v, out_);
  }
  void Null() { out_->append("null"); }
  // `json`: a complete JSON value's text, appended as is.
  void Raw(std::string_view json) { out_->append(json); }
  void Close() { out_->append(first_ ? "{}" : "}"); }

 private:
  std::string* out_;
  bool first_ = true;
};

}  // namespace hotpath

#endif  // HOTPATH_CORE_JSON_WRITER_H_
