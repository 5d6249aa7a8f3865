// Trace: a demand time series (mean requests per second over fixed steps),
// the input of the forecaster and the fleet simulator, with its file loaders.
//
// File formats (validated at this boundary; errors name the field or line):
//   JSON: {"step_s": 60, "rps": [120.5, 130.0, ...]}
//   CSV:  header "t_s,rps", then one row per step with t_s = 0, step, 2·step...
// A "note" key is allowed in the JSON form; any other unknown key is an error.
// All functions are free of shared state and thread-safe.
#ifndef HOTPATH_SCALE_TRACE_H_
#define HOTPATH_SCALE_TRACE_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace hotpath::scale {

struct Trace {
  int step_s = 60;          // seconds per point; > 0
  std::vector<double> rps;  // [points] mean requests/s over each step; finite, >= 0

  // Seconds covered by the trace.
  double DurationS() const { return static_cast<double>(step_s) * static_cast<double>(rps.size()); }
};

// Parses the JSON form. INVALID_ARGUMENT naming the field on any problem.
Result<Trace> ParseTraceJson(std::string_view text);

// Parses the CSV form. INVALID_ARGUMENT naming the line on any problem
// (non-numeric cell, negative rate, uneven t_s spacing, fewer than 2 rows).
Result<Trace> ParseTraceCsv(std::string_view text);

// Loads `path`, choosing the parser by extension (".json", else CSV).
// NOT_FOUND when the file cannot be read.
Result<Trace> LoadTrace(const std::string& path);

// Writes `trace` as CSV to `path`. INTERNAL when the file cannot be written.
Status SaveTraceCsv(const Trace& trace, const std::string& path);

// Averages consecutive points into steps of `step_s` (a positive multiple of
// trace.step_s); a trailing partial step is dropped. INVALID_ARGUMENT otherwise.
Result<Trace> Resample(const Trace& trace, int step_s);

// Splits off the first `points` points: {head, tail}. REQUIRES: points <= size.
std::pair<Trace, Trace> SplitTrace(const Trace& trace, size_t points);

}  // namespace hotpath::scale

#endif  // HOTPATH_SCALE_TRACE_H_
