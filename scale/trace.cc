#include "scale/trace.h"

#include <charconv>
#include <cmath>
#include <fstream>

#include "scale/internal/json_fields.h"

namespace hotpath::scale {

namespace {

Status ValidateRates(const std::vector<double>& rps, std::string_view field) {
  if (rps.size() < 2) {
    return InvalidArgumentError(std::string(field) + ": a trace needs at least 2 points");
  }
  for (size_t i = 0; i < rps.size(); ++i) {
    if (!std::isfinite(rps[i]) || rps[i] < 0.0) {
      return InvalidArgumentError(std::string(field) + "[" + std::to_string(i) +
                                  "]: expected a finite rate >= 0");
    }
  }
  return OkStatus();
}

// Parses a whole cell as a double; false on any leftover character.
bool ParseCell(std::string_view cell, double& out) {
  while (!cell.empty() && (cell.front() == ' ' || cell.front() == '\t')) {
    cell.remove_prefix(1);
  }
  while (!cell.empty() && (cell.back() == ' ' || cell.back() == '\r')) {
    cell.remove_suffix(1);
  }
  if (cell.empty()) {
    return false;
  }
  auto [ptr, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), out);
  return ec == std::errc() && ptr == cell.data() + cell.size();
}

Status CsvError(size_t line, const std::string& what) {
  return InvalidArgumentError("trace csv line " + std::to_string(line) + ": " + what);
}

}  // namespace

Result<Trace> ParseTraceJson(std::string_view text) {
  ASSIGN_OR_RETURN(nlohmann::json doc, internal::ParseJsonDocument(text, "trace"));
  RETURN_IF_ERROR(internal::RequireObject(doc, "trace"));
  RETURN_IF_ERROR(internal::RejectUnknownKeys(doc, "", {"step_s", "rps"}));
  Trace t;
  ASSIGN_OR_RETURN(t.step_s, internal::IntField(doc, "", "step_s", 1, 86400));
  auto it = doc.find("rps");
  if (it == doc.end()) {
    return InvalidArgumentError("rps: required field is missing");
  }
  if (!it->is_array()) {
    return InvalidArgumentError("rps: expected an array, got " + internal::JsonTypeName(*it));
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const auto& v = (*it)[i];
    if (!v.is_number()) {
      return InvalidArgumentError("rps[" + std::to_string(i) + "]: expected a number, got " +
                                  internal::JsonTypeName(v));
    }
    t.rps.push_back(v.get<double>());
  }
  RETURN_IF_ERROR(ValidateRates(t.rps, "rps"));
  return t;
}

namespace {

struct CsvRow {
  size_t line = 0;
  double t_s = 0.0;
  double rps = 0.0;
};

Result<CsvRow> ParseRow(std::string_view line, size_t line_no) {
  CsvRow row{line_no, 0.0, 0.0};
  const size_t comma = line.find(',');
  if (comma == std::string_view::npos) {
    return CsvError(line_no, "expected 't_s,rps'");
  }
  if (!ParseCell(line.substr(0, comma), row.t_s)) {
    return CsvError(line_no, "t_s is not a number");
  }
  if (!ParseCell(line.substr(comma + 1), row.rps)) {
    return CsvError(line_no, "rps is not a number");
  }
  return row;
}

// The common step of the rows' t_s, which must be whole seconds and even.
Result<int> UniformStep(const std::vector<CsvRow>& rows) {
  const double step = rows[1].t_s - rows[0].t_s;
  if (step < 1.0 || step != std::floor(step)) {
    return CsvError(rows[1].line, "t_s step must be whole seconds >= 1");
  }
  for (size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].t_s - rows[i - 1].t_s != step) {
      return CsvError(rows[i].line, "t_s is not evenly spaced");
    }
  }
  return static_cast<int>(step);
}

}  // namespace

Result<Trace> ParseTraceCsv(std::string_view text) {
  std::vector<CsvRow> rows;
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (line_no == 1) {
      if (line.substr(0, 7) != "t_s,rps") {
        return CsvError(1, "expected the header 't_s,rps'");
      }
      continue;
    }
    if (line.empty() || line == "\r") {
      continue;
    }
    ASSIGN_OR_RETURN(CsvRow row, ParseRow(line, line_no));
    rows.push_back(row);
  }
  if (rows.size() < 2) {
    return CsvError(line_no, "a trace needs at least 2 rows");
  }
  Trace t;
  ASSIGN_OR_RETURN(t.step_s, UniformStep(rows));
  for (const CsvRow& r : rows) {
    t.rps.push_back(r.rps);
  }
  RETURN_IF_ERROR(ValidateRates(t.rps, "rps"));
  return t;
}

Result<Trace> LoadTrace(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, internal::ReadTextFile(path));
  const bool json = path.size() >= 5 && path.substr(path.size() - 5) == ".json";
  return json ? ParseTraceJson(text) : ParseTraceCsv(text);
}

Status SaveTraceCsv(const Trace& trace, const std::string& path) {
  std::ofstream out(path);
  if (!out) {
    return InternalError("cannot write trace to '" + path + "'");
  }
  out << "t_s,rps\n";
  for (size_t i = 0; i < trace.rps.size(); ++i) {
    out << i * static_cast<size_t>(trace.step_s) << ',' << trace.rps[i] << '\n';
  }
  return out ? OkStatus() : InternalError("short write to '" + path + "'");
}

Result<Trace> Resample(const Trace& trace, int step_s) {
  if (step_s <= 0 || step_s % trace.step_s != 0) {
    return InvalidArgumentError("step_s: " + std::to_string(step_s) +
                                " is not a positive multiple of the trace step " +
                                std::to_string(trace.step_s));
  }
  const size_t k = static_cast<size_t>(step_s / trace.step_s);
  Trace out;
  out.step_s = step_s;
  for (size_t i = 0; i + k <= trace.rps.size(); i += k) {
    double sum = 0.0;
    for (size_t j = 0; j < k; ++j) {
      sum += trace.rps[i + j];
    }
    out.rps.push_back(sum / static_cast<double>(k));
  }
  return out;
}

std::pair<Trace, Trace> SplitTrace(const Trace& trace, size_t points) {
  Trace head{trace.step_s, {trace.rps.begin(), trace.rps.begin() + points}};
  Trace tail{trace.step_s, {trace.rps.begin() + points, trace.rps.end()}};
  return {std::move(head), std::move(tail)};
}

}  // namespace hotpath::scale
