// The one runtime value representation of the rule VM: a 16-byte untagged
// union. The type of every slot is known at compile time, so no tag is kept.
#ifndef HOTPATH_RULES_INTERNAL_VALUE_H_
#define HOTPATH_RULES_INTERNAL_VALUE_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace hotpath::rules::internal {

// A borrowed string: the bytes belong to the caller's event, the compiled
// program's constant pool, or the evaluation's string arena.
struct StrRef {
  const char* data;
  size_t size;
};

union Value {
  double number;  // Type::kNumber
  int64_t time;   // Type::kTime, unix seconds
  bool boolean;   // Type::kBool
  StrRef str;     // Type::kString
};
static_assert(sizeof(Value) == 16);

inline std::string_view AsView(const Value& v) { return {v.str.data, v.str.size}; }

// Bytewise equality, inlined for the short strings rules compare (codes,
// categories); longer ones go to memcmp.
inline bool BytesEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.size() > 16) return std::memcmp(a.data(), b.data(), a.size()) == 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}
inline Value NumberValue(double d) {
  Value v;
  v.number = d;
  return v;
}
inline Value TimeValue(int64_t t) {
  Value v;
  v.time = t;
  return v;
}
inline Value BoolValue(bool b) {
  Value v;
  v.str = StrRef{nullptr, 0};
  v.boolean = b;
  return v;
}
inline Value StringValue(std::string_view s) {
  Value v;
  v.str = StrRef{s.data(), s.size()};
  return v;
}

}  // namespace hotpath::rules::internal

#endif  // HOTPATH_RULES_INTERNAL_VALUE_H_
