#include "features/event.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "features/internal/sketches.h"

namespace hotpath::features {
namespace {

using nlohmann::json;

// Text of a key or keyed field: strings as-is, integers in decimal.
Result<std::string> KeyText(const json& obj, const std::string& field, bool any_number) {
  auto it = obj.find(field);
  if (it == obj.end()) return InvalidArgumentError("field \"" + field + "\" is missing");
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return it->dump();
  if (any_number && it->is_number_float() && std::isfinite(it->get<double>())) return it->dump();
  return InvalidArgumentError("field \"" + field + "\" must be a string or an integer, got " +
                              std::string(it->type_name()));
}

Result<double> Number(const json& obj, const std::string& field) {
  auto it = obj.find(field);
  if (it == obj.end()) return InvalidArgumentError("field \"" + field + "\" is missing");
  if (!it->is_number()) {
    return InvalidArgumentError("field \"" + field + "\" must be a number, got " +
                                std::string(it->type_name()));
  }
  double v = it->get<double>();
  if (!std::isfinite(v)) return InvalidArgumentError("field \"" + field + "\" is not finite");
  return v;
}

Result<Event> FromJson(const Definitions& defs, const json& obj) {
  if (!obj.is_object()) return InvalidArgumentError("event must be a JSON object");
  auto type = obj.find("type");
  if (type == obj.end() || !type->is_string()) {
    return InvalidArgumentError("field \"type\" must be a string naming an event source");
  }
  Event ev;
  ev.source = defs.FindSource(type->get<std::string>());
  if (ev.source < 0) {
    return InvalidArgumentError("field \"type\": unknown event source \"" +
                                type->get<std::string>() + "\"");
  }
  const SourceDef& src = defs.sources[ev.source];
  const EntityDef& entity = defs.entities[src.entity];
  std::vector<std::string> parts;
  for (const std::string& key : entity.key_fields) {
    ASSIGN_OR_RETURN(std::string text, KeyText(obj, key, false));
    parts.push_back(std::move(text));
  }
  std::vector<std::string_view> views(parts.begin(), parts.end());
  ev.entity_key = EntityKey(views);
  ASSIGN_OR_RETURN(double ts, Number(obj, src.timestamp_field));
  double ms = ts * static_cast<double>(src.timestamp_unit_ms);
  if (ms < 0 || ms >= 9.0e15) {
    return InvalidArgumentError("field \"" + src.timestamp_field +
                                "\": timestamp must be in [0, 9e15) ms since the epoch");
  }
  ev.ts_ms = static_cast<int64_t>(ms);
  for (const std::string& f : src.numeric_fields) {
    ASSIGN_OR_RETURN(double v, Number(obj, f));
    ev.numbers.push_back(v);
  }
  for (const std::string& f : src.keyed_fields) {
    ASSIGN_OR_RETURN(std::string text, KeyText(obj, f, true));
    ev.keyed.push_back(KeyedValueHash(text));
  }
  return ev;
}

}  // namespace

std::string EntityKey(std::span<const std::string_view> parts) {
  std::string key;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) key.push_back('\x1f');
    key.append(parts[i]);
  }
  return key;
}

uint64_t KeyedValueHash(std::string_view canonical_text) {
  return internal::HashBytes(canonical_text);
}

Result<std::unique_ptr<EventParser>> EventParser::Create(std::shared_ptr<const Definitions> defs) {
  if (defs == nullptr) return InvalidArgumentError("EventParser: definitions are required");
  return std::unique_ptr<EventParser>(new EventParser(std::move(defs)));
}

Result<Event> EventParser::Parse(std::string_view json_object) const {
  json obj = json::parse(json_object, nullptr, /*allow_exceptions=*/false);
  if (obj.is_discarded()) return InvalidArgumentError("event is not valid JSON");
  return FromJson(*defs_, obj);
}

Result<std::vector<Result<Event>>> EventParser::ParseBatch(std::string_view json_array) const {
  json arr = json::parse(json_array, nullptr, /*allow_exceptions=*/false);
  if (arr.is_discarded() || !arr.is_array()) {
    return InvalidArgumentError("event batch must be a JSON array of event objects");
  }
  if (arr.size() > 1'000'000)
    return ResourceExhaustedError("event batch holds over 1,000,000 events");
  std::vector<Result<Event>> out;
  out.reserve(arr.size());
  for (const json& item : arr) out.push_back(FromJson(*defs_, item));
  return out;
}

}  // namespace hotpath::features
