#include "bench/rules/ast_interpreter.h"

#include <cmath>
#include <deque>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "rules/internal/checker.h"
#include "rules/internal/parser.h"

namespace hotpath::rules::bench {

using internal::BinOp;
using internal::Func;
using internal::NodeKind;

// A dynamically shaped value, as tree-walking interpreters pass around.
struct AstValue {
  double number = 0;
  int64_t time = 0;
  bool boolean = false;
  std::string_view str;
};

struct AstContext {
  const Inputs& inputs;
  std::deque<std::string>* strings;  // lower() results of this evaluation
};

class AstNode {
 public:
  virtual ~AstNode() = default;
  virtual AstValue Eval(AstContext& ctx) const = 0;
};

namespace {

using NodePtr = std::unique_ptr<AstNode>;

class Literal final : public AstNode {
 public:
  Literal(AstValue v, std::string text) : text_(std::move(text)), v_(v) { v_.str = text_; }
  AstValue Eval(AstContext&) const override { return v_; }

 private:
  std::string text_;
  AstValue v_;
};

class Variable final : public AstNode {
 public:
  Variable(VarId id, Type type) : id_(id), type_(type) {}
  AstValue Eval(AstContext& ctx) const override {
    const internal::Value& raw = ctx.inputs.data()[id_];
    AstValue v;
    switch (type_) {
      case Type::kNumber:
        v.number = raw.number;
        break;
      case Type::kTime:
        v.time = raw.time;
        break;
      case Type::kBool:
        v.boolean = raw.boolean;
        break;
      case Type::kString:
        v.str = internal::AsView(raw);
        break;
    }
    return v;
  }

 private:
  VarId id_;
  Type type_;
};

class Unary final : public AstNode {
 public:
  Unary(NodeKind kind, NodePtr x) : kind_(kind), x_(std::move(x)) {}
  AstValue Eval(AstContext& ctx) const override {
    AstValue v = x_->Eval(ctx);
    if (kind_ == NodeKind::kNeg)
      v.number = -v.number;
    else
      v.boolean = !v.boolean;
    return v;
  }

 private:
  NodeKind kind_;
  NodePtr x_;
};

template <typename T>
bool Compare(BinOp op, const T& a, const T& b) {
  switch (op) {
    case BinOp::kEq:
      return a == b;
    case BinOp::kNe:
      return a != b;
    case BinOp::kLt:
      return a < b;
    case BinOp::kLe:
      return a <= b;
    case BinOp::kGt:
      return a > b;
    default:
      return a >= b;
  }
}

class Binary final : public AstNode {
 public:
  Binary(BinOp op, Type operand, NodePtr a, NodePtr b)
      : op_(op), operand_(operand), a_(std::move(a)), b_(std::move(b)) {}
  AstValue Eval(AstContext& ctx) const override {
    AstValue x = a_->Eval(ctx);
    if (op_ == BinOp::kAnd && !x.boolean) return x;
    if (op_ == BinOp::kOr && x.boolean) return x;
    AstValue y = b_->Eval(ctx);
    if (op_ == BinOp::kAnd || op_ == BinOp::kOr) return y;
    AstValue r;
    switch (operand_) {
      case Type::kNumber:
        return Arithmetic(x.number, y.number);
      case Type::kString:
        r.boolean = Compare(op_, x.str, y.str);
        return r;
      case Type::kBool:
        r.boolean = Compare(op_, x.boolean, y.boolean);
        return r;
      case Type::kTime:
        if (op_ == BinOp::kSub)
          r.number = static_cast<double>(x.time) - static_cast<double>(y.time);
        else
          r.boolean = Compare(op_, x.time, y.time);
        return r;
    }
    return r;
  }

 private:
  AstValue Arithmetic(double x, double y) const {
    AstValue r;
    switch (op_) {
      case BinOp::kAdd:
        r.number = x + y;
        break;
      case BinOp::kSub:
        r.number = x - y;
        break;
      case BinOp::kMul:
        r.number = x * y;
        break;
      case BinOp::kDiv:
        r.number = x / y;
        break;
      default:
        r.boolean = Compare(op_, x, y);
        break;
    }
    return r;
  }

  BinOp op_;
  Type operand_;
  NodePtr a_, b_;
};

class Call final : public AstNode {
 public:
  Call(Func f, NodePtr a, NodePtr b) : f_(f), a_(std::move(a)), b_(std::move(b)) {}
  AstValue Eval(AstContext& ctx) const override {
    AstValue x = a_->Eval(ctx);
    AstValue y = b_ ? b_->Eval(ctx) : AstValue{};
    AstValue r;
    switch (f_) {
      case Func::kLower:
        r.str = Lower(x.str, ctx);
        break;
      case Func::kLen:
        r.number = static_cast<double>(x.str.size());
        break;
      case Func::kStartsWith:
        r.boolean = x.str.starts_with(y.str);
        break;
      case Func::kEndsWith:
        r.boolean = x.str.ends_with(y.str);
        break;
      case Func::kContains:
        r.boolean = x.str.find(y.str) != std::string_view::npos;
        break;
      case Func::kHourOfDay:
        r.number = static_cast<double>(((x.time % 86400) + 86400) % 86400 / 3600);
        break;
      case Func::kDayOfWeek: {
        int64_t days = x.time / 86400 - (x.time % 86400 < 0 ? 1 : 0);
        r.number = static_cast<double>(((days + 4) % 7 + 7) % 7);
        break;
      }
      case Func::kAbs:
        r.number = std::fabs(x.number);
        break;
      case Func::kMin:
        r.number = y.number < x.number ? y.number : x.number;
        break;
      case Func::kMax:
        r.number = x.number < y.number ? y.number : x.number;
        break;
      case Func::kLog1p:
        r.number = std::log1p(x.number);
        break;
    }
    return r;
  }

 private:
  static std::string_view Lower(std::string_view s, AstContext& ctx) {
    std::string& out = ctx.strings->emplace_back(s);
    for (char& c : out) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
  }

  Func f_;
  NodePtr a_, b_;
};

class InList final : public AstNode {
 public:
  InList(NodePtr x, bool negated, const internal::ListLiteral& list, bool strings)
      : x_(std::move(x)), negated_(negated), strings_(strings) {
    for (const auto& item : list.items) {
      if (strings)
        owned_.push_back(item.text);
      else
        numbers_.push_back(item.number);
    }
    for (const std::string& s : owned_) string_set_.insert(s);
  }
  AstValue Eval(AstContext& ctx) const override {
    AstValue v = x_->Eval(ctx);
    bool found = false;
    if (strings_) {
      found = string_set_.count(v.str) > 0;
    } else {
      for (double d : numbers_) found = found || d == v.number;
    }
    AstValue r;
    r.boolean = found != negated_;
    return r;
  }

 private:
  NodePtr x_;
  bool negated_;
  bool strings_;
  std::deque<std::string> owned_;
  std::unordered_set<std::string_view> string_set_;
  std::vector<double> numbers_;
};

NodePtr Build(const internal::Ast& ast, uint32_t id) {
  const internal::Node& n = ast.nodes[id];
  auto child = [&](uint32_t c) { return c == internal::kNoNode ? nullptr : Build(ast, c); };
  AstValue v;
  switch (n.kind) {
    case NodeKind::kNumber:
      v.number = n.number;
      return std::make_unique<Literal>(v, "");
    case NodeKind::kString:
      return std::make_unique<Literal>(v, n.text);
    case NodeKind::kBool:
      v.boolean = n.boolean;
      return std::make_unique<Literal>(v, "");
    case NodeKind::kVar:
      return std::make_unique<Variable>(n.index, n.type);
    case NodeKind::kNeg:
    case NodeKind::kNot:
      return std::make_unique<Unary>(n.kind, child(n.lhs));
    case NodeKind::kBinary:
      return std::make_unique<Binary>(n.op, ast.nodes[n.lhs].type, child(n.lhs), child(n.rhs));
    case NodeKind::kCall:
      return std::make_unique<Call>(n.func, child(n.lhs), child(n.rhs));
    case NodeKind::kIn:
      return std::make_unique<InList>(child(n.lhs), n.negated, ast.lists[n.index],
                                      ast.nodes[n.lhs].type == Type::kString);
  }
  return nullptr;
}

}  // namespace

Result<std::unique_ptr<AstInterpreter>> AstInterpreter::Create(std::shared_ptr<const Schema> schema,
                                                               const std::string& source) {
  internal::Source src{"<peer>", source};
  ASSIGN_OR_RETURN(internal::Ast ast, internal::Parse(src));
  ASSIGN_OR_RETURN(std::vector<internal::CheckedRule> checked, internal::Check(src, *schema, &ast));
  std::vector<Rule> rules;
  for (Stage stage : {Stage::kPreModel, Stage::kPostModel}) {
    for (uint32_t i = 0; i < ast.rules.size(); ++i) {
      if (checked[i].stage != stage) continue;
      const internal::RuleDecl& d = ast.rules[i];
      rules.push_back(Rule{Build(ast, d.root), d.action, d.score, i});
    }
  }
  return std::unique_ptr<AstInterpreter>(new AstInterpreter(std::move(rules)));
}

AstInterpreter::AstInterpreter(std::vector<Rule> rules) : rules_(std::move(rules)) {}
AstInterpreter::~AstInterpreter() = default;

void AstInterpreter::Evaluate(const Inputs& inputs, Outcome* out) const {
  out->scratch.clear();
  AstContext ctx{inputs, &out->scratch};
  out->fired.clear();
  out->score = 0;
  out->action = Action::kNone;
  uint32_t decider = UINT32_MAX;
  for (const Rule& r : rules_) {
    if (!r.root->Eval(ctx).boolean) continue;
    out->fired.push_back(r.index);
    out->score += r.score;
    bool better = r.action < out->action || (r.action == out->action && r.index < decider);
    if (r.action != Action::kNone && better) {
      out->action = r.action;
      decider = r.index;
    }
  }
}

}  // namespace hotpath::rules::bench
