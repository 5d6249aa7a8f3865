// Type checker: resolves variable names against the Schema, gives every node
// its type, requires each rule's expression to be bool, and computes which
// variables each rule reads and so the phase it runs in.
#ifndef HOTPATH_RULES_INTERNAL_CHECKER_H_
#define HOTPATH_RULES_INTERNAL_CHECKER_H_

#include <vector>

#include "core/status.h"
#include "rules/internal/ast.h"
#include "rules/schema.h"

namespace hotpath::rules::internal {

struct CheckedRule {
  Stage stage = Stage::kPreModel;
  std::vector<VarId> reads;  // ascending, unique
};

// Types `ast` in place (Node::type, Node::index of variables); one
// CheckedRule per Ast::rules entry.
// Errors: INVALID_ARGUMENT "file:line:col: message" for an unknown variable,
// an operand or argument of the wrong type, a mixed in-list, a non-bool rule,
// or a phase=pre rule that reads a post-model variable.
Result<std::vector<CheckedRule>> Check(const Source& source, const Schema& schema, Ast* ast);

}  // namespace hotpath::rules::internal

#endif  // HOTPATH_RULES_INTERNAL_CHECKER_H_
