#include "runtime/repository/model_config.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "runtime/repository/internal/json_check.h"

namespace hotpath {
namespace {

using nlohmann::json;
using repository_internal::Brief;
using repository_internal::CheckObject;
using repository_internal::Find;
using repository_internal::JsonPath;
using repository_internal::ReadInt;
using repository_internal::ReadString;

constexpr int64_t kMaxBatchSize = 1 << 20;
constexpr int64_t kMaxDim = int64_t{1} << 32;
constexpr int64_t kMaxMicros = int64_t{3600} * 1'000'000;  // one hour
constexpr int kMaxInstances = 1024;
constexpr int kMaxPriorityLevels = 64;
constexpr int kMaxWarmupRows = 1 << 20;

// Reads optional integer member `key` of `obj` into `*out` (kept when absent).
template <typename T>
Status ReadOptionalInt(const json& obj, const JsonPath& at, std::string_view key, int64_t min,
                       int64_t max, T* out) {
  const json* v = Find(obj, key);
  if (v == nullptr) return OkStatus();
  ASSIGN_OR_RETURN(int64_t x, ReadInt(*v, at.Key(key), min, max));
  *out = static_cast<T>(x);
  return OkStatus();
}

// An array of integers, each in [min, max]; strictly ascending when `ascending`.
template <typename T>
Result<std::vector<T>> ReadIntArray(const json& v, const JsonPath& at, int64_t min, int64_t max,
                                    bool ascending) {
  if (!v.is_array()) return at.Error("must be an array, got " + Brief(v));
  std::vector<T> out;
  for (size_t i = 0; i < v.size(); ++i) {
    ASSIGN_OR_RETURN(int64_t x, ReadInt(v[i], at.Index(i), min, max));
    if (ascending && !out.empty() && x <= static_cast<int64_t>(out.back())) {
      return at.Index(i).Error("must be strictly ascending, got " + std::to_string(x) +
                               " after " + std::to_string(out.back()));
    }
    out.push_back(static_cast<T>(x));
  }
  return out;
}

bool IsValidName(std::string_view s) {
  if (s.empty() || s.size() > 128 || s[0] == '.') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
  });
}

Result<Shape> ReadDims(const json& v, const JsonPath& at) {
  if (!v.is_array() || v.empty()) return at.Error("must be a non-empty array, got " + Brief(v));
  Shape dims;
  for (size_t i = 0; i < v.size(); ++i) {
    ASSIGN_OR_RETURN(int64_t d, ReadInt(v[i], at.Index(i), -1, kMaxDim));
    if (d == 0) return at.Index(i).Error("must be >= 1 or -1, got 0");
    dims.push_back(d);
  }
  return dims;
}

Result<TensorConfig> ReadTensor(const json& v, const JsonPath& at) {
  RETURN_IF_ERROR(CheckObject(v, at, {"name", "datatype", "dims"}));
  TensorConfig t;
  for (std::string_view key : {"name", "datatype", "dims"}) {
    if (Find(v, key) == nullptr) return at.Key(key).Error("required");
  }
  ASSIGN_OR_RETURN(t.name, ReadString(v["name"], at.Key("name")));
  ASSIGN_OR_RETURN(std::string dtype, ReadString(v["datatype"], at.Key("datatype")));
  Result<DType> parsed = ParseDType(dtype);
  if (!parsed.ok()) {
    return at.Key("datatype").Error("unknown datatype '" + dtype +
                                    "' (FP32, FP64, INT8, INT32, INT64, UINT8, BOOL)");
  }
  t.dtype = *parsed;
  ASSIGN_OR_RETURN(t.dims, ReadDims(v["dims"], at.Key("dims")));
  return t;
}

Result<std::vector<TensorConfig>> ReadTensors(const json& obj, const JsonPath& root,
                                              std::string_view key) {
  const JsonPath at = root.Key(key);
  const json* v = Find(obj, key);
  if (v == nullptr) return at.Error("required");
  if (!v->is_array() || v->empty()) return at.Error("must be a non-empty array, got " + Brief(*v));
  std::vector<TensorConfig> out;
  std::set<std::string> names;
  for (size_t i = 0; i < v->size(); ++i) {
    ASSIGN_OR_RETURN(TensorConfig t, ReadTensor((*v)[i], at.Index(i)));
    if (!names.insert(t.name).second) {
      return at.Index(i).Key("name").Error("duplicate name '" + t.name + "'");
    }
    out.push_back(std::move(t));
  }
  return out;
}

Status ReadBatching(const json& v, const JsonPath& at, int max_batch_size,
                    DynamicBatchingConfig* b) {
  RETURN_IF_ERROR(CheckObject(
      v, at,
      {"max_queue_delay_us", "preferred_batch_sizes", "priority_levels", "default_priority_level",
       "default_timeout_us", "max_queue_size", "priority_aging_us", "adaptive_p99_target_us"}));
  RETURN_IF_ERROR(ReadOptionalInt(v, at, "max_queue_delay_us", 0, kMaxMicros,
                                  &b->max_queue_delay_us));
  if (const json* p = Find(v, "preferred_batch_sizes")) {
    ASSIGN_OR_RETURN(b->preferred_batch_sizes,
                     ReadIntArray<int>(*p, at.Key("preferred_batch_sizes"), 1, max_batch_size,
                                       /*ascending=*/true));
  }
  RETURN_IF_ERROR(
      ReadOptionalInt(v, at, "priority_levels", 1, kMaxPriorityLevels, &b->priority_levels));
  RETURN_IF_ERROR(ReadOptionalInt(v, at, "default_priority_level", 1, kMaxPriorityLevels,
                                  &b->default_priority_level));
  if (b->default_priority_level > b->priority_levels) {
    return at.Key("default_priority_level")
        .Error("must be <= priority_levels (" + std::to_string(b->priority_levels) + "), got " +
               std::to_string(b->default_priority_level));
  }
  RETURN_IF_ERROR(
      ReadOptionalInt(v, at, "default_timeout_us", 0, kMaxMicros, &b->default_timeout_us));
  RETURN_IF_ERROR(ReadOptionalInt(v, at, "max_queue_size", 1, 1 << 24, &b->max_queue_size));
  RETURN_IF_ERROR(
      ReadOptionalInt(v, at, "priority_aging_us", 0, kMaxMicros, &b->priority_aging_us));
  return ReadOptionalInt(v, at, "adaptive_p99_target_us", 0, kMaxMicros,
                         &b->adaptive_p99_target_us);
}

// A number in (0, 1].
Status ReadOptionalRate(const json& obj, const JsonPath& at, std::string_view key, double* out) {
  const json* v = Find(obj, key);
  if (v == nullptr) return OkStatus();
  if (!v->is_number() || !(v->get<double>() > 0 && v->get<double>() <= 1)) {
    return at.Key(key).Error("must be a number in (0, 1], got " + Brief(*v));
  }
  *out = v->get<double>();
  return OkStatus();
}

Status ReadCircuitBreaker(const json& v, const JsonPath& at, CircuitBreakerConfig* b) {
  RETURN_IF_ERROR(CheckObject(v, at,
                              {"enabled", "failure_rate_threshold", "slow_call_rate_threshold",
                               "slow_call_duration_us", "window_size", "minimum_calls",
                               "open_duration_ms", "half_open_calls"}));
  if (const json* e = Find(v, "enabled")) {
    if (!e->is_boolean()) return at.Key("enabled").Error("must be true or false, got " + Brief(*e));
    b->enabled = e->get<bool>();
  }
  RETURN_IF_ERROR(ReadOptionalRate(v, at, "failure_rate_threshold", &b->failure_rate_threshold));
  RETURN_IF_ERROR(ReadOptionalRate(v, at, "slow_call_rate_threshold", &b->slow_call_rate_threshold));
  RETURN_IF_ERROR(
      ReadOptionalInt(v, at, "slow_call_duration_us", 1, kMaxMicros, &b->slow_call_duration_us));
  RETURN_IF_ERROR(ReadOptionalInt(v, at, "window_size", 1, 100000, &b->window_size));
  b->minimum_calls = std::min(b->minimum_calls, b->window_size);  // the default fits any window
  RETURN_IF_ERROR(ReadOptionalInt(v, at, "minimum_calls", 1, b->window_size, &b->minimum_calls));
  RETURN_IF_ERROR(
      ReadOptionalInt(v, at, "open_duration_ms", 1, kMaxMicros / 1000, &b->open_duration_ms));
  return ReadOptionalInt(v, at, "half_open_calls", 1, 10000, &b->half_open_calls);
}

Status ReadVersionPolicy(const json& v, const JsonPath& at, VersionPolicy* p) {
  RETURN_IF_ERROR(CheckObject(v, at, {"latest", "specific", "all"}));
  if (v.size() != 1) return at.Error("must hold exactly one of latest, specific, all");
  if (const json* l = Find(v, "latest")) {
    p->kind = VersionPolicy::Kind::kLatest;
    RETURN_IF_ERROR(CheckObject(*l, at.Key("latest"), {"num_versions"}));
    if (Find(*l, "num_versions") == nullptr) return at.Key("latest.num_versions").Error("required");
    return ReadOptionalInt(*l, at.Key("latest"), "num_versions", 1, 1 << 20, &p->num_versions);
  }
  if (const json* s = Find(v, "specific")) {
    p->kind = VersionPolicy::Kind::kSpecific;
    const JsonPath sat = at.Key("specific");
    RETURN_IF_ERROR(CheckObject(*s, sat, {"versions"}));
    const json* vs = Find(*s, "versions");
    if (vs == nullptr) return sat.Key("versions").Error("required");
    ASSIGN_OR_RETURN(p->versions, ReadIntArray<int64_t>(*vs, sat.Key("versions"), 1,
                                                        std::numeric_limits<int64_t>::max(),
                                                        /*ascending=*/true));
    if (p->versions.empty()) return sat.Key("versions").Error("must not be empty");
    return OkStatus();
  }
  p->kind = VersionPolicy::Kind::kAll;
  return CheckObject(v["all"], at.Key("all"), {});
}

bool IsPlainFileName(std::string_view s) {
  return s != "." && s != ".." && s.find('/') == std::string_view::npos &&
         s.find('\\') == std::string_view::npos;
}

// A relative path that stays inside the model directory.
bool IsInsidePath(std::string_view s) {
  if (s.empty() || s[0] == '/') return false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find('/', start);
    if (end == std::string_view::npos) end = s.size();
    if (s.substr(start, end - start) == "..") return false;
    start = end + 1;
  }
  return true;
}

Status ReadWarmup(const json& v, const JsonPath& at, int max_batch_size, WarmupConfig* w) {
  RETURN_IF_ERROR(CheckObject(v, at, {"batch_sizes", "random_rows", "rows_file"}));
  const json* sizes = Find(v, "batch_sizes");
  if (sizes == nullptr) return at.Key("batch_sizes").Error("required");
  ASSIGN_OR_RETURN(w->batch_sizes, ReadIntArray<int>(*sizes, at.Key("batch_sizes"), 1,
                                                     max_batch_size, /*ascending=*/false));
  if (w->batch_sizes.empty()) return at.Key("batch_sizes").Error("must not be empty");
  const json* random = Find(v, "random_rows");
  const json* file = Find(v, "rows_file");
  if ((random == nullptr) == (file == nullptr)) {
    return at.Error("must hold exactly one of random_rows, rows_file");
  }
  w->random_rows = 0;
  if (random != nullptr) {
    ASSIGN_OR_RETURN(int64_t rows, ReadInt(*random, at.Key("random_rows"), 1, kMaxWarmupRows));
    w->random_rows = static_cast<int>(rows);
    return OkStatus();
  }
  ASSIGN_OR_RETURN(w->rows_file, ReadString(*file, at.Key("rows_file")));
  if (!IsInsidePath(w->rows_file)) {
    return at.Key("rows_file").Error("must be a relative path inside the model directory, got '" +
                                     w->rows_file + "'");
  }
  return OkStatus();
}

Result<OutputKind> ReadOutputKind(const json& v, const JsonPath& at) {
  ASSIGN_OR_RETURN(std::string s, ReadString(v, at));
  for (OutputKind k : {OutputKind::kValue, OutputKind::kMargin, OutputKind::kContributions,
                       OutputKind::kApproxContributions}) {
    if (s == OutputKindName(k)) return k;
  }
  return at.Error("must be one of value, margin, contributions, approx_contributions, got '" + s + "'");
}

Status ReadNames(const json& root, const JsonPath& at, std::string_view dir, ModelConfig* c) {
  c->name = std::string(dir);
  if (const json* n = Find(root, "name")) {
    ASSIGN_OR_RETURN(std::string name, ReadString(*n, at.Key("name")));
    if (name != dir) {
      return at.Key("name").Error("must equal the directory name '" + std::string(dir) +
                                  "', got '" + name + "'");
    }
  }
  const json* backend = Find(root, "backend");
  if (backend == nullptr) return at.Key("backend").Error("required");
  ASSIGN_OR_RETURN(c->backend, ReadString(*backend, at.Key("backend")));
  if (const json* a = Find(root, "artifact")) {
    ASSIGN_OR_RETURN(c->artifact, ReadString(*a, at.Key("artifact")));
    if (!IsPlainFileName(c->artifact)) {
      return at.Key("artifact").Error("must be a file name without '/', got '" + c->artifact + "'");
    }
  }
  if (const json* f = Find(root, "fallback_model")) {
    ASSIGN_OR_RETURN(c->fallback_model, ReadString(*f, at.Key("fallback_model")));
    if (!IsValidName(c->fallback_model)) {
      return at.Key("fallback_model").Error("not a valid model name: '" + c->fallback_model + "'");
    }
    if (c->fallback_model == c->name) return at.Key("fallback_model").Error("must not be the model itself");
  }
  return OkStatus();
}

Status ReadSections(const json& root, const JsonPath& at, ModelConfig* c) {
  const json* mbs = Find(root, "max_batch_size");
  if (mbs == nullptr) return at.Key("max_batch_size").Error("required");
  ASSIGN_OR_RETURN(int64_t max_batch, ReadInt(*mbs, at.Key("max_batch_size"), 1, kMaxBatchSize));
  c->max_batch_size = static_cast<int>(max_batch);
  ASSIGN_OR_RETURN(c->inputs, ReadTensors(root, at, "inputs"));
  ASSIGN_OR_RETURN(c->outputs, ReadTensors(root, at, "outputs"));
  if (const json* k = Find(root, "output_kind")) {
    ASSIGN_OR_RETURN(c->output_kind, ReadOutputKind(*k, at.Key("output_kind")));
  }
  if (const json* b = Find(root, "dynamic_batching")) {
    c->dynamic_batching.emplace();
    RETURN_IF_ERROR(
        ReadBatching(*b, at.Key("dynamic_batching"), c->max_batch_size, &*c->dynamic_batching));
  }
  RETURN_IF_ERROR(ReadOptionalInt(root, at, "instance_count", 1, kMaxInstances, &c->instance_count));
  if (const json* cb = Find(root, "circuit_breaker")) {
    RETURN_IF_ERROR(ReadCircuitBreaker(*cb, at.Key("circuit_breaker"), &c->circuit_breaker));
  }
  if (const json* p = Find(root, "version_policy")) {
    RETURN_IF_ERROR(ReadVersionPolicy(*p, at.Key("version_policy"), &c->version_policy));
  }
  c->warmup.batch_sizes = {1};
  if (c->max_batch_size > 1) c->warmup.batch_sizes.push_back(c->max_batch_size);
  c->warmup.random_rows = c->max_batch_size;
  if (const json* w = Find(root, "warmup")) {
    RETURN_IF_ERROR(ReadWarmup(*w, at.Key("warmup"), c->max_batch_size, &c->warmup));
  }
  return OkStatus();
}

// Nesting depth of JSON text (brackets outside strings); bounded before
// parsing so that printing a value for a message cannot recurse deeply.
size_t NestingDepth(std::string_view text) {
  size_t depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char ch : text) {
    if (in_string) {
      in_string = escaped || ch != '"';
      escaped = !escaped && ch == '\\';
      continue;
    }
    if (ch == '"') in_string = true;
    if (ch == '[' || ch == '{') max_depth = std::max(max_depth, ++depth);
    if ((ch == ']' || ch == '}') && depth > 0) --depth;
  }
  return max_depth;
}

}  // namespace

std::string_view OutputKindName(OutputKind kind) {
  switch (kind) {
    case OutputKind::kValue:
      return "value";
    case OutputKind::kMargin:
      return "margin";
    case OutputKind::kContributions:
      return "contributions";
    case OutputKind::kApproxContributions:
      return "approx_contributions";
  }
  return "value";
}

Result<ModelConfig> ParseModelConfig(std::string_view text, std::string_view file,
                                     std::string_view model_dir_name) {
  const JsonPath root(file, "");
  constexpr size_t kMaxDepth = 16;
  if (NestingDepth(text) > kMaxDepth) {
    return root.Error("nested deeper than " + std::to_string(kMaxDepth) + " levels");
  }
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return root.Error("not valid JSON");
  RETURN_IF_ERROR(CheckObject(doc, root,
                              {"name", "backend", "artifact", "inputs", "outputs",
                               "max_batch_size", "output_kind", "dynamic_batching",
                               "instance_count", "version_policy", "warmup", "fallback_model",
                               "circuit_breaker"}));
  if (!IsValidName(model_dir_name)) {
    return root.Error("directory name '" + std::string(model_dir_name) +
                      "' is not a valid model name (letters, digits, '_', '-', '.')");
  }
  ModelConfig c;
  RETURN_IF_ERROR(ReadNames(doc, root, model_dir_name, &c));
  RETURN_IF_ERROR(ReadSections(doc, root, &c));
  return c;
}

}  // namespace hotpath
