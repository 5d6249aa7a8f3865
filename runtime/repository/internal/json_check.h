// Checked reads of nlohmann-json values for config parsing: each read names
// the file and the key path ("dynamic_batching.preferred_batch_sizes[2]") in
// its INVALID_ARGUMENT error. None of these throw.
#ifndef HOTPATH_RUNTIME_REPOSITORY_INTERNAL_JSON_CHECK_H_
#define HOTPATH_RUNTIME_REPOSITORY_INTERNAL_JSON_CHECK_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace hotpath::repository_internal {

// Where a value sits: the file and the dotted key path inside it.
class JsonPath {
 public:
  JsonPath(std::string_view file, std::string path) : file_(file), path_(std::move(path)) {}
  // The path of member `key` / element `index` of this value.
  JsonPath Key(std::string_view key) const;
  JsonPath Index(size_t index) const;
  // INVALID_ARGUMENT "<file>: <path>: <reason>" ("<file>: <reason>" at the root).
  Status Error(std::string_view reason) const;
  const std::string& path() const { return path_; }

 private:
  std::string_view file_;
  std::string path_;
};

// A short rendering of `v` for messages (at most ~40 characters).
std::string Brief(const nlohmann::json& v);

// OK when `v` is an object whose keys are all in `allowed`; else names the
// first unknown key.
Status CheckObject(const nlohmann::json& v, const JsonPath& at,
                   std::initializer_list<std::string_view> allowed);

// Member `key` of object `obj`, or null when absent.
const nlohmann::json* Find(const nlohmann::json& obj, std::string_view key);

// An integer in [min, max]; floats, strings and out-of-range values are refused.
Result<int64_t> ReadInt(const nlohmann::json& v, const JsonPath& at, int64_t min, int64_t max);
// A non-empty string of at most 256 bytes.
Result<std::string> ReadString(const nlohmann::json& v, const JsonPath& at);

}  // namespace hotpath::repository_internal

#endif  // HOTPATH_RUNTIME_REPOSITORY_INTERNAL_JSON_CHECK_H_
