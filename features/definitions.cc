#include "features/definitions.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "features/internal/json_lines.h"

namespace hotpath::features {
namespace {

using nlohmann::json;

constexpr std::string_view kAggNames[] = {
    "count", "sum",  "mean",           "min",      "max",   "stddev",
    "first", "last", "distinct_count", "quantile", "last_n"};
constexpr std::string_view kDerivedNames[] = {"ratio", "log1p", "time_since_last", "hour_of_day",
                                              "compare_profile"};
constexpr std::string_view kOpNames[] = {"<", "<=", ">", ">=", "==", "!="};

std::string JoinNames(const std::string_view* names, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += (i ? ", " : "") + std::string(names[i]);
  return out;
}

template <std::size_t N>
int IndexOf(const std::string_view (&names)[N], std::string_view s) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<int>(i);
  }
  return -1;
}

// Parses one document; every error names file, line and the key at fault.
class Parser {
 public:
  Parser(std::string_view text, std::string_view file) : lines_(text), file_(file) {}

  Result<Definitions> Run(const json& root);

 private:
  Status Fail(const std::string& path, const std::string& reason) const {
    return InvalidArgumentError(file_ + ":" + std::to_string(lines_.LineOf(path)) + ": " +
                                (path.empty() ? "<root>" : path) + ": " + reason);
  }
  Status CheckKeys(const json& obj, const std::string& path,
                   std::initializer_list<std::string_view> allowed) const;
  Result<const json*> Member(const json& obj, const std::string& path, const char* key,
                             json::value_t type, bool required) const;
  Result<std::string> Name(const json& obj, const std::string& path, const char* key) const;
  Result<int64_t> Duration(const json& obj, const std::string& path, const char* key,
                           int64_t fallback, bool allow_none) const;

  Status ParseEntity(const json& e, const std::string& path);
  Status ParseSource(const json& s, const std::string& path);
  Status ParseGroup(const json& g, const std::string& path);
  Status ParseWindows(const json& g, const std::string& path, FeatureGroupDef& group);
  Status ParseAggregation(const json& a, const std::string& path, FeatureGroupDef& group);
  Status ParseAggParams(const json& a, const std::string& path, AggregationDef& agg);
  Status ParseDerived(const json& d, const std::string& path, FeatureGroupDef& group);
  Result<AggRef> Ref(const json& d, const std::string& path, const char* key,
                     const FeatureGroupDef& group) const;
  int FieldSlot(int source, const std::string& field, bool keyed);

  internal::JsonLineIndex lines_;
  std::string file_;
  Definitions defs_;
};

Status Parser::CheckKeys(const json& obj, const std::string& path,
                         std::initializer_list<std::string_view> allowed) const {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool known = false;
    for (std::string_view a : allowed) known = known || a == it.key();
    if (!known) {
      return Fail(path.empty() ? it.key() : path + "." + it.key(), "unknown key");
    }
  }
  return OkStatus();
}

Result<const json*> Parser::Member(const json& obj, const std::string& path, const char* key,
                                   json::value_t type, bool required) const {
  std::string child = path.empty() ? key : path + "." + key;
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) return Fail(child, "required key is missing");
    return static_cast<const json*>(nullptr);
  }
  bool number_ok = type == json::value_t::number_float && it->is_number();
  if (it->type() != type && !number_ok &&
      !(type == json::value_t::number_integer && it->is_number_unsigned())) {
    return Fail(child,
                std::string("expected ") + json(type).type_name() + ", got " + it->type_name());
  }
  return &*it;
}

Result<std::string> Parser::Name(const json& obj, const std::string& path, const char* key) const {
  ASSIGN_OR_RETURN(const json* v, Member(obj, path, key, json::value_t::string, true));
  std::string s = v->get<std::string>();
  if (s.empty() || s.size() > 128 || s.find_first_of(". \t\n\x1f") != std::string::npos) {
    return Fail(path + "." + key, "must be 1-128 characters without '.', spaces or control");
  }
  return s;
}

Result<int64_t> Parser::Duration(const json& obj, const std::string& path, const char* key,
                                 int64_t fallback, bool allow_none) const {
  ASSIGN_OR_RETURN(const json* v, Member(obj, path, key, json::value_t::string, false));
  if (v == nullptr) return fallback;
  std::string s = v->get<std::string>();
  if (s == "0") return int64_t{0};
  if (allow_none && s == "none") return kForeverMs;
  Result<int64_t> d = ParseDurationMs(s);
  if (!d.ok()) return Fail(path + "." + key, d.status().message());
  return d;
}

Result<Definitions> Parser::Run(const json& root) {
  if (!root.is_object()) return Fail("", "the document must be a JSON object");
  RETURN_IF_ERROR(CheckKeys(root, "", {"entities", "sources", "groups"}));
  const std::pair<const char*, Status (Parser::*)(const json&, const std::string&)> sections[] = {
      {"entities", &Parser::ParseEntity},
      {"sources", &Parser::ParseSource},
      {"groups", &Parser::ParseGroup}};
  for (const auto& [key, parse] : sections) {
    ASSIGN_OR_RETURN(const json* arr, Member(root, "", key, json::value_t::array, true));
    if (arr->empty()) return Fail(key, "must not be empty");
    for (std::size_t i = 0; i < arr->size(); ++i) {
      std::string path = std::string(key) + "[" + std::to_string(i) + "]";
      if (!(*arr)[i].is_object()) return Fail(path, "expected object");
      RETURN_IF_ERROR((this->*parse)((*arr)[i], path));
    }
  }
  return std::move(defs_);
}

Status Parser::ParseEntity(const json& e, const std::string& path) {
  RETURN_IF_ERROR(CheckKeys(e, path, {"name", "keys"}));
  EntityDef def;
  ASSIGN_OR_RETURN(def.name, Name(e, path, "name"));
  for (const EntityDef& other : defs_.entities) {
    if (other.name == def.name)
      return Fail(path + ".name", "duplicate entity \"" + def.name + "\"");
  }
  ASSIGN_OR_RETURN(const json* keys, Member(e, path, "keys", json::value_t::array, true));
  if (keys->empty()) return Fail(path + ".keys", "must list at least one key field");
  for (std::size_t i = 0; i < keys->size(); ++i) {
    if (!(*keys)[i].is_string() || (*keys)[i].get<std::string>().empty()) {
      return Fail(path + ".keys[" + std::to_string(i) + "]", "expected a non-empty string");
    }
    def.key_fields.push_back((*keys)[i].get<std::string>());
  }
  defs_.entities.push_back(std::move(def));
  return OkStatus();
}

Status Parser::ParseSource(const json& s, const std::string& path) {
  RETURN_IF_ERROR(CheckKeys(s, path, {"name", "entity", "timestamp_field", "timestamp_unit"}));
  SourceDef def;
  ASSIGN_OR_RETURN(def.name, Name(s, path, "name"));
  if (defs_.FindSource(def.name) >= 0) return Fail(path + ".name", "duplicate source");
  ASSIGN_OR_RETURN(std::string entity, Name(s, path, "entity"));
  def.entity = -1;
  for (std::size_t i = 0; i < defs_.entities.size(); ++i) {
    if (defs_.entities[i].name == entity) def.entity = static_cast<int>(i);
  }
  if (def.entity < 0) return Fail(path + ".entity", "unknown entity \"" + entity + "\"");
  ASSIGN_OR_RETURN(const json* ts, Member(s, path, "timestamp_field", json::value_t::string, true));
  def.timestamp_field = ts->get<std::string>();
  if (def.timestamp_field.empty()) return Fail(path + ".timestamp_field", "must not be empty");
  ASSIGN_OR_RETURN(const json* unit,
                   Member(s, path, "timestamp_unit", json::value_t::string, false));
  std::string u = unit ? unit->get<std::string>() : "ms";
  if (u != "ms" && u != "s") return Fail(path + ".timestamp_unit", "expected \"ms\" or \"s\"");
  def.timestamp_unit_ms = u == "s" ? 1000 : 1;
  defs_.sources.push_back(std::move(def));
  return OkStatus();
}

Status Parser::ParseGroup(const json& g, const std::string& path) {
  RETURN_IF_ERROR(CheckKeys(g, path,
                            {"name", "entity", "bucket", "allowed_lateness", "ttl", "retention",
                             "max_future_skew", "windows", "aggregations", "derived"}));
  FeatureGroupDef group;
  ASSIGN_OR_RETURN(group.name, Name(g, path, "name"));
  if (defs_.FindGroup(group.name) >= 0) return Fail(path + ".name", "duplicate group");
  ASSIGN_OR_RETURN(std::string entity, Name(g, path, "entity"));
  group.entity = -1;
  for (std::size_t i = 0; i < defs_.entities.size(); ++i) {
    if (defs_.entities[i].name == entity) group.entity = static_cast<int>(i);
  }
  if (group.entity < 0) return Fail(path + ".entity", "unknown entity \"" + entity + "\"");
  ASSIGN_OR_RETURN(group.bucket_ms, Duration(g, path, "bucket", 60'000, false));
  if (group.bucket_ms <= 0) return Fail(path + ".bucket", "must be positive");
  ASSIGN_OR_RETURN(group.allowed_lateness_ms, Duration(g, path, "allowed_lateness", 0, false));
  ASSIGN_OR_RETURN(group.ttl_ms, Duration(g, path, "ttl", kForeverMs, true));
  ASSIGN_OR_RETURN(group.retention_ms, Duration(g, path, "retention", 0, false));
  ASSIGN_OR_RETURN(group.max_future_skew_ms, Duration(g, path, "max_future_skew", 0, false));
  RETURN_IF_ERROR(ParseWindows(g, path, group));
  for (const char* section : {"aggregations", "derived"}) {
    ASSIGN_OR_RETURN(const json* arr,
                     Member(g, path, section, json::value_t::array, section[0] == 'a'));
    for (std::size_t i = 0; arr != nullptr && i < arr->size(); ++i) {
      std::string p = path + "." + section + "[" + std::to_string(i) + "]";
      if (!(*arr)[i].is_object()) return Fail(p, "expected object");
      RETURN_IF_ERROR(section[0] == 'a' ? ParseAggregation((*arr)[i], p, group)
                                        : ParseDerived((*arr)[i], p, group));
    }
  }
  if (group.aggregations.empty()) return Fail(path + ".aggregations", "must not be empty");
  defs_.groups.push_back(std::move(group));
  return OkStatus();
}

Status Parser::ParseWindows(const json& g, const std::string& path, FeatureGroupDef& group) {
  ASSIGN_OR_RETURN(const json* arr, Member(g, path, "windows", json::value_t::array, true));
  if (arr->empty() || arr->size() > 16) return Fail(path + ".windows", "must list 1 to 16 windows");
  for (std::size_t i = 0; i < arr->size(); ++i) {
    std::string p = path + ".windows[" + std::to_string(i) + "]";
    if (!(*arr)[i].is_string()) return Fail(p, "expected a duration string or \"lifetime\"");
    WindowDef w;
    w.name = (*arr)[i].get<std::string>();
    if (w.name != "lifetime") {
      Result<int64_t> d = ParseDurationMs(w.name);
      if (!d.ok()) return Fail(p, d.status().message());
      if (*d % group.bucket_ms != 0) return Fail(p, "must be a multiple of the bucket");
      w.length_ms = *d;
    }
    for (const WindowDef& other : group.windows) {
      if (other.name == w.name) return Fail(p, "duplicate window");
    }
    group.windows.push_back(std::move(w));
  }
  return OkStatus();
}

int Parser::FieldSlot(int source, const std::string& field, bool keyed) {
  SourceDef& s = defs_.sources[source];
  std::vector<std::string>& fields = keyed ? s.keyed_fields : s.numeric_fields;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i] == field) return static_cast<int>(i);
  }
  fields.push_back(field);
  return static_cast<int>(fields.size()) - 1;
}

Status Parser::ParseAggregation(const json& a, const std::string& path, FeatureGroupDef& group) {
  RETURN_IF_ERROR(CheckKeys(
      a, path, {"name", "source", "kind", "field", "q", "relative_error", "n", "precision"}));
  AggregationDef agg;
  ASSIGN_OR_RETURN(agg.name, Name(a, path, "name"));
  for (const AggregationDef& other : group.aggregations) {
    if (other.name == agg.name) return Fail(path + ".name", "duplicate aggregation");
  }
  ASSIGN_OR_RETURN(std::string source, Name(a, path, "source"));
  agg.source = defs_.FindSource(source);
  if (agg.source < 0) return Fail(path + ".source", "unknown source \"" + source + "\"");
  if (defs_.sources[agg.source].entity != group.entity) {
    return Fail(path + ".source", "source \"" + source + "\" belongs to another entity");
  }
  ASSIGN_OR_RETURN(const json* kind, Member(a, path, "kind", json::value_t::string, true));
  int k = IndexOf(kAggNames, kind->get<std::string>());
  if (k < 0) {
    return Fail(path + ".kind", "unknown aggregation kind \"" + kind->get<std::string>() +
                                    "\" (expected one of " + JoinNames(kAggNames, 11) + ")");
  }
  agg.kind = static_cast<AggKind>(k);
  RETURN_IF_ERROR(ParseAggParams(a, path, agg));
  group.aggregations.push_back(std::move(agg));
  return OkStatus();
}

Status Parser::ParseAggParams(const json& a, const std::string& path, AggregationDef& agg) {
  ASSIGN_OR_RETURN(const json* field,
                   Member(a, path, "field", json::value_t::string, agg.kind != AggKind::kCount));
  if (agg.kind == AggKind::kCount && field != nullptr) {
    return Fail(path + ".field", "count takes no field");
  }
  if (field != nullptr) {
    std::string f = field->get<std::string>();
    if (f.empty()) return Fail(path + ".field", "must not be empty");
    agg.field = FieldSlot(agg.source, f, agg.kind == AggKind::kDistinctCount);
  }
  const std::pair<const char*, AggKind> params[] = {{"q", AggKind::kQuantile},
                                                    {"relative_error", AggKind::kQuantile},
                                                    {"n", AggKind::kLastN},
                                                    {"precision", AggKind::kDistinctCount}};
  for (const auto& [key, kind] : params) {
    ASSIGN_OR_RETURN(const json* v, Member(a, path, key, json::value_t::number_float, false));
    if (v == nullptr) continue;
    std::string p = path + "." + key;
    if (agg.kind != kind) return Fail(p, "only applies to " + std::string(AggKindName(kind)));
    double x = v->get<double>();
    if (key[0] == 'q' && !(x >= 0 && x <= 1)) return Fail(p, "must be in [0, 1]");
    if (key[0] == 'r' && !(x > 0 && x < 0.5)) return Fail(p, "must be in (0, 0.5)");
    if (key[0] == 'n' && !(x >= 1 && x <= 64 && x == static_cast<int>(x))) {
      return Fail(p, "must be an integer in [1, 64]");
    }
    if (key[0] == 'p' && !(x >= 4 && x <= 16 && x == static_cast<int>(x))) {
      return Fail(p, "must be an integer in [4, 16]");
    }
    if (key[0] == 'q') agg.quantile = x;
    if (key[0] == 'r') agg.relative_error = x;
    if (key[0] == 'n') agg.last_n = static_cast<int>(x);
    if (key[0] == 'p') agg.hll_precision = static_cast<int>(x);
  }
  if (agg.kind == AggKind::kLastN && agg.last_n == 0)
    return Fail(path + ".n", "required for last_n");
  return OkStatus();
}

Result<AggRef> Parser::Ref(const json& d, const std::string& path, const char* key,
                           const FeatureGroupDef& group) const {
  ASSIGN_OR_RETURN(const json* v, Member(d, path, key, json::value_t::string, true));
  std::string s = v->get<std::string>();
  std::size_t dot = s.find('.');
  std::string p = path + "." + key;
  if (dot == std::string::npos)
    return Fail(p, "expected \"AGGREGATION.WINDOW\", got \"" + s + "\"");
  AggRef ref{-1, -1};
  for (std::size_t i = 0; i < group.aggregations.size(); ++i) {
    if (group.aggregations[i].name == s.substr(0, dot)) ref.aggregation = static_cast<int>(i);
  }
  for (std::size_t i = 0; i < group.windows.size(); ++i) {
    if (group.windows[i].name == s.substr(dot + 1)) ref.window = static_cast<int>(i);
  }
  if (ref.aggregation < 0) return Fail(p, "unknown aggregation in \"" + s + "\"");
  if (ref.window < 0) return Fail(p, "unknown window in \"" + s + "\"");
  AggKind k = group.aggregations[ref.aggregation].kind;
  if (k == AggKind::kLastN) return Fail(p, "last_n yields a list, not a number");
  return ref;
}

Status Parser::ParseDerived(const json& d, const std::string& path, FeatureGroupDef& group) {
  RETURN_IF_ERROR(CheckKeys(
      d, path,
      {"name", "kind", "input", "numerator", "denominator", "source", "profile_field", "op"}));
  DerivedDef def;
  ASSIGN_OR_RETURN(def.name, Name(d, path, "name"));
  for (const AggregationDef& a : group.aggregations) {
    if (a.name == def.name) return Fail(path + ".name", "clashes with an aggregation name");
  }
  for (const DerivedDef& o : group.derived) {
    if (o.name == def.name) return Fail(path + ".name", "duplicate derived feature");
  }
  ASSIGN_OR_RETURN(const json* kind, Member(d, path, "kind", json::value_t::string, true));
  int k = IndexOf(kDerivedNames, kind->get<std::string>());
  if (k < 0) {
    return Fail(path + ".kind", "unknown derived kind \"" + kind->get<std::string>() +
                                    "\" (expected one of " + JoinNames(kDerivedNames, 5) + ")");
  }
  def.kind = static_cast<DerivedKind>(k);
  if (def.kind == DerivedKind::kRatio) {
    ASSIGN_OR_RETURN(def.a, Ref(d, path, "numerator", group));
    ASSIGN_OR_RETURN(def.b, Ref(d, path, "denominator", group));
  } else if (def.kind == DerivedKind::kLog1p || def.kind == DerivedKind::kCompareProfile) {
    ASSIGN_OR_RETURN(def.a, Ref(d, path, "input", group));
  } else if (def.kind == DerivedKind::kTimeSinceLast) {
    ASSIGN_OR_RETURN(std::string source, Name(d, path, "source"));
    def.source = defs_.FindSource(source);
    if (def.source < 0 || defs_.sources[def.source].entity != group.entity) {
      return Fail(path + ".source", "unknown source \"" + source + "\" for this entity");
    }
  }
  if (def.kind == DerivedKind::kCompareProfile) {
    ASSIGN_OR_RETURN(const json* f, Member(d, path, "profile_field", json::value_t::string, true));
    def.profile_field = f->get<std::string>();
    ASSIGN_OR_RETURN(const json* op, Member(d, path, "op", json::value_t::string, true));
    int o = IndexOf(kOpNames, op->get<std::string>());
    if (o < 0) return Fail(path + ".op", "expected one of " + JoinNames(kOpNames, 6));
    def.op = static_cast<CompareOp>(o);
  }
  group.derived.push_back(std::move(def));
  return OkStatus();
}

}  // namespace

std::string_view AggKindName(AggKind kind) { return kAggNames[static_cast<int>(kind)]; }

int Definitions::FindSource(std::string_view name) const {
  for (std::size_t i = 0; i < sources.size(); ++i) {
    if (sources[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

int Definitions::FindGroup(std::string_view name) const {
  for (std::size_t i = 0; i < groups.size(); ++i) {
    if (groups[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

Result<int64_t> ParseDurationMs(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  std::string_view unit = text.substr(digits);
  if (digits == 0 || digits > 9) {
    return InvalidArgumentError("duration \"" + std::string(text) +
                                "\" must start with 1-9 digits, e.g. \"5m\"");
  }
  int64_t n = std::stoll(std::string(text.substr(0, digits)));
  const std::pair<std::string_view, int64_t> units[] = {
      {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}};
  for (const auto& [name, scale] : units) {
    if (unit == name) {
      if (n <= 0)
        return InvalidArgumentError("duration \"" + std::string(text) + "\" must be positive");
      return n * scale;
    }
  }
  return InvalidArgumentError("duration \"" + std::string(text) +
                              "\" needs a unit: ms, s, m, h or d");
}

Result<Definitions> ParseDefinitions(std::string_view text, std::string_view file_name) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& e) {
    int line = internal::JsonLineIndex::LineAtOffset(text, e.byte == 0 ? 0 : e.byte - 1);
    std::string what = e.what();
    std::size_t cut = what.find("parse error");
    return InvalidArgumentError(
        std::string(file_name) + ":" + std::to_string(line) +
        ": JSON syntax: " + what.substr(cut == std::string::npos ? 0 : cut));
  }
  return Parser(text, file_name).Run(root);
}

Result<Definitions> LoadDefinitionsFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read feature definitions file " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  return ParseDefinitions(buf.str(), path);
}

}  // namespace hotpath::features
