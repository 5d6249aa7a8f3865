#include "features/replay.h"

#include <cstdio>
#include <istream>
#include <nlohmann/json.hpp>
#include <ostream>

#include "features/read.h"

namespace hotpath::features {
namespace {

constexpr std::size_t kMaxReportedErrors = 100;

void Note(ReplayStats* stats, std::size_t line, Status st) {
  ++(st.code() == StatusCode::kOutOfRange ? stats->too_late : stats->rejected);
  if (stats->errors.size() < kMaxReportedErrors) stats->errors.emplace_back(line, std::move(st));
}

std::string CsvCell(std::string s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string Number(double v) {
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%.17g", v);
  return std::string(buf, static_cast<std::size_t>(n));
}

// The passthrough cells of one JSON event line.
std::string Passthrough(std::string_view line, const std::vector<std::string>& fields) {
  nlohmann::json obj = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  std::string out;
  for (const std::string& f : fields) {
    out += ",";
    auto it = obj.is_object() ? obj.find(f) : obj.end();
    if (it == obj.end() || it->is_null()) continue;
    out += CsvCell(it->is_string()
                       ? it->get<std::string>()
                       : it->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  return out;
}

// One CSV row: what an online read of `sel` answers for the event's entity
// now, before the event is applied.
Status WriteRow(const FeatureStore& store, const FeatureSelector& sel, const Event& ev,
                std::string_view line, const std::vector<std::string>& passthrough,
                std::ostream& csv) {
  std::vector<std::string> key = {ev.entity_key};
  std::vector<FeatureValue> row;
  RETURN_IF_ERROR(store.Read(key, sel, {}, &row));
  csv << CsvCell(ev.entity_key) << "," << ev.ts_ms << Passthrough(line, passthrough);
  for (const FeatureValue& v : row) {
    csv << "," << (v.status == ValueStatus::kPresent ? Number(v.value) : "");
  }
  csv << "\n";
  return OkStatus();
}

void WriteHeader(const BackfillOptions& options, std::ostream& csv) {
  csv << "entity,ts_ms";
  for (const std::string& f : options.passthrough_fields) csv << "," << CsvCell(f);
  for (const std::string& f : options.features) csv << "," << CsvCell(f);
  csv << "\n";
}

}  // namespace

Result<ReplayStats> ReplayJsonl(std::istream& in, const EventParser& parser, const IngestFn& ingest,
                                std::size_t batch_size) {
  ReplayStats stats;
  std::vector<Event> batch;
  std::vector<std::size_t> lines;
  auto flush = [&]() -> Status {
    if (batch.empty()) return OkStatus();
    ASSIGN_OR_RETURN(IngestReport report, ingest(batch));
    stats.applied += report.applied;
    for (auto& [i, st] : report.errors) Note(&stats, lines[i], std::move(st));
    batch.clear();
    lines.clear();
    return OkStatus();
  };
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    ++stats.lines;
    Result<Event> ev = parser.Parse(line);
    if (!ev.ok()) {
      Note(&stats, n, ev.status());
      continue;
    }
    batch.push_back(std::move(ev).value());
    lines.push_back(n);
    if (batch.size() >= batch_size) RETURN_IF_ERROR(flush());
  }
  RETURN_IF_ERROR(flush());
  return stats;
}

Status Backfill(const BackfillOptions& options, std::istream& events, std::ostream& csv,
                ReplayStats* stats) {
  if (options.definitions == nullptr)
    return InvalidArgumentError("backfill: definitions are required");
  const Definitions& defs = *options.definitions;
  ASSIGN_OR_RETURN(FeatureSelector sel, FeatureSelector::Create(defs, options.features));
  ASSIGN_OR_RETURN(std::unique_ptr<EventParser> parser, EventParser::Create(options.definitions));
  FakeClock clock{TimePoint(std::chrono::milliseconds(0))};
  FeatureStore::Options so;
  so.definitions = options.definitions;
  so.clock = &clock;
  ASSIGN_OR_RETURN(std::unique_ptr<FeatureStore> store, FeatureStore::Create(so));
  WriteHeader(options, csv);
  *stats = ReplayStats{};
  std::string line;
  for (std::size_t n = 1; std::getline(events, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    ++stats->lines;
    Result<Event> ev = parser->Parse(line);
    if (!ev.ok()) {
      Note(stats, n, ev.status());
      continue;
    }
    const int64_t now = WallMillis(clock);
    if (ev->ts_ms < now) {
      return InvalidArgumentError(options.events_name + ": line " + std::to_string(n) +
                                  ": event time goes back (" + std::to_string(ev->ts_ms) + " < " +
                                  std::to_string(now) + "); sort the log by event time");
    }
    clock.Advance(std::chrono::milliseconds(ev->ts_ms - now));
    if (defs.sources[ev->source].entity == sel.entity()) {
      RETURN_IF_ERROR(WriteRow(*store, sel, *ev, line, options.passthrough_fields, csv));
      ++stats->rows;
    }
    IngestReport report = store->Ingest({&ev.value(), 1});
    stats->applied += report.applied;
    for (auto& [i, st] : report.errors) Note(stats, n, std::move(st));
  }
  if (!csv) return InternalError("backfill: writing the CSV failed");
  return OkStatus();
}

}  // namespace hotpath::features
