#include "rules/internal/lexer.h"

#include <array>
#include <charconv>
#include <cstdio>
#include <utility>

namespace hotpath::rules::internal {
namespace {

constexpr std::array<std::pair<std::string_view, Tok>, 7> kKeywords = {{
    {"and", Tok::kAnd},
    {"or", Tok::kOr},
    {"not", Tok::kNot},
    {"in", Tok::kIn},
    {"true", Tok::kTrue},
    {"false", Tok::kFalse},
    {"rule", Tok::kRule},
}};

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c) || c == '.'; }

// Shows a byte for a message: 'x' when printable, '\xNN' otherwise.
std::string Printable(char c) {
  if (c >= 0x20 && c < 0x7f) return std::string("'") + c + "'";
  char buf[8];
  std::snprintf(buf, sizeof(buf), "'\\x%02x'", static_cast<unsigned char>(c));
  return buf;
}

class Lexer {
 public:
  explicit Lexer(const Source& source) : src_(source), text_(source.text) {}

  Result<std::vector<Token>> Run() {
    std::vector<Token> out;
    for (;;) {
      SkipSpaceAndComments();
      Token tok;
      tok.pos = pos_;
      if (i_ >= text_.size()) {
        out.push_back(std::move(tok));
        return out;
      }
      RETURN_IF_ERROR(Next(&tok));
      out.push_back(std::move(tok));
    }
  }

 private:
  char Peek(size_t ahead = 0) const { return i_ + ahead < text_.size() ? text_[i_ + ahead] : '\0'; }
  void Advance() {
    if (text_[i_] == '\n') {
      ++pos_.line;
      pos_.col = 1;
    } else {
      ++pos_.col;
    }
    ++i_;
  }
  void SkipSpaceAndComments() {
    while (i_ < text_.size()) {
      char c = text_[i_];
      if (c == '#') {
        while (i_ < text_.size() && text_[i_] != '\n') Advance();
      } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        Advance();
      } else {
        return;
      }
    }
  }

  Status Next(Token* tok) {
    char c = Peek();
    if (IsIdentStart(c)) return Identifier(tok);
    if (IsDigit(c) || (c == '.' && IsDigit(Peek(1)))) return Number(tok);
    if (c == '"' || c == '\'') return String(tok);
    return Punct(tok);
  }

  Status Identifier(Token* tok) {
    size_t start = i_;
    while (i_ < text_.size() && IsIdentChar(text_[i_])) Advance();
    tok->text = std::string(text_.substr(start, i_ - start));
    tok->kind = Tok::kIdent;
    for (const auto& [word, kind] : kKeywords) {
      if (word == tok->text) tok->kind = kind;
    }
    return OkStatus();
  }

  Status Number(Token* tok) {
    size_t start = i_;
    while (IsDigit(Peek()) || Peek() == '.') Advance();
    if (Peek() == 'e' || Peek() == 'E') {
      Advance();
      if (Peek() == '+' || Peek() == '-') Advance();
      while (IsDigit(Peek())) Advance();
    }
    std::string_view lexeme = text_.substr(start, i_ - start);
    const char* end = lexeme.data() + lexeme.size();
    auto [ptr, ec] = std::from_chars(lexeme.data(), end, tok->number);
    if (ec != std::errc() || ptr != end || IsIdentStart(Peek())) {
      return ErrorAt(src_, tok->pos, "malformed number '" + std::string(lexeme) + "'");
    }
    tok->kind = Tok::kNumber;
    tok->text = std::string(lexeme);
    return OkStatus();
  }

  Status String(Token* tok) {
    char quote = Peek();
    Advance();
    std::string value;
    for (;;) {
      if (i_ >= text_.size() || Peek() == '\n') {
        return ErrorAt(src_, tok->pos, "unterminated string literal");
      }
      char c = Peek();
      if (c == quote) break;
      if (c == '\\') {
        Pos esc = pos_;
        Advance();
        char e = Peek();
        if (e == 'n')
          value += '\n';
        else if (e == 't')
          value += '\t';
        else if (e == '\\' || e == '"' || e == '\'')
          value += e;
        else if (i_ < text_.size() && e != '\n')
          return ErrorAt(src_, esc, "unknown escape sequence: '\\' then " + Printable(e));
        else
          return ErrorAt(src_, tok->pos, "unterminated string literal");
      } else {
        value += c;
      }
      Advance();
    }
    Advance();
    tok->kind = Tok::kString;
    tok->text = std::move(value);
    return OkStatus();
  }

  Status Punct(Token* tok) {
    static constexpr std::array<std::pair<std::string_view, Tok>, 20> kPuncts = {{
        {"==", Tok::kEq},      {"!=", Tok::kNe},      {"<=", Tok::kLe},    {">=", Tok::kGe},
        {"&&", Tok::kAnd},     {"||", Tok::kOr},      {"(", Tok::kLParen}, {")", Tok::kRParen},
        {"[", Tok::kLBracket}, {"]", Tok::kRBracket}, {",", Tok::kComma},  {":", Tok::kColon},
        {"=", Tok::kAssign},   {"+", Tok::kPlus},     {"-", Tok::kMinus},  {"*", Tok::kStar},
        {"/", Tok::kSlash},    {"<", Tok::kLt},       {">", Tok::kGt},     {"!", Tok::kNot},
    }};
    for (const auto& [lexeme, kind] : kPuncts) {
      if (text_.substr(i_, lexeme.size()) == lexeme) {
        for (size_t k = 0; k < lexeme.size(); ++k) Advance();
        tok->kind = kind;
        tok->text = std::string(lexeme);
        return OkStatus();
      }
    }
    return ErrorAt(src_, tok->pos, "unexpected character " + Printable(Peek()));
  }

  const Source& src_;
  std::string_view text_;
  size_t i_ = 0;
  Pos pos_;
};

}  // namespace

Status ErrorAt(const Source& source, Pos pos, std::string_view message) {
  std::string out(source.file);
  out += ':' + std::to_string(pos.line) + ':' + std::to_string(pos.col) + ": ";
  out += message;
  return InvalidArgumentError(std::move(out));
}

Result<std::vector<Token>> Lex(const Source& source) { return Lexer(source).Run(); }

bool IsKeyword(std::string_view word) {
  for (const auto& kw : kKeywords) {
    if (kw.first == word) return true;
  }
  return false;
}

bool IsValidName(std::string_view name) {
  if (name.empty() || !IsIdentStart(name[0])) return false;
  for (char c : name) {
    if (!IsIdentChar(c)) return false;
  }
  return !IsKeyword(name);
}

std::string_view TokName(Tok kind) {
  switch (kind) {
    case Tok::kIdent:
      return "identifier";
    case Tok::kNumber:
      return "number";
    case Tok::kString:
      return "string";
    case Tok::kLParen:
      return "'('";
    case Tok::kRParen:
      return "')'";
    case Tok::kLBracket:
      return "'['";
    case Tok::kRBracket:
      return "']'";
    case Tok::kComma:
      return "','";
    case Tok::kColon:
      return "':'";
    case Tok::kAssign:
      return "'='";
    case Tok::kPlus:
      return "'+'";
    case Tok::kMinus:
      return "'-'";
    case Tok::kStar:
      return "'*'";
    case Tok::kSlash:
      return "'/'";
    case Tok::kEq:
      return "'=='";
    case Tok::kNe:
      return "'!='";
    case Tok::kLt:
      return "'<'";
    case Tok::kLe:
      return "'<='";
    case Tok::kGt:
      return "'>'";
    case Tok::kGe:
      return "'>='";
    case Tok::kAnd:
      return "'and'";
    case Tok::kOr:
      return "'or'";
    case Tok::kNot:
      return "'not'";
    case Tok::kIn:
      return "'in'";
    case Tok::kTrue:
      return "'true'";
    case Tok::kFalse:
      return "'false'";
    case Tok::kRule:
      return "'rule'";
    case Tok::kEnd:
      return "end of file";
  }
  return "token";
}

}  // namespace hotpath::rules::internal
