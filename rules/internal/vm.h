// The interpreter loop of compiled rule programs: a switch over flat
// instructions, registers in a stack array, no allocation (lower() writes
// into the EvalState's arena, which reuses its memory).
#ifndef HOTPATH_RULES_INTERNAL_VM_H_
#define HOTPATH_RULES_INTERNAL_VM_H_

#include <cstdint>

#include "rules/internal/eval_state.h"
#include "rules/internal/program.h"
#include "rules/internal/value.h"

namespace hotpath::rules::internal {

// Runs `program` from instruction `entry` to the next kHalt over `inputs`
// ([schema size] values) and adds fired rules to *state.
void Run(const Program& program, uint32_t entry, const Value* inputs, EvalState* state);

}  // namespace hotpath::rules::internal

#endif  // HOTPATH_RULES_INTERNAL_VM_H_
