// RowReader: reads rows of float features from CSV or JSON Lines files for
// offline scoring (`hotpath predict`). An empty CSV field or a JSON null is a
// missing value (NaN). Errors name the line and column.
#ifndef HOTPATH_CLI_INTERNAL_ROW_READER_H_
#define HOTPATH_CLI_INTERNAL_ROW_READER_H_

#include <cstddef>
#include <istream>
#include <string>
#include <vector>

#include "core/status.h"

namespace hotpath::cli {

class RowReader {
 public:
  enum class Format { kCsv, kJsonLines };

  // Reads from `in` (borrowed; must outlive the reader). `width` is the
  // number of features each row must have. A CSV file may start with one
  // header line (any field that is not a number), which is skipped.
  RowReader(std::istream* in, Format format, size_t width) : in_(in), format_(format), width_(width) {}

  // Appends up to `max_rows` rows to `*rows` ([n, width] row-major) and
  // returns how many it read; 0 at end of input. INVALID_ARGUMENT naming the
  // line (1-based) and column on a malformed row; nothing of that row is kept.
  Result<size_t> Read(size_t max_rows, std::vector<float>* rows);

  // Picks the format from a path's extension: .jsonl/.ndjson/.json -> JSON Lines.
  static Format FormatForPath(const std::string& path);

 private:
  Status ParseCsv(const std::string& line, std::vector<float>* rows);
  Status ParseJson(const std::string& line, std::vector<float>* rows);
  std::string Where() const { return "line " + std::to_string(line_no_); }

  std::istream* in_;
  Format format_;
  size_t width_;
  size_t line_no_ = 0;
};

}  // namespace hotpath::cli

#endif  // HOTPATH_CLI_INTERNAL_ROW_READER_H_
