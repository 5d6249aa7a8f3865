#include "cli/internal/row_reader.h"

#include <charconv>
#include <cmath>

#include <nlohmann/json.hpp>

namespace hotpath::cli {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Parses a whole field as a float; false if it is not exactly a number.
bool ParseFloat(std::string_view s, float* out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

RowReader::Format RowReader::FormatForPath(const std::string& path) {
  for (const char* ext : {".jsonl", ".ndjson", ".json"}) {
    const std::string e(ext);
    if (path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0) {
      return Format::kJsonLines;
    }
  }
  return Format::kCsv;
}

Result<size_t> RowReader::Read(size_t max_rows, std::vector<float>* rows) {
  size_t n = 0;
  std::string line;
  while (n < max_rows && std::getline(*in_, line)) {
    ++line_no_;
    if (Trim(line).empty()) continue;
    const size_t before = rows->size();
    Status s = format_ == Format::kCsv ? ParseCsv(line, rows) : ParseJson(line, rows);
    if (!s.ok()) {
      rows->resize(before);
      if (s.code() == StatusCode::kOutOfRange) continue;  // CSV header line
      return s;
    }
    ++n;
  }
  return n;
}

Status RowReader::ParseCsv(const std::string& line, std::vector<float>* rows) {
  std::string_view rest(line);
  size_t col = 0;
  bool header = false;
  std::string error;
  for (;;) {
    const size_t comma = rest.find(',');
    std::string_view field = Trim(rest.substr(0, comma));
    ++col;
    float v = NAN;
    if (!field.empty() && !ParseFloat(field, &v)) {
      if (line_no_ == 1) {
        header = true;
      } else if (error.empty()) {
        error = Where() + ", column " + std::to_string(col) + ": '" + std::string(field) +
                "' is not a number";
      }
    }
    rows->push_back(v);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (header) return OutOfRangeError("header");
  if (!error.empty()) return InvalidArgumentError(error);
  if (col != width_) {
    return InvalidArgumentError(Where() + ": " + std::to_string(col) + " fields, the model takes " +
                                std::to_string(width_));
  }
  return OkStatus();
}

Status RowReader::ParseJson(const std::string& line, std::vector<float>* rows) {
  auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgumentError(Where() + ": not valid JSON");
  if (j.is_object() && j.contains("features")) j = j["features"];
  if (!j.is_array()) {
    return InvalidArgumentError(Where() + ": expected an array of numbers (or {\"features\": [...]})");
  }
  if (j.size() != width_) {
    return InvalidArgumentError(Where() + ": " + std::to_string(j.size()) +
                                " values, the model takes " + std::to_string(width_));
  }
  for (size_t i = 0; i < j.size(); ++i) {
    if (j[i].is_null()) {
      rows->push_back(NAN);
    } else if (j[i].is_number()) {
      rows->push_back(j[i].get<float>());
    } else {
      return InvalidArgumentError(Where() + ", element " + std::to_string(i) + ": " + j[i].dump() +
                                  " is not a number or null");
    }
  }
  return OkStatus();
}

}  // namespace hotpath::cli
