#include "rules/internal/checker.h"

#include <algorithm>
#include <set>
#include <string>

namespace hotpath::rules::internal {
namespace {

std::string Quoted(Type t) { return std::string(TypeName(t)); }

class Checker {
 public:
  Checker(const Source& source, const Schema& schema, Ast* ast)
      : src_(source), schema_(schema), ast_(*ast) {}

  Result<std::vector<CheckedRule>> Run() {
    std::vector<CheckedRule> out;
    for (const RuleDecl& rule : ast_.rules) {
      reads_.clear();
      RETURN_IF_ERROR(TypeOf(rule.root));
      const Node& root = ast_.nodes[rule.root];
      if (root.type != Type::kBool) {
        return ErrorAt(
            src_, root.pos,
            "rule '" + rule.name + "' must be a bool expression, got " + Quoted(root.type));
      }
      ASSIGN_OR_RETURN(CheckedRule checked, Finish(rule));
      out.push_back(std::move(checked));
    }
    return out;
  }

 private:
  Result<CheckedRule> Finish(const RuleDecl& rule) {
    CheckedRule c;
    c.reads.assign(reads_.begin(), reads_.end());
    for (VarId id : c.reads) {
      if (schema_.variable(id).stage != Stage::kPostModel) continue;
      if (rule.phase == Stage::kPreModel) {
        return ErrorAt(src_, rule.pos,
                       "rule '" + rule.name + "' is phase=pre but reads '" +
                           schema_.variable(id).name +
                           "', which is known only after the models ran");
      }
      c.stage = Stage::kPostModel;
    }
    if (rule.phase) c.stage = *rule.phase;
    return c;
  }

  Status Mismatch(const Node& n, std::string_view what, Type got) {
    return ErrorAt(src_, n.pos, std::string(what) + ", got " + Quoted(got));
  }

  Status TypeOf(uint32_t id) {
    Node& n = ast_.nodes[id];
    switch (n.kind) {
      case NodeKind::kNumber:
        n.type = Type::kNumber;
        return OkStatus();
      case NodeKind::kString:
        n.type = Type::kString;
        return OkStatus();
      case NodeKind::kBool:
        n.type = Type::kBool;
        return OkStatus();
      case NodeKind::kVar:
        return TypeVar(n);
      case NodeKind::kNeg:
        return TypeUnary(n, Type::kNumber, "operand of '-' must be a number");
      case NodeKind::kNot:
        return TypeUnary(n, Type::kBool, "operand of 'not' must be a bool");
      case NodeKind::kBinary:
        return TypeBinary(n);
      case NodeKind::kCall:
        return TypeCall(n);
      case NodeKind::kIn:
        return TypeIn(n);
    }
    return ErrorAt(src_, n.pos, "unknown expression");
  }

  Status TypeVar(Node& n) {
    std::optional<VarId> id = schema_.Find(n.text);
    if (!id) return ErrorAt(src_, n.pos, "unknown variable '" + n.text + "'");
    n.index = *id;
    n.type = schema_.variable(*id).type;
    reads_.insert(*id);
    return OkStatus();
  }

  Status TypeUnary(Node& n, Type want, std::string_view what) {
    RETURN_IF_ERROR(TypeOf(n.lhs));
    Type got = ast_.nodes[n.lhs].type;
    if (got != want) return Mismatch(n, what, got);
    n.type = want;
    return OkStatus();
  }

  Status TypeBinary(Node& n) {
    RETURN_IF_ERROR(TypeOf(n.lhs));
    RETURN_IF_ERROR(TypeOf(n.rhs));
    Type a = ast_.nodes[n.lhs].type;
    Type b = ast_.nodes[n.rhs].type;
    std::string op(BinOpName(n.op));
    auto fail = [&](std::string_view need) {
      return ErrorAt(src_, n.pos,
                     "operator '" + op + "' needs " + std::string(need) + ", got " + Quoted(a) +
                         " and " + Quoted(b));
    };
    switch (n.op) {
      case BinOp::kAnd:
      case BinOp::kOr:
        if (a != Type::kBool || b != Type::kBool) return fail("bool operands");
        n.type = Type::kBool;
        return OkStatus();
      case BinOp::kEq:
      case BinOp::kNe:
        if (a != b) return fail("operands of the same type");
        n.type = Type::kBool;
        return OkStatus();
      case BinOp::kLt:
      case BinOp::kLe:
      case BinOp::kGt:
      case BinOp::kGe:
        if (a != b || a == Type::kBool) return fail("two numbers, strings or times");
        n.type = Type::kBool;
        return OkStatus();
      default:
        break;
    }
    if (n.op == BinOp::kSub && a == Type::kTime && b == Type::kTime) {
      n.type = Type::kNumber;  // seconds between two times
      return OkStatus();
    }
    if (a != Type::kNumber || b != Type::kNumber) {
      return fail(n.op == BinOp::kSub ? "two numbers or two times" : "two numbers");
    }
    n.type = Type::kNumber;
    return OkStatus();
  }

  Status TypeCall(Node& n) {
    RETURN_IF_ERROR(TypeOf(n.lhs));
    if (n.rhs != kNoNode) RETURN_IF_ERROR(TypeOf(n.rhs));
    Type want = Type::kNumber;
    n.type = Type::kNumber;
    switch (n.func) {
      case Func::kLower:
        want = Type::kString;
        n.type = Type::kString;
        break;
      case Func::kLen:
        want = Type::kString;
        break;
      case Func::kStartsWith:
      case Func::kEndsWith:
      case Func::kContains:
        want = Type::kString;
        n.type = Type::kBool;
        break;
      case Func::kHourOfDay:
      case Func::kDayOfWeek:
        want = Type::kTime;
        break;
      case Func::kAbs:
      case Func::kMin:
      case Func::kMax:
      case Func::kLog1p:
        break;
    }
    for (uint32_t arg : {n.lhs, n.rhs}) {
      if (arg == kNoNode) continue;
      Type got = ast_.nodes[arg].type;
      if (got != want) {
        return ErrorAt(src_, ast_.nodes[arg].pos,
                       "argument of '" + std::string(FuncName(n.func)) + "' must be a " +
                           Quoted(want) + ", got " + Quoted(got));
      }
    }
    return OkStatus();
  }

  Status TypeIn(Node& n) {
    RETURN_IF_ERROR(TypeOf(n.lhs));
    Type a = ast_.nodes[n.lhs].type;
    if (a != Type::kNumber && a != Type::kString) {
      return Mismatch(n, "'in' tests a number or a string", a);
    }
    for (const ListLiteral::Item& item : ast_.lists[n.index].items) {
      Type t = item.is_string ? Type::kString : Type::kNumber;
      if (t != a) {
        return ErrorAt(src_, item.pos,
                       "list item is a " + Quoted(t) + " but the tested value is a " + Quoted(a));
      }
    }
    n.type = Type::kBool;
    return OkStatus();
  }

  const Source& src_;
  const Schema& schema_;
  Ast& ast_;
  std::set<VarId> reads_;
};

}  // namespace

Result<std::vector<CheckedRule>> Check(const Source& source, const Schema& schema, Ast* ast) {
  return Checker(source, schema, ast).Run();
}

}  // namespace hotpath::rules::internal
