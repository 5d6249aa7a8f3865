#include "rules/internal/vm.h"

#include <algorithm>
#include <cmath>
#include <string_view>

namespace hotpath::rules::internal {
namespace {

int64_t FloorMod(int64_t t, int64_t m) {
  int64_t r = t % m;
  return r < 0 ? r + m : r;
}

int64_t FloorDiv(int64_t t, int64_t m) { return t / m - (t % m < 0 ? 1 : 0); }

StrRef Lower(std::string_view s, StringArena* arena) {
  char* out = arena->Allocate(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    out[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return StrRef{out, s.size()};
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The machine state of one Run(): operand banks and the instruction pointer.
class Machine {
 public:
  Machine(const Program& p, const Value* inputs, EvalState* st) : p_(p), st_(st) {
    banks_[kInputBank] = inputs;
    banks_[kConstBank] = p.consts.data();
    banks_[kRegBank] = regs_;
  }

  void Run(uint32_t entry);

 private:
  const Value& V(Operand o) const { return banks_[o >> kBankShift][o & kIndexMask]; }
  double Num(Operand o) const { return V(o).number; }
  int64_t Time(Operand o) const { return V(o).time; }
  bool Bool(Operand o) const { return V(o).boolean; }
  std::string_view Str(Operand o) const { return AsView(V(o)); }

  void Fire(uint32_t rule) {
    st_->fired.push_back(rule);
    const RuleCode& r = p_.rules[rule];
    st_->score += r.score;
    st_->best = std::min(st_->best, r.key);
  }
  void Compute(const Instr& in);

  const Program& p_;
  EvalState* st_;
  const Value* banks_[3];
  Value regs_[kMaxRegisters];
};

// Jumps when the instruction's condition equals its jump_if flag.
#define HOTPATH_JUMP_IF(cond)                                      \
  if ((cond) == static_cast<bool>(in.jump_if)) ip = code + in.aux; \
  break

void Machine::Run(uint32_t entry) {
  const Instr* code = p_.code.data();
  const Instr* ip = code + entry;
  for (;;) {
    const Instr& in = *ip++;
    switch (in.op) {
      case Op::kJEqN:
        HOTPATH_JUMP_IF(Num(in.a) == Num(in.b));
      case Op::kJNeN:
        HOTPATH_JUMP_IF(Num(in.a) != Num(in.b));
      case Op::kJLtN:
        HOTPATH_JUMP_IF(Num(in.a) < Num(in.b));
      case Op::kJLeN:
        HOTPATH_JUMP_IF(Num(in.a) <= Num(in.b));
      case Op::kJGtN:
        HOTPATH_JUMP_IF(Num(in.a) > Num(in.b));
      case Op::kJGeN:
        HOTPATH_JUMP_IF(Num(in.a) >= Num(in.b));
      case Op::kJEqS:
        HOTPATH_JUMP_IF(BytesEqual(Str(in.a), Str(in.b)));
      case Op::kJNeS:
        HOTPATH_JUMP_IF(!BytesEqual(Str(in.a), Str(in.b)));
      case Op::kJLtS:
        HOTPATH_JUMP_IF(Str(in.a) < Str(in.b));
      case Op::kJLeS:
        HOTPATH_JUMP_IF(Str(in.a) <= Str(in.b));
      case Op::kJGtS:
        HOTPATH_JUMP_IF(Str(in.a) > Str(in.b));
      case Op::kJGeS:
        HOTPATH_JUMP_IF(Str(in.a) >= Str(in.b));
      case Op::kJEqT:
        HOTPATH_JUMP_IF(Time(in.a) == Time(in.b));
      case Op::kJNeT:
        HOTPATH_JUMP_IF(Time(in.a) != Time(in.b));
      case Op::kJLtT:
        HOTPATH_JUMP_IF(Time(in.a) < Time(in.b));
      case Op::kJLeT:
        HOTPATH_JUMP_IF(Time(in.a) <= Time(in.b));
      case Op::kJGtT:
        HOTPATH_JUMP_IF(Time(in.a) > Time(in.b));
      case Op::kJGeT:
        HOTPATH_JUMP_IF(Time(in.a) >= Time(in.b));
      case Op::kJEqB:
        HOTPATH_JUMP_IF(Bool(in.a) == Bool(in.b));
      case Op::kJNeB:
        HOTPATH_JUMP_IF(Bool(in.a) != Bool(in.b));
      case Op::kJEqNK:
        HOTPATH_JUMP_IF(Num(in.a) == in.imm);
      case Op::kJNeNK:
        HOTPATH_JUMP_IF(Num(in.a) != in.imm);
      case Op::kJLtNK:
        HOTPATH_JUMP_IF(Num(in.a) < in.imm);
      case Op::kJLeNK:
        HOTPATH_JUMP_IF(Num(in.a) <= in.imm);
      case Op::kJGtNK:
        HOTPATH_JUMP_IF(Num(in.a) > in.imm);
      case Op::kJGeNK:
        HOTPATH_JUMP_IF(Num(in.a) >= in.imm);
      case Op::kJTrue:
        HOTPATH_JUMP_IF(Bool(in.a));
      case Op::kJInN:
        HOTPATH_JUMP_IF(p_.number_sets[in.b].Contains(Num(in.a)));
      case Op::kJInS:
        HOTPATH_JUMP_IF(p_.string_sets[in.b].Contains(Str(in.a)));
      case Op::kJmp:
        ip = code + in.aux;
        break;
      case Op::kFire:
        Fire(in.aux);
        break;
      case Op::kHalt:
        return;
      default:
        Compute(in);
        break;
    }
  }
}

#undef HOTPATH_JUMP_IF

void Machine::Compute(const Instr& in) {
  Value r;
  switch (in.op) {
    case Op::kNeg:
      r.number = -Num(in.a);
      break;
    case Op::kAdd:
      r.number = Num(in.a) + Num(in.b);
      break;
    case Op::kSub:
      r.number = Num(in.a) - Num(in.b);
      break;
    case Op::kMul:
      r.number = Num(in.a) * Num(in.b);
      break;
    case Op::kDiv:
      r.number = Num(in.a) / Num(in.b);
      break;
    case Op::kSubT:
      r.number = static_cast<double>(Time(in.a)) - static_cast<double>(Time(in.b));
      break;
    case Op::kAbs:
      r.number = std::fabs(Num(in.a));
      break;
    case Op::kMin:
      r.number = Num(in.b) < Num(in.a) ? Num(in.b) : Num(in.a);
      break;
    case Op::kMax:
      r.number = Num(in.a) < Num(in.b) ? Num(in.b) : Num(in.a);
      break;
    case Op::kLog1p:
      r.number = std::log1p(Num(in.a));
      break;
    case Op::kLen:
      r.number = static_cast<double>(Str(in.a).size());
      break;
    case Op::kLower:
      r.str = Lower(Str(in.a), &st_->arena);
      break;
    case Op::kStartsWith:
      r = BoolValue(Str(in.a).starts_with(Str(in.b)));
      break;
    case Op::kEndsWith:
      r = BoolValue(EndsWith(Str(in.a), Str(in.b)));
      break;
    case Op::kContains:
      r = BoolValue(Str(in.a).find(Str(in.b)) != std::string_view::npos);
      break;
    case Op::kHourOfDay:
      r.number = static_cast<double>(FloorMod(Time(in.a), 86400) / 3600);
      break;
    case Op::kDayOfWeek:  // 1970-01-01 was a Thursday; 0 = Sunday
      r.number = static_cast<double>(FloorMod(FloorDiv(Time(in.a), 86400) + 4, 7));
      break;
    case Op::kSetBool:
      r = BoolValue(in.aux != 0);
      break;
    default:
      return;
  }
  regs_[in.dst] = r;
}

}  // namespace

void Run(const Program& program, uint32_t entry, const Value* inputs, EvalState* state) {
  state->arena.Reset();
  Machine(program, inputs, state).Run(entry);
}

}  // namespace hotpath::rules::internal
