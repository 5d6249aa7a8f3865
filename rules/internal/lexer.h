// Tokenizer of the rules file format: positions (line, column) on every
// token, `#` comments to end of line, newlines are plain whitespace.
#ifndef HOTPATH_RULES_INTERNAL_LEXER_H_
#define HOTPATH_RULES_INTERNAL_LEXER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace hotpath::rules::internal {

// 1-based line and column (in bytes) of a token in its source.
struct Pos {
  uint32_t line = 1;
  uint32_t col = 1;
};

// A source text with the name used in error messages ("rules/fraud.rules").
struct Source {
  std::string_view file;
  std::string_view text;
};

// INVALID_ARGUMENT "file:line:col: message".
Status ErrorAt(const Source& source, Pos pos, std::string_view message);

// clang-format off
enum class Tok : uint8_t {
  kIdent, kNumber, kString,
  kLParen, kRParen, kLBracket, kRBracket, kComma, kColon, kAssign,
  kPlus, kMinus, kStar, kSlash,
  kEq, kNe, kLt, kLe, kGt, kGe,
  kAnd, kOr, kNot, kIn, kTrue, kFalse, kRule,
  kEnd,
};
// clang-format on

struct Token {
  Tok kind = Tok::kEnd;
  Pos pos;
  std::string text;   // identifier name, decoded string literal, or the raw lexeme
  double number = 0;  // kNumber only
};

// Splits `source` into tokens ending with one kEnd.
// Errors: INVALID_ARGUMENT at the offending character (unexpected
// character, unterminated string, bad escape, malformed number).
Result<std::vector<Token>> Lex(const Source& source);

// True for the reserved words: and or not in true false rule.
bool IsKeyword(std::string_view word);
// True when `name` matches [A-Za-z_][A-Za-z0-9_.]* and is not a keyword.
bool IsValidName(std::string_view name);
// How a token kind is shown in error messages, e.g. "')'" or "identifier".
std::string_view TokName(Tok kind);

}  // namespace hotpath::rules::internal

#endif  // HOTPATH_RULES_INTERNAL_LEXER_H_
