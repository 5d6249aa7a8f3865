#include "serve/internal/json_reader.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace hotpath::serve_internal {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

Status JsonReader::status() const {
  if (ok()) {
    return OkStatus();
  }
  return InvalidArgumentError(error_);
}

bool JsonReader::Fail(std::string_view what) {
  if (error_.empty()) {
    error_ = "malformed JSON at byte " + std::to_string(pos_) + ": " + std::string(what);
  }
  pos_ = text_.size();
  return false;
}

void JsonReader::SkipSpace() {
  while (pos_ < text_.size()) {
    const char c = text_[pos_];
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
      return;
    }
    ++pos_;
  }
}

char JsonReader::Peek() {
  SkipSpace();
  return pos_ < text_.size() ? text_[pos_] : '\0';
}

bool JsonReader::BeginObject() {
  if (!ok()) {
    return false;
  }
  if (Peek() != '{') {
    return Fail("expected '{'");
  }
  if (++depth_ > kMaxDepth) {
    return Fail("nested deeper than 64 levels");
  }
  ++pos_;
  first_ = true;
  return true;
}

bool JsonReader::BeginArray() {
  if (!ok()) {
    return false;
  }
  if (Peek() != '[') {
    return Fail("expected '['");
  }
  if (++depth_ > kMaxDepth) {
    return Fail("nested deeper than 64 levels");
  }
  ++pos_;
  first_ = true;
  return true;
}

bool JsonReader::NextMember(char close, const char* error) {
  if (!ok()) {
    return false;
  }
  const char c = Peek();
  if (c == close) {
    ++pos_;
    --depth_;
    first_ = false;
    return false;
  }
  if (!first_) {
    if (c != ',') {
      return Fail(error);
    }
    ++pos_;
  }
  first_ = false;
  return true;
}

bool JsonReader::NextKey(std::string_view* key) {
  if (!NextMember('}', "expected ',' or '}'") || !ReadString(key)) {
    return false;
  }
  if (Peek() != ':') {
    return Fail("expected ':'");
  }
  ++pos_;
  return true;
}

bool JsonReader::NextElement() { return NextMember(']', "expected ',' or ']'"); }

bool JsonReader::ReadString(std::string_view* out) {
  if (!ok()) {
    return false;
  }
  if (Peek() != '"') {
    return Fail("expected a string");
  }
  const size_t begin = ++pos_;
  bool escaped = false;
  while (pos_ < text_.size()) {
    const char c = text_[pos_];
    if (c == '"') {
      const size_t end = pos_++;
      if (!escaped) {
        *out = text_.substr(begin, end - begin);
        return true;
      }
      return DecodeEscapes(begin, end, out);
    }
    if (static_cast<unsigned char>(c) < 0x20) {
      return Fail("control character in string");
    }
    if (c == '\\') {
      escaped = true;
      ++pos_;
    }
    ++pos_;
  }
  return Fail("unterminated string");
}

bool JsonReader::DecodeEscapes(size_t begin, size_t end, std::string_view* out) {
  scratch_.clear();
  for (size_t i = begin; i < end; ++i) {
    if (text_[i] != '\\') {
      scratch_.push_back(text_[i]);
      continue;
    }
    const char e = text_[++i];
    switch (e) {
      case '"':
      case '\\':
      case '/':
        scratch_.push_back(e);
        break;
      case 'b':
        scratch_.push_back('\b');
        break;
      case 'f':
        scratch_.push_back('\f');
        break;
      case 'n':
        scratch_.push_back('\n');
        break;
      case 'r':
        scratch_.push_back('\r');
        break;
      case 't':
        scratch_.push_back('\t');
        break;
      case 'u': {
        uint32_t cp = 0;
        for (int k = 0; k < 4; ++k) {
          const int h = i + 1 < end ? HexValue(text_[++i]) : -1;
          if (h < 0) {
            return Fail("bad \\u escape");
          }
          cp = cp * 16 + static_cast<uint32_t>(h);
        }
        AppendUtf8(cp, &scratch_);
        break;
      }
      default:
        return Fail("bad escape in string");
    }
  }
  *out = scratch_;
  return true;
}

bool JsonReader::ReadBool(bool* out) {
  if (!ok()) {
    return false;
  }
  const char c = Peek();
  if (c == 't' && text_.substr(pos_, 4) == "true") {
    pos_ += 4;
    *out = true;
    return true;
  }
  if (c == 'f' && text_.substr(pos_, 5) == "false") {
    pos_ += 5;
    *out = false;
    return true;
  }
  return Fail("expected true or false");
}

bool JsonReader::ReadNull() {
  if (!ok()) {
    return false;
  }
  if (Peek() == 'n' && text_.substr(pos_, 4) == "null") {
    pos_ += 4;
    return true;
  }
  return false;
}

bool JsonReader::ScanNumber(std::string_view* text) {
  if (!ok()) {
    return false;
  }
  SkipSpace();
  const size_t begin = pos_;
  size_t p = pos_;
  const size_t n = text_.size();
  if (p < n && text_[p] == '-') {
    ++p;
  }
  if (p < n && text_[p] == '0') {
    ++p;
  } else if (p < n && IsDigit(text_[p])) {
    while (p < n && IsDigit(text_[p])) {
      ++p;
    }
  } else {
    return Fail("expected a number");
  }
  if (p < n && text_[p] == '.') {
    if (++p >= n || !IsDigit(text_[p])) {
      return Fail("expected digits after '.'");
    }
    while (p < n && IsDigit(text_[p])) {
      ++p;
    }
  }
  if (p < n && (text_[p] == 'e' || text_[p] == 'E')) {
    ++p;
    if (p < n && (text_[p] == '+' || text_[p] == '-')) {
      ++p;
    }
    if (p >= n || !IsDigit(text_[p])) {
      return Fail("expected digits in exponent");
    }
    while (p < n && IsDigit(text_[p])) {
      ++p;
    }
  }
  pos_ = p;
  *text = text_.substr(begin, p - begin);
  return true;
}

bool JsonReader::ReadFloat(float* out) {
  std::string_view t;
  if (!ScanNumber(&t)) {
    return false;
  }
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), *out);
  if (ec != std::errc::result_out_of_range) {
    return ec == std::errc() || Fail("bad number");
  }
  // Underflow rounds towards zero as a cast would; overflow is an error.
  double wide = 0;
  std::from_chars(t.data(), t.data() + t.size(), wide);
  if (!(std::fabs(wide) <= std::numeric_limits<float>::max())) {
    return Fail("number out of FP32 range");
  }
  *out = static_cast<float>(wide);
  return true;
}

bool JsonReader::ReadDouble(double* out) {
  std::string_view t;
  if (!ScanNumber(&t)) {
    return false;
  }
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), *out);
  if (ec == std::errc::result_out_of_range) {
    return Fail("number out of FP64 range");
  }
  return ec == std::errc() || Fail("bad number");
}

bool JsonReader::ReadInt(int64_t* out) {
  std::string_view t;
  if (!ScanNumber(&t)) {
    return false;
  }
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), *out);
  if (ec != std::errc() || p != t.data() + t.size()) {
    return Fail("expected a 64-bit integer");
  }
  return true;
}

bool JsonReader::ReadUint(uint64_t* out) {
  std::string_view t;
  if (!ScanNumber(&t)) {
    return false;
  }
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), *out);
  if (ec != std::errc() || p != t.data() + t.size()) {
    return Fail("expected an unsigned integer");
  }
  return true;
}

bool JsonReader::SkipValue(std::string_view* span) {
  const size_t begin = (Peek(), pos_);
  if (!SkipNested()) {
    return false;
  }
  if (span != nullptr) {
    *span = text_.substr(begin, pos_ - begin);
  }
  return true;
}

bool JsonReader::SkipNested() {
  std::string_view s;
  bool b;
  switch (Peek()) {
    case '{':
      if (!BeginObject()) {
        return false;
      }
      while (NextKey(&s)) {
        if (!SkipNested()) {
          return false;
        }
      }
      return ok();
    case '[':
      if (!BeginArray()) {
        return false;
      }
      while (NextElement()) {
        if (!SkipNested()) {
          return false;
        }
      }
      return ok();
    case '"':
      return ReadString(&s);
    case 't':
    case 'f':
      return ReadBool(&b);
    case 'n':
      return ReadNull() || Fail("expected a value");
    default:
      return ScanNumber(&s);
  }
}

bool JsonReader::AtEnd() {
  SkipSpace();
  return pos_ == text_.size();
}

}  // namespace hotpath::serve_internal
