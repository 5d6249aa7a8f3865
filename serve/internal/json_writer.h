// Appending JSON fragments to a reused std::string: escaped strings and
// numbers in their shortest round-trip form (std::to_chars), so a float
// written here parses back to the same bits.
#ifndef HOTPATH_SERVE_INTERNAL_JSON_WRITER_H_
#define HOTPATH_SERVE_INTERNAL_JSON_WRITER_H_

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace hotpath::serve_internal {

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

}  // namespace hotpath::serve_internal

#endif  // HOTPATH_SERVE_INTERNAL_JSON_WRITER_H_
