#include "scale/internal/json_fields.h"

#include <cmath>
#include <fstream>
#include <sstream>

namespace hotpath::scale::internal {

using nlohmann::json;

Result<json> ParseJsonDocument(std::string_view text, std::string_view what) {
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return InvalidArgumentError(std::string(what) + ": not valid JSON (" +
                                std::to_string(text.size()) + " bytes)");
  }
  return doc;
}

Result<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFoundError("cannot open file '" + path + "'");
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string JsonTypeName(const json& v) { return v.type_name(); }

std::string FieldPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) {
    return std::string(key);
  }
  return std::string(parent) + "." + std::string(key);
}

Status RequireObject(const json& v, std::string_view path) {
  if (v.is_object()) {
    return OkStatus();
  }
  return InvalidArgumentError(std::string(path) + ": expected an object, got " + JsonTypeName(v));
}

Status RejectUnknownKeys(const json& obj, std::string_view path,
                         std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : obj.items()) {
    if (key == "note") {
      continue;
    }
    bool found = false;
    for (std::string_view k : known) {
      found = found || k == key;
    }
    if (!found) {
      return InvalidArgumentError(FieldPath(path, key) + ": unknown field");
    }
  }
  return OkStatus();
}

namespace {

// Finds `key` in `obj`; nullptr when absent. REQUIRES: obj is an object.
const json* Find(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

Status Missing(std::string_view path, const char* key) {
  return InvalidArgumentError(FieldPath(path, key) + ": required field is missing");
}

}  // namespace

Result<double> NumberField(const json& obj, std::string_view path, const char* key, double lo,
                           double hi, const double* fallback) {
  const json* v = Find(obj, key);
  if (v == nullptr) {
    if (fallback != nullptr) {
      return *fallback;
    }
    return Missing(path, key);
  }
  if (!v->is_number()) {
    return InvalidArgumentError(FieldPath(path, key) + ": expected a number, got " +
                                JsonTypeName(*v));
  }
  const double x = v->get<double>();
  if (!std::isfinite(x) || x < lo || x > hi) {
    std::ostringstream msg;
    msg << FieldPath(path, key) << ": value " << x << " is outside [" << lo << ", " << hi << "]";
    return InvalidArgumentError(msg.str());
  }
  return x;
}

Result<int> IntField(const json& obj, std::string_view path, const char* key, int lo, int hi,
                     const int* fallback) {
  const json* v = Find(obj, key);
  if (v == nullptr) {
    if (fallback != nullptr) {
      return *fallback;
    }
    return Missing(path, key);
  }
  if (!v->is_number_integer()) {
    return InvalidArgumentError(FieldPath(path, key) + ": expected an integer, got " +
                                JsonTypeName(*v));
  }
  const int64_t x = v->get<int64_t>();
  if (x < lo || x > hi) {
    return InvalidArgumentError(FieldPath(path, key) + ": value " + std::to_string(x) +
                                " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) +
                                "]");
  }
  return static_cast<int>(x);
}

Result<std::string> StringField(const json& obj, std::string_view path, const char* key,
                                const std::string* fallback) {
  const json* v = Find(obj, key);
  if (v == nullptr) {
    if (fallback != nullptr) {
      return *fallback;
    }
    return Missing(path, key);
  }
  if (!v->is_string()) {
    return InvalidArgumentError(FieldPath(path, key) + ": expected a string, got " +
                                JsonTypeName(*v));
  }
  std::string s = v->get<std::string>();
  if (s.empty()) {
    return InvalidArgumentError(FieldPath(path, key) + ": must not be empty");
  }
  return s;
}

Result<bool> BoolField(const json& obj, std::string_view path, const char* key,
                       const bool* fallback) {
  const json* v = Find(obj, key);
  if (v == nullptr) {
    if (fallback != nullptr) {
      return *fallback;
    }
    return Missing(path, key);
  }
  if (!v->is_boolean()) {
    return InvalidArgumentError(FieldPath(path, key) + ": expected true or false, got " +
                                JsonTypeName(*v));
  }
  return v->get<bool>();
}

}  // namespace hotpath::scale::internal
