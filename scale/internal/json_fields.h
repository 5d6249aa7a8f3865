// Typed, validating reads of fields from a parsed JSON config (catalog,
// policy, trace files). Every failure is INVALID_ARGUMENT naming the field
// path, e.g. "instances[2].vcpu: expected a number, got string". Never throws.
#ifndef HOTPATH_SCALE_INTERNAL_JSON_FIELDS_H_
#define HOTPATH_SCALE_INTERNAL_JSON_FIELDS_H_

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"

namespace hotpath::scale::internal {

// Parses `text` without exceptions. `what` names the document in errors
// ("catalog", "policy"); errors report the byte offset of a syntax error.
Result<nlohmann::json> ParseJsonDocument(std::string_view text, std::string_view what);

// Reads a whole file into a string; NOT_FOUND when it cannot be opened.
Result<std::string> ReadTextFile(const std::string& path);

// Name of a JSON value's type for error messages ("string", "number", ...).
std::string JsonTypeName(const nlohmann::json& v);

// Reads `obj[key]` at `path` ("instances[0]") as a finite number within
// [lo, hi]. When the key is absent, returns `fallback` if given, else an error.
Result<double> NumberField(const nlohmann::json& obj, std::string_view path, const char* key,
                           double lo, double hi, const double* fallback = nullptr);

// Reads `obj[key]` as an integer within [lo, hi]; same absence rule.
Result<int> IntField(const nlohmann::json& obj, std::string_view path, const char* key, int lo,
                     int hi, const int* fallback = nullptr);

// Reads `obj[key]` as a non-empty string; same absence rule.
Result<std::string> StringField(const nlohmann::json& obj, std::string_view path, const char* key,
                                const std::string* fallback = nullptr);

// Reads `obj[key]` as a boolean; same absence rule.
Result<bool> BoolField(const nlohmann::json& obj, std::string_view path, const char* key,
                       const bool* fallback = nullptr);

// OK when `v` is an object; otherwise an error naming `path`.
Status RequireObject(const nlohmann::json& v, std::string_view path);

// INVALID_ARGUMENT "path.key: unknown field" for the first key of `obj` not
// in `known` (catches typos that would otherwise be silently ignored). A
// "note" key is always allowed, for comments. REQUIRES: obj is an object.
Status RejectUnknownKeys(const nlohmann::json& obj, std::string_view path,
                         std::initializer_list<std::string_view> known);

// Joins a parent path and a key: ("policy", "min_replicas") -> "policy.min_replicas".
std::string FieldPath(std::string_view parent, std::string_view key);

}  // namespace hotpath::scale::internal

#endif  // HOTPATH_SCALE_INTERNAL_JSON_FIELDS_H_
