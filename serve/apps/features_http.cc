#include "serve/apps/features_http.h"

#include <nlohmann/json.hpp>

#include "serve/internal/http_response.h"

namespace hotpath {

using serve_internal::HttpStatusFor;

Result<std::unique_ptr<FeaturesHttpApp>> FeaturesHttpApp::Create(
    std::shared_ptr<const features::Definitions> definitions, features::DurableFeatureStore* store) {
  if (!definitions || store == nullptr) return InvalidArgumentError("FeaturesHttpApp needs definitions and a store");
  ASSIGN_OR_RETURN(auto parser, features::EventParser::Create(definitions));
  return std::unique_ptr<FeaturesHttpApp>(new FeaturesHttpApp(std::move(definitions), std::move(parser), store));
}

bool FeaturesHttpApp::Handle(const HttpAppRequest& r, Respond respond) {
  if (r.path != "/v1/features/events" && r.path != "/v1/features/read") return false;
  if (r.method != "POST") {
    respond(JsonError(405, "use POST for " + std::string(r.path)));
  } else {
    respond(r.path == "/v1/features/events" ? Ingest(r.body) : Read(r.body));
  }
  return true;
}

HttpAppResponse FeaturesHttpApp::Ingest(std::string_view body) {
  Result<std::vector<Result<features::Event>>> parsed = parser_->ParseBatch(body);
  if (!parsed.ok()) return JsonError(400, parsed.status().message());
  std::vector<features::Event> events;
  std::vector<size_t> index;
  nlohmann::json errors = nlohmann::json::array();
  for (size_t i = 0; i < parsed->size(); ++i) {
    if ((*parsed)[i].ok()) {
      events.push_back(std::move((*parsed)[i]).value());
      index.push_back(i);
    } else {
      errors.push_back({{"index", i}, {"error", (*parsed)[i].status().message()}});
    }
  }
  Result<features::IngestReport> report = store_->Ingest(events);
  if (!report.ok()) return JsonError(HttpStatusFor(report.status().code()), report.status().message());
  for (const auto& [i, st] : report->errors) errors.push_back({{"index", index[i]}, {"error", st.message()}});
  return {200, "application/json", nlohmann::json{{"applied", report->applied}, {"errors", errors}}.dump()};
}

HttpAppResponse FeaturesHttpApp::Read(std::string_view body) const {
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return JsonError(400, "body must be a JSON object");
  auto strings = [&](const char* key, std::vector<std::string>* out) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_array() || it->empty()) return false;
    for (const auto& v : *it) {
      if (!v.is_string()) return false;
      out->push_back(v.get<std::string>());
    }
    return true;
  };
  std::vector<std::string> entities, refs;
  if (!strings("entities", &entities)) return JsonError(400, "'entities' must be a non-empty array of strings");
  if (!strings("features", &refs)) return JsonError(400, "'features' must be a non-empty array of strings");
  features::ReadOptions options;
  if (auto it = j.find("as_of_ms"); it != j.end()) {
    if (!it->is_number_integer()) return JsonError(400, "'as_of_ms' must be an integer (Unix ms)");
    options.as_of_ms = it->get<int64_t>();
  }
  Result<features::FeatureSelector> sel = features::FeatureSelector::Create(*defs_, refs);
  if (!sel.ok()) return JsonError(400, sel.status().message());
  std::vector<features::FeatureValue> values;
  Status s = store_->store().Read(entities, *sel, options, &values);
  if (!s.ok()) return JsonError(HttpStatusFor(s.code()), s.message());
  nlohmann::json rows = nlohmann::json::array();
  for (size_t e = 0; e < entities.size(); ++e) {
    nlohmann::json row = nlohmann::json::array();
    for (size_t f = 0; f < refs.size(); ++f) {
      const features::FeatureValue& v = values[e * refs.size() + f];
      nlohmann::json cell = {{"status", features::ValueStatusName(v.status)}};
      if (v.status == features::ValueStatus::kPresent) {
        if (v.list.empty()) {
          cell["value"] = v.value;
        } else {
          cell["values"] = v.list;
        }
      }
      row.push_back(std::move(cell));
    }
    rows.push_back(std::move(row));
  }
  return {200, "application/json", nlohmann::json{{"values", rows}}.dump()};
}

}  // namespace hotpath
