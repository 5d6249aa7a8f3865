#include "serve/apps/features_http.h"

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "serve/internal/http_response.h"

namespace hotpath {

using serve_internal::HttpStatusFor;

namespace {

nlohmann::json ErrorJson(size_t index, const Status& st) {
  return {{"index", index}, {"code", StatusCodeName(st.code())}, {"error", st.message()}};
}

// A JSON number in its shortest round-trip form; null when not finite.
void AppendNumber(double x, std::string* out) {
  if (!std::isfinite(x)) {
    *out += "null";
    return;
  }
  char buf[32];
  *out += std::string_view(buf, std::to_chars(buf, buf + sizeof buf, x).ptr - buf);
}

// The read answer, written directly (no JSON tree: this is the per-request
// hot path): {"values": [[cell, ...], ...]}, `width` cells per entity.
std::string ValuesJson(std::span<const features::FeatureValue> values, size_t width) {
  std::string out = "{\"values\": [";
  out.reserve(out.size() + values.size() * 40);
  for (size_t i = 0; i < values.size(); ++i) {
    const features::FeatureValue& v = values[i];
    out += i % width == 0 ? (i == 0 ? "[" : "], [") : ", ";
    out += "{\"status\": \"";
    out += features::ValueStatusName(v.status);
    out += "\"";
    if (v.status == features::ValueStatus::kPresent && v.list.empty()) {
      out += ", \"value\": ";
      AppendNumber(v.value, &out);
    } else if (v.status == features::ValueStatus::kPresent) {
      out += ", \"values\": [";
      for (size_t k = 0; k < v.list.size(); ++k) {
        if (k > 0) out += ", ";
        AppendNumber(v.list[k], &out);
      }
      out += "]";
    }
    out += "}";
  }
  return out + (values.empty() ? "]}" : "]]}");
}

}  // namespace

Result<std::unique_ptr<FeaturesHttpApp>> FeaturesHttpApp::Create(
    std::shared_ptr<const features::Definitions> definitions, const features::FeatureStore* reads,
    features::IngestFn ingest) {
  if (!definitions || reads == nullptr || !ingest) {
    return InvalidArgumentError("FeaturesHttpApp needs definitions, a store to read and an ingest function");
  }
  ASSIGN_OR_RETURN(auto parser, features::EventParser::Create(definitions));
  return std::unique_ptr<FeaturesHttpApp>(
      new FeaturesHttpApp(std::move(definitions), std::move(parser), reads, std::move(ingest)));
}

Result<std::unique_ptr<FeaturesHttpApp>> FeaturesHttpApp::Create(
    std::shared_ptr<const features::Definitions> definitions, features::DurableFeatureStore* store) {
  if (store == nullptr) return InvalidArgumentError("FeaturesHttpApp needs a store");
  // Acknowledged events are durable also when the store defers its log
  // (the fraud server's): the batch is flushed before the answer.
  return Create(std::move(definitions), &store->store(),
                [store](std::span<const features::Event> events) -> Result<features::IngestReport> {
                  ASSIGN_OR_RETURN(features::IngestReport report, store->Ingest(events));
                  RETURN_IF_ERROR(store->Flush());
                  return report;
                });
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
      errors.push_back(ErrorJson(i, (*parsed)[i].status()));
    }
  }
  Result<features::IngestReport> report = ingest_(events);
  if (!report.ok()) return JsonError(HttpStatusFor(report.status().code()), report.status().message());
  for (const auto& [i, st] : report->errors) errors.push_back(ErrorJson(index[i], st));
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
  Status s = reads_->Read(entities, *sel, options, &values);
  if (!s.ok()) return JsonError(HttpStatusFor(s.code()), s.message());
  return {200, "application/json", ValuesJson(values, refs.size())};
}

}  // namespace hotpath
