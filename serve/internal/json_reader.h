// JsonReader: a pull parser over one JSON text (RFC 8259) for the request
// decoders: objects and arrays are walked in place, numbers parse straight
// into the target type (std::from_chars, correctly rounded), strings are
// views unless they carry escapes. No DOM, no allocation on escape-free input.
//
// Errors are sticky: the first one is kept (with its byte offset) and every
// later call fails, so callers check once per construct.
#ifndef HOTPATH_SERVE_INTERNAL_JSON_READER_H_
#define HOTPATH_SERVE_INTERNAL_JSON_READER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace hotpath::serve_internal {

class JsonReader {
 public:
  static constexpr int kMaxDepth = 64;

  explicit JsonReader(std::string_view text) : text_(text) {}

  // The next non-space character, or '\0' at the end. Does not consume.
  char Peek();
  // Consumes '{' / '['. False (error set) on anything else.
  bool BeginObject();
  bool BeginArray();
  // Moves to the next member of the current object: true with its key, false
  // at '}' (consumed) or on error (check ok()). `key` is valid until the next
  // call to NextKey.
  bool NextKey(std::string_view* key);
  // Moves to the next element of the current array: true when a value
  // follows, false at ']' (consumed) or on error.
  bool NextElement();

  bool ReadString(std::string_view* out);  // valid until the next string read
  bool ReadBool(bool* out);
  bool ReadNull();  // true when a null was consumed
  bool ReadFloat(float* out);
  bool ReadDouble(double* out);
  bool ReadInt(int64_t* out);
  bool ReadUint(uint64_t* out);
  // Skips one value of any kind; `*span` (optional) gets its raw text.
  bool SkipValue(std::string_view* span = nullptr);
  // True once the whole text is consumed (trailing spaces only).
  bool AtEnd();

  bool ok() const { return error_.empty(); }
  // INVALID_ARGUMENT "malformed JSON at byte N: <what>".
  Status status() const;
  // Records an error (only the first is kept). Always returns false.
  bool Fail(std::string_view what);
  size_t offset() const { return pos_; }
  size_t remaining() const { return text_.size() - pos_; }

 private:
  // Consumes `close` (the container ends: false) or, after the first member,
  // the ',' before the next one (true); fails with `error` otherwise.
  bool NextMember(char close, const char* error);
  void SkipSpace();
  // Scans a number's grammar; its text on success.
  bool ScanNumber(std::string_view* text);
  bool DecodeEscapes(size_t begin, size_t end, std::string_view* out);
  bool SkipNested();

  std::string_view text_;
  size_t pos_ = 0;
  int depth_ = 0;
  bool first_ = false;   // just after '{' or '[': no comma expected
  std::string scratch_;  // decoded strings with escapes
  std::string error_;
};

}  // namespace hotpath::serve_internal

#endif  // HOTPATH_SERVE_INTERNAL_JSON_READER_H_
