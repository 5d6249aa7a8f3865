#include "features/internal/json_lines.h"

#include <algorithm>

namespace hotpath::features::internal {

JsonLineIndex::JsonLineIndex(std::string_view text) : text_(text) {
  SkipSpace();
  if (pos_ < text_.size()) ScanValue("");
}

int JsonLineIndex::LineAtOffset(std::string_view text, std::size_t pos) {
  pos = std::min(pos, text.size());
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + pos, '\n'));
}

int JsonLineIndex::LineOf(std::string path) const {
  while (true) {
    auto it = lines_.find(path);
    if (it != lines_.end()) return it->second;
    if (path.empty()) return 1;
    std::size_t cut = path.find_last_of(".[");
    path.resize(cut == std::string::npos ? 0 : cut);
  }
}

void JsonLineIndex::SkipSpace() {
  while (pos_ < text_.size()) {
    char c = text_[pos_];
    if (c == '\n') {
      ++line_;
    } else if (c != ' ' && c != '\t' && c != '\r') {
      return;
    }
    ++pos_;
  }
}

std::string JsonLineIndex::ScanString() {
  std::string out;
  ++pos_;  // opening quote
  while (pos_ < text_.size() && text_[pos_] != '"') {
    if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
    out.push_back(text_[pos_++]);
  }
  ++pos_;  // closing quote
  return out;
}

void JsonLineIndex::ScanValue(const std::string& path) {
  lines_.emplace(path, line_);
  if (pos_ >= text_.size()) return;
  char c = text_[pos_];
  if (c == '{') {
    ScanObject(path);
  } else if (c == '[') {
    ScanArray(path);
  } else if (c == '"') {
    ScanString();
  } else {
    while (pos_ < text_.size() &&
           std::string_view(",]} \t\r\n").find(text_[pos_]) == std::string_view::npos) {
      ++pos_;
    }
  }
}

void JsonLineIndex::ScanObject(const std::string& path) {
  ++pos_;
  SkipSpace();
  while (pos_ < text_.size() && text_[pos_] != '}') {
    int key_line = line_;
    std::string key = ScanString();
    std::string child = path.empty() ? key : path + "." + key;
    SkipSpace();
    ++pos_;  // ':'
    SkipSpace();
    lines_.emplace(child, key_line);
    ScanValue(child);
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == ',') ++pos_;
    SkipSpace();
  }
  ++pos_;
}

void JsonLineIndex::ScanArray(const std::string& path) {
  ++pos_;
  SkipSpace();
  for (int i = 0; pos_ < text_.size() && text_[pos_] != ']'; ++i) {
    ScanValue(path + "[" + std::to_string(i) + "]");
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == ',') ++pos_;
    SkipSpace();
  }
  ++pos_;
}

}  // namespace hotpath::features::internal
