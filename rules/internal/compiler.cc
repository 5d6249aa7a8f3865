#include "rules/internal/compiler.h"

#include <bit>
#include <cmath>
#include <map>
#include <optional>
#include <string>

namespace hotpath::rules::internal {
namespace {

using PatchList = std::vector<uint32_t>;  // jumps whose target is not yet known

class Compiler {
 public:
  Compiler(const Source& source, const Ast& ast) : src_(source), ast_(ast) {
    p_ = std::make_unique<Program>();
  }

  Result<std::unique_ptr<Program>> Run(const std::vector<CheckedRule>& checked) {
    for (uint32_t i = 0; i < ast_.rules.size(); ++i) p_->rules.push_back(CodeFor(i));
    p_->pre_entry = Pc();
    RETURN_IF_ERROR(EmitPhase(checked, Stage::kPreModel));
    p_->post_entry = Pc();
    RETURN_IF_ERROR(EmitPhase(checked, Stage::kPostModel));
    return std::move(p_);
  }

 private:
  RuleCode CodeFor(uint32_t index) const {
    const RuleDecl& r = ast_.rules[index];
    RuleCode code;
    code.score = r.score;
    if (r.action != Action::kNone) {
      code.key = (static_cast<uint64_t>(r.action) << 32) | index;
    }
    return code;
  }

  Status EmitPhase(const std::vector<CheckedRule>& checked, Stage stage) {
    for (uint32_t i = 0; i < ast_.rules.size(); ++i) {
      if (checked[i].stage != stage) continue;
      top_ = 0;
      PatchList skip = CompileCond(ast_.rules[i].root, false);
      Emit({.op = Op::kFire, .aux = i});
      Patch(skip, Pc());
      if (!limit_.empty()) {
        return ErrorAt(src_, ast_.rules[i].pos, "rule '" + ast_.rules[i].name + "': " + limit_);
      }
    }
    Emit({.op = Op::kHalt});
    return OkStatus();
  }

  uint32_t Pc() const { return static_cast<uint32_t>(p_->code.size()); }
  uint32_t Emit(Instr in) {
    p_->code.push_back(in);
    return Pc() - 1;
  }
  void Patch(const PatchList& jumps, uint32_t target) {
    for (uint32_t j : jumps) p_->code[j].aux = target;
  }
  const Node& N(uint32_t id) const { return ast_.nodes[id]; }

  uint16_t AllocRegister() {
    if (top_ >= kMaxRegisters) {
      limit_ = "expression needs more than " + std::to_string(kMaxRegisters) + " registers";
      return 0;
    }
    return top_++;
  }

  Operand AddConst(Value v) {
    if (p_->consts.size() >= kMaxConstants) {
      limit_ = "more than " + std::to_string(kMaxConstants) + " constants in the file";
      return 0;
    }
    p_->consts.push_back(v);
    return MakeOperand(kConstBank, static_cast<uint32_t>(p_->consts.size() - 1));
  }
  Operand NumberConst(double d) {
    auto [it, fresh] = number_consts_.try_emplace(std::bit_cast<uint64_t>(d), 0);
    if (fresh) it->second = AddConst(NumberValue(d));
    return it->second;
  }
  Operand StringConst(const std::string& s) {
    auto [it, fresh] = string_consts_.try_emplace(s, 0);
    if (fresh) {
      p_->const_text.push_back(s);
      it->second = AddConst(StringValue(p_->const_text.back()));
    }
    return it->second;
  }
  Operand BoolConst(bool b) {
    Operand& slot = bool_consts_[b ? 1 : 0];
    if (slot == kNoOperand) slot = AddConst(BoolValue(b));
    return slot;
  }

  // The value of a number expression built only from literals, computed
  // with the same double operations the VM would run (so folding never
  // changes a result); nullopt when it reads a variable.
  std::optional<double> Fold(uint32_t id) const {
    const Node& n = N(id);
    if (n.type != Type::kNumber) return std::nullopt;
    if (n.kind == NodeKind::kNumber) return n.number;
    bool call = n.kind == NodeKind::kCall;
    bool arithmetic = n.kind == NodeKind::kBinary && N(n.lhs).type == Type::kNumber;
    if (n.kind != NodeKind::kNeg && !arithmetic &&
        !(call && n.func != Func::kLen && n.func != Func::kHourOfDay &&
          n.func != Func::kDayOfWeek)) {
      return std::nullopt;
    }
    std::optional<double> a = Fold(n.lhs);
    std::optional<double> b = n.rhs == kNoNode ? 0.0 : Fold(n.rhs);
    if (!a || !b) return std::nullopt;
    if (n.kind == NodeKind::kNeg) return -*a;
    if (call) return FoldCall(n.func, *a, *b);
    switch (n.op) {
      case BinOp::kAdd:
        return *a + *b;
      case BinOp::kSub:
        return *a - *b;
      case BinOp::kMul:
        return *a * *b;
      default:
        return *a / *b;
    }
  }
  static double FoldCall(Func f, double a, double b) {
    switch (f) {
      case Func::kAbs:
        return std::fabs(a);
      case Func::kMin:
        return b < a ? b : a;
      case Func::kMax:
        return a < b ? b : a;
      default:
        return std::log1p(a);
    }
  }

  // Compiles a value-producing expression; returns where its value lives.
  Operand CompileValue(uint32_t id) {
    if (std::optional<double> folded = Fold(id)) return NumberConst(*folded);
    const Node& n = N(id);
    switch (n.kind) {
      case NodeKind::kNumber:
        return NumberConst(n.number);
      case NodeKind::kString:
        return StringConst(n.text);
      case NodeKind::kBool:
        return BoolConst(n.boolean);
      case NodeKind::kVar:
        return MakeOperand(kInputBank, n.index);
      case NodeKind::kNeg:
        return Apply(Op::kNeg, n.lhs, kNoNode);
      case NodeKind::kBinary:
        return n.type == Type::kBool ? Materialize(id) : Arithmetic(n);
      case NodeKind::kCall:
        return Apply(CallOp(n.func), n.lhs, n.rhs);
      case NodeKind::kNot:
      case NodeKind::kIn:
        return Materialize(id);
    }
    return 0;
  }

  Operand Arithmetic(const Node& n) {
    const Node& lhs = N(n.lhs);
    switch (n.op) {
      case BinOp::kAdd:
        return Apply(Op::kAdd, n.lhs, n.rhs);
      case BinOp::kSub:
        return Apply(lhs.type == Type::kTime ? Op::kSubT : Op::kSub, n.lhs, n.rhs);
      case BinOp::kMul:
        return Apply(Op::kMul, n.lhs, n.rhs);
      default:
        return Apply(Op::kDiv, n.lhs, n.rhs);
    }
  }

  static Op CallOp(Func f) {
    switch (f) {
      case Func::kLower:
        return Op::kLower;
      case Func::kLen:
        return Op::kLen;
      case Func::kStartsWith:
        return Op::kStartsWith;
      case Func::kEndsWith:
        return Op::kEndsWith;
      case Func::kContains:
        return Op::kContains;
      case Func::kHourOfDay:
        return Op::kHourOfDay;
      case Func::kDayOfWeek:
        return Op::kDayOfWeek;
      case Func::kAbs:
        return Op::kAbs;
      case Func::kMin:
        return Op::kMin;
      case Func::kMax:
        return Op::kMax;
      case Func::kLog1p:
        return Op::kLog1p;
    }
    return Op::kAbs;
  }

  // reg = op(value(lhs), value(rhs)); the result may reuse an operand's register.
  Operand Apply(Op op, uint32_t lhs, uint32_t rhs) {
    uint16_t saved = top_;
    Operand a = CompileValue(lhs);
    Operand b = rhs == kNoNode ? 0 : CompileValue(rhs);
    top_ = saved;
    uint16_t dst = AllocRegister();
    Emit({.op = op, .dst = dst, .a = a, .b = b});
    return MakeOperand(kRegBank, dst);
  }

  // A bool expression used as a value: jumping code that stores true/false.
  Operand Materialize(uint32_t id) {
    uint16_t dst = AllocRegister();
    PatchList if_false = CompileCond(id, false);
    Emit({.op = Op::kSetBool, .dst = dst, .aux = 1});
    uint32_t done = Emit({.op = Op::kJmp});
    Patch(if_false, Pc());
    Emit({.op = Op::kSetBool, .dst = dst, .aux = 0});
    Patch({done}, Pc());
    top_ = dst + 1;
    return MakeOperand(kRegBank, dst);
  }

  // Emits code that jumps when the bool expression `id` equals `jump_if` and
  // falls through otherwise; returns the jumps to patch.
  PatchList CompileCond(uint32_t id, bool jump_if) {
    const Node& n = N(id);
    if (n.kind == NodeKind::kNot) return CompileCond(n.lhs, !jump_if);
    if (n.kind == NodeKind::kBool) {
      if (n.boolean != jump_if) return {};
      return {Emit({.op = Op::kJmp})};
    }
    if (n.kind == NodeKind::kIn) return CondIn(n, jump_if);
    if (n.kind == NodeKind::kBinary && (n.op == BinOp::kAnd || n.op == BinOp::kOr)) {
      return CondLogic(n, jump_if);
    }
    if (n.kind == NodeKind::kBinary) return CondCompare(n, jump_if);
    uint16_t saved = top_;
    Operand a = CompileValue(id);
    top_ = saved;
    return {Emit({.op = Op::kJTrue, .jump_if = jump_if, .a = a})};
  }

  PatchList CondLogic(const Node& n, bool jump_if) {
    // `and` jumps on false when either side is false; `or` jumps on true
    // when either side is true. The other sense skips over the right side.
    bool shortcut = n.op == BinOp::kOr;
    if (jump_if == shortcut) {
      PatchList out = CompileCond(n.lhs, jump_if);
      PatchList rhs = CompileCond(n.rhs, jump_if);
      out.insert(out.end(), rhs.begin(), rhs.end());
      return out;
    }
    PatchList decided = CompileCond(n.lhs, shortcut);
    PatchList out = CompileCond(n.rhs, jump_if);
    Patch(decided, Pc());
    return out;
  }

  // `x OP literal` (or `literal OP x`, mirrored) on numbers: the literal
  // travels in the instruction.
  std::optional<PatchList> CondCompareImmediate(const Node& n, bool jump_if) {
    static constexpr BinOp kMirror[] = {BinOp::kAdd, BinOp::kSub, BinOp::kMul, BinOp::kDiv,
                                        BinOp::kEq,  BinOp::kNe,  BinOp::kGt,  BinOp::kGe,
                                        BinOp::kLt,  BinOp::kLe,  BinOp::kAnd, BinOp::kOr};
    if (N(n.lhs).type != Type::kNumber) return std::nullopt;
    BinOp op = n.op;
    uint32_t var_side = n.lhs;
    std::optional<double> imm = Fold(n.rhs);
    if (!imm) {
      imm = Fold(n.lhs);
      if (!imm) return std::nullopt;
      op = kMirror[static_cast<int>(n.op)];
      var_side = n.rhs;
    }
    uint16_t saved = top_;
    Operand a = CompileValue(var_side);
    top_ = saved;
    int offset = static_cast<int>(op) - static_cast<int>(BinOp::kEq);
    Op code = static_cast<Op>(static_cast<int>(Op::kJEqNK) + offset);
    return PatchList{Emit({.op = code, .jump_if = jump_if, .a = a, .imm = *imm})};
  }

  PatchList CondCompare(const Node& n, bool jump_if) {
    if (auto imm = CondCompareImmediate(n, jump_if)) return *imm;
    uint16_t saved = top_;
    Operand a = CompileValue(n.lhs);
    Operand b = CompileValue(n.rhs);
    top_ = saved;
    Op base = Op::kJEqN;
    switch (N(n.lhs).type) {
      case Type::kNumber:
        base = Op::kJEqN;
        break;
      case Type::kString:
        base = Op::kJEqS;
        break;
      case Type::kTime:
        base = Op::kJEqT;
        break;
      case Type::kBool:
        base = Op::kJEqB;
        break;
    }
    int offset = static_cast<int>(n.op) - static_cast<int>(BinOp::kEq);
    Op op = static_cast<Op>(static_cast<int>(base) + offset);
    return {Emit({.op = op, .jump_if = jump_if, .a = a, .b = b})};
  }

  PatchList CondIn(const Node& n, bool jump_if) {
    uint16_t saved = top_;
    Operand a = CompileValue(n.lhs);
    top_ = saved;
    const ListLiteral& list = ast_.lists[n.index];
    bool strings = N(n.lhs).type == Type::kString;
    size_t set = strings ? p_->string_sets.size() : p_->number_sets.size();
    if (set > UINT16_MAX) limit_ = "more than 65536 in-lists of one type in the file";
    if (strings) {
      std::vector<std::string> members;
      for (const auto& item : list.items) members.push_back(item.text);
      p_->string_sets.emplace_back(members);
    } else {
      std::vector<double> members;
      for (const auto& item : list.items) members.push_back(item.number);
      p_->number_sets.emplace_back(std::move(members));
    }
    Instr in{.op = strings ? Op::kJInS : Op::kJInN, .jump_if = jump_if != n.negated, .a = a};
    in.b = static_cast<uint16_t>(set);
    return {Emit(in)};
  }

  static constexpr Operand kNoOperand = UINT16_MAX;

  const Source& src_;
  const Ast& ast_;
  std::unique_ptr<Program> p_;
  uint16_t top_ = 0;   // next free register
  std::string limit_;  // set when a program limit is exceeded
  std::map<uint64_t, Operand> number_consts_;
  std::map<std::string, Operand> string_consts_;
  Operand bool_consts_[2] = {kNoOperand, kNoOperand};
};

}  // namespace

Result<std::unique_ptr<Program>> Compile(const Source& source, const Ast& ast,
                                         const std::vector<CheckedRule>& checked) {
  return Compiler(source, ast).Run(checked);
}

}  // namespace hotpath::rules::internal
