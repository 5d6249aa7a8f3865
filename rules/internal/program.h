// The compiled form of a rule set: one flat array of register-machine
// instructions per phase, a constant pool, and the in-list tables.
//
// Operands are 16-bit: the top two bits select the bank (event inputs,
// constants, registers), the low 14 bits index into it. Booleans are compiled
// to jumps ("jumping code"), so `and`/`or`/`not` cost no instructions of
// their own and short-circuit for free; a rule is a run of compare-and-jump
// instructions that skip to the next rule when it cannot fire, then kFire.
#ifndef HOTPATH_RULES_INTERNAL_PROGRAM_H_
#define HOTPATH_RULES_INTERNAL_PROGRAM_H_

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "rules/internal/in_sets.h"
#include "rules/internal/value.h"

namespace hotpath::rules::internal {

using Operand = uint16_t;
inline constexpr uint16_t kBankShift = 14;
inline constexpr uint16_t kIndexMask = (1u << kBankShift) - 1;
enum Bank : uint16_t { kInputBank = 0, kConstBank = 1, kRegBank = 2 };
inline Operand MakeOperand(Bank bank, uint32_t index) {
  return static_cast<Operand>((bank << kBankShift) | index);
}

// Registers available to one rule's expression (a stack array in the VM).
inline constexpr uint32_t kMaxRegisters = 128;
// Constants per program (the operand index width).
inline constexpr uint32_t kMaxConstants = kIndexMask + 1;

// clang-format off
enum class Op : uint8_t {
  // Compare-and-jump: if ((a OP b) == jump_if) goto aux. Within each type the
  // order is Eq, Ne, Lt, Le, Gt, Ge (that of BinOp::kEq..kGe).
  kJEqN, kJNeN, kJLtN, kJLeN, kJGtN, kJGeN,  // numbers
  kJEqS, kJNeS, kJLtS, kJLeS, kJGtS, kJGeS,  // strings (bytewise)
  kJEqT, kJNeT, kJLtT, kJLeT, kJGtT, kJGeT,  // times
  kJEqB, kJNeB,                              // bools
  kJEqNK, kJNeNK, kJLtNK, kJLeNK, kJGtNK, kJGeNK,  // number a vs the immediate `imm`
  kJTrue,  // if (a == jump_if) goto aux
  kJInN,   // if ((a in number_sets[b]) == jump_if) goto aux
  kJInS,   // if ((a in string_sets[b]) == jump_if) goto aux
  kJmp,    // goto aux
  // Register writes: reg[dst] = f(a, b).
  kNeg, kAdd, kSub, kMul, kDiv, kSubT, kAbs, kMin, kMax, kLog1p,
  kLen, kLower, kStartsWith, kEndsWith, kContains, kHourOfDay, kDayOfWeek,
  kSetBool,  // reg[dst] = (aux != 0)
  // Control.
  kFire,  // rule `aux` fired: record it, add its score, update the decision
  kHalt,  // end of the phase
};
// clang-format on

struct Instr {
  Op op = Op::kHalt;
  uint8_t jump_if = 0;
  uint16_t dst = 0;  // register index (not an operand)
  Operand a = 0;
  Operand b = 0;     // an operand, or a set index for kJInN/kJInS
  uint32_t aux = 0;  // jump target, rule index, or kSetBool's value
  double imm = 0;    // the constant of kJ*NK: most rules compare a value with a literal
};
static_assert(sizeof(Instr) == 24);

// What kFire needs about a rule.
struct RuleCode {
  double score = 0;
  uint64_t key = UINT64_MAX;  // (action rank << 32) | rule index; UINT64_MAX: no action
};

struct Program {
  std::vector<Instr> code;
  uint32_t pre_entry = 0;   // first instruction of the pre-model phase
  uint32_t post_entry = 0;  // first instruction of the post-model phase
  std::vector<Value> consts;
  std::deque<std::string> const_text;  // bytes of string constants (stable addresses)
  std::vector<NumberSet> number_sets;
  std::vector<StringSet> string_sets;
  std::vector<RuleCode> rules;  // by rule index
};

}  // namespace hotpath::rules::internal

#endif  // HOTPATH_RULES_INTERNAL_PROGRAM_H_
