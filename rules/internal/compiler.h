// Compiler from a checked syntax tree to a Program (program.h): jumping code
// for booleans, stack-allocated registers for values, pooled constants,
// in-lists as hash sets or sorted arrays. Pre-model rules come first, in file
// order, then post-model rules.
#ifndef HOTPATH_RULES_INTERNAL_COMPILER_H_
#define HOTPATH_RULES_INTERNAL_COMPILER_H_

#include <memory>
#include <vector>

#include "core/status.h"
#include "rules/internal/ast.h"
#include "rules/internal/checker.h"
#include "rules/internal/program.h"

namespace hotpath::rules::internal {

// REQUIRES: `ast` passed Check(), which produced `checked`.
// Errors: INVALID_ARGUMENT at a rule that exceeds a program limit (registers,
// constants, in-lists).
Result<std::unique_ptr<Program>> Compile(const Source& source, const Ast& ast,
                                         const std::vector<CheckedRule>& checked);

}  // namespace hotpath::rules::internal

#endif  // HOTPATH_RULES_INTERNAL_COMPILER_H_
