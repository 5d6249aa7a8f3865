// Maps each value of a JSON document to the line it starts on, so that
// semantic errors found after parsing can name "file:line". Paths are written
// as in error messages: `groups[0].aggregations[2].kind`; the root is "".
#ifndef HOTPATH_FEATURES_INTERNAL_JSON_LINES_H_
#define HOTPATH_FEATURES_INTERNAL_JSON_LINES_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

namespace hotpath::features::internal {

class JsonLineIndex {
 public:
  // Scans `text`, which must already be valid JSON (nlohmann has parsed it).
  explicit JsonLineIndex(std::string_view text);

  // 1-based line where the value at `path` starts; for a missing key, the
  // line of the closest enclosing value that exists.
  int LineOf(std::string path) const;

  // 1-based line holding byte offset `pos` of `text`.
  static int LineAtOffset(std::string_view text, std::size_t pos);

 private:
  void ScanValue(const std::string& path);
  void ScanObject(const std::string& path);
  void ScanArray(const std::string& path);
  std::string ScanString();
  void SkipSpace();

  std::string_view text_;
  std::size_t pos_ = 0;
  int line_ = 1;
  std::unordered_map<std::string, int> lines_;
};

}  // namespace hotpath::features::internal

#endif  // HOTPATH_FEATURES_INTERNAL_JSON_LINES_H_
