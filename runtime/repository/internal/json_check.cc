#include "runtime/repository/internal/json_check.h"

#include <limits>

namespace hotpath::repository_internal {

JsonPath JsonPath::Key(std::string_view key) const {
  return JsonPath(file_, path_.empty() ? std::string(key) : path_ + "." + std::string(key));
}

JsonPath JsonPath::Index(size_t index) const {
  return JsonPath(file_, path_ + "[" + std::to_string(index) + "]");
}

Status JsonPath::Error(std::string_view reason) const {
  std::string m(file_);
  m += ": ";
  if (!path_.empty()) m += path_ + ": ";
  m += reason;
  return InvalidArgumentError(std::move(m));
}

std::string Brief(const nlohmann::json& v) {
  std::string s = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  constexpr size_t kMax = 40;
  if (s.size() > kMax) s = s.substr(0, kMax) + "...";
  return s;
}

Status CheckObject(const nlohmann::json& v, const JsonPath& at,
                   std::initializer_list<std::string_view> allowed) {
  if (!v.is_object()) return at.Error("must be an object, got " + Brief(v));
  for (const auto& [key, value] : v.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || key == a;
    if (!known) return at.Key(key).Error("unknown key");
  }
  return OkStatus();
}

const nlohmann::json* Find(const nlohmann::json& obj, std::string_view key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

Result<int64_t> ReadInt(const nlohmann::json& v, const JsonPath& at, int64_t min, int64_t max) {
  if (!v.is_number_integer()) return at.Error("must be an integer, got " + Brief(v));
  bool too_big = v.is_number_unsigned() &&
                 v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  int64_t x = too_big ? std::numeric_limits<int64_t>::max() : v.get<int64_t>();
  if (x < min) return at.Error("must be >= " + std::to_string(min) + ", got " + Brief(v));
  if (too_big || x > max) {
    return at.Error("must be <= " + std::to_string(max) + ", got " + Brief(v));
  }
  return x;
}

Result<std::string> ReadString(const nlohmann::json& v, const JsonPath& at) {
  if (!v.is_string()) return at.Error("must be a string, got " + Brief(v));
  const std::string& s = v.get_ref<const std::string&>();
  if (s.empty()) return at.Error("must not be empty");
  if (s.size() > 256) return at.Error("must be at most 256 bytes");
  return s;
}

}  // namespace hotpath::repository_internal
