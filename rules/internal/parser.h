// Parser of the rules file format (docs/rules.md):
//
//   # comment
//   rule NAME [action=block|review|allow] [score=W] [phase=pre|post]: EXPR
//
// A rule's expression runs until the next `rule` keyword or the end of the
// file, so it may span lines.
#ifndef HOTPATH_RULES_INTERNAL_PARSER_H_
#define HOTPATH_RULES_INTERNAL_PARSER_H_

#include "core/status.h"
#include "rules/internal/ast.h"
#include "rules/internal/lexer.h"

namespace hotpath::rules::internal {

// Deepest nesting of parentheses and prefix operators the parser accepts.
inline constexpr int kMaxNesting = 100;
// Tallest expression tree accepted (bounds the checker's and compiler's recursion).
inline constexpr uint32_t kMaxHeight = 256;
// Most rules in one file.
inline constexpr size_t kMaxRules = 65535;

// Parses `source` into a syntax tree (untyped, names unresolved).
// Errors: INVALID_ARGUMENT "file:line:col: message" at the first problem.
Result<Ast> Parse(const Source& source);

}  // namespace hotpath::rules::internal

#endif  // HOTPATH_RULES_INTERNAL_PARSER_H_
