#include "rules/internal/parser.h"

#include <algorithm>
#include <array>
#include <set>
#include <utility>

namespace hotpath::rules::internal {
namespace {

struct FuncSpelling {
  std::string_view name;
  Func func;
  int arity;  // -1: two or more, folded left into binary calls
};

constexpr std::array<FuncSpelling, 11> kFuncs = {{
    {"lower", Func::kLower, 1},
    {"len", Func::kLen, 1},
    {"starts_with", Func::kStartsWith, 2},
    {"ends_with", Func::kEndsWith, 2},
    {"contains", Func::kContains, 2},
    {"hour_of_day", Func::kHourOfDay, 1},
    {"day_of_week", Func::kDayOfWeek, 1},
    {"abs", Func::kAbs, 1},
    {"min", Func::kMin, -1},
    {"max", Func::kMax, -1},
    {"log1p", Func::kLog1p, 1},
}};

class Parser {
 public:
  Parser(const Source& source, std::vector<Token> tokens)
      : src_(source), toks_(std::move(tokens)) {}

  Result<Ast> Run() {
    std::set<std::string, std::less<>> names;
    while (Peek().kind != Tok::kEnd) {
      if (ast_.rules.size() == kMaxRules) {
        return Error(Peek().pos, "too many rules (at most " + std::to_string(kMaxRules) + ")");
      }
      ASSIGN_OR_RETURN(RuleDecl rule, ParseRule());
      if (!names.insert(rule.name).second) {
        return Error(rule.pos, "rule '" + rule.name + "' is defined twice");
      }
      ast_.rules.push_back(std::move(rule));
    }
    return std::move(ast_);
  }

 private:
  const Token& Peek() const { return toks_[i_]; }
  const Token& Take() { return toks_[i_ < toks_.size() - 1 ? i_++ : i_]; }
  bool Accept(Tok kind) {
    if (Peek().kind != kind) return false;
    Take();
    return true;
  }
  Status Error(Pos pos, std::string_view message) const { return ErrorAt(src_, pos, message); }
  Status Unexpected(std::string_view wanted) const {
    std::string got(TokName(Peek().kind));
    if (Peek().kind == Tok::kIdent) got += " '" + Peek().text + "'";
    return Error(Peek().pos, "expected " + std::string(wanted) + ", got " + got);
  }
  Result<Token> Expect(Tok kind, std::string_view wanted) {
    if (Peek().kind != kind) return Unexpected(wanted);
    return Take();
  }

  Result<RuleDecl> ParseRule() {
    RETURN_IF_ERROR(Expect(Tok::kRule, "'rule'").status());
    ASSIGN_OR_RETURN(Token name, Expect(Tok::kIdent, "a rule name"));
    RuleDecl rule;
    rule.name = name.text;
    rule.pos = name.pos;
    std::set<std::string, std::less<>> seen;
    while (Peek().kind == Tok::kIdent && toks_[i_ + 1].kind == Tok::kAssign) {
      Token key = Take();
      if (!seen.insert(key.text).second) {
        return Error(key.pos, "attribute '" + key.text + "' given twice");
      }
      Take();  // '='
      RETURN_IF_ERROR(ParseAttribute(key, &rule));
    }
    RETURN_IF_ERROR(Expect(Tok::kColon, "':' before the rule's expression").status());
    ASSIGN_OR_RETURN(rule.root, ParseExpr());
    if (Peek().kind != Tok::kRule && Peek().kind != Tok::kEnd) {
      return Unexpected("an operator, 'rule' or end of file after the expression");
    }
    return rule;
  }

  Status ParseAttribute(const Token& key, RuleDecl* rule) {
    if (key.text == "score") {
      bool negative = Accept(Tok::kMinus);
      ASSIGN_OR_RETURN(Token w, Expect(Tok::kNumber, "a number for 'score'"));
      rule->score = negative ? -w.number : w.number;
      return OkStatus();
    }
    Pos pos = Peek().pos;
    ASSIGN_OR_RETURN(Token value, Expect(Tok::kIdent, "a word for '" + key.text + "'"));
    if (key.text == "action") {
      if (value.text == "block")
        rule->action = Action::kBlock;
      else if (value.text == "review")
        rule->action = Action::kReview;
      else if (value.text == "allow")
        rule->action = Action::kAllow;
      else
        return Error(pos, "action must be block, review or allow, got '" + value.text + "'");
      return OkStatus();
    }
    if (key.text == "phase") {
      if (value.text == "pre")
        rule->phase = Stage::kPreModel;
      else if (value.text == "post")
        rule->phase = Stage::kPostModel;
      else
        return Error(pos, "phase must be pre or post, got '" + value.text + "'");
      return OkStatus();
    }
    return Error(key.pos, "unknown attribute '" + key.text + "' (expected action, score or phase)");
  }

  // Guards recursion through parentheses and prefix operators.
  Status Enter(Pos pos) {
    if (++nesting_ > kMaxNesting) {
      return Error(pos, "expression nested too deeply (more than " + std::to_string(kMaxNesting) +
                            " levels)");
    }
    return OkStatus();
  }

  Result<uint32_t> Add(Node node) {
    uint32_t h = 0;
    if (node.lhs != kNoNode) h = ast_.nodes[node.lhs].height;
    if (node.rhs != kNoNode) h = std::max(h, ast_.nodes[node.rhs].height);
    node.height = h + 1;
    if (node.height > kMaxHeight) {
      return Error(node.pos, "expression too large (tree taller than " +
                                 std::to_string(kMaxHeight) + " levels)");
    }
    ast_.nodes.push_back(std::move(node));
    return static_cast<uint32_t>(ast_.nodes.size() - 1);
  }
  Result<uint32_t> Binary(BinOp op, Pos pos, uint32_t lhs, uint32_t rhs) {
    Node n;
    n.kind = NodeKind::kBinary;
    n.op = op;
    n.pos = pos;
    n.lhs = lhs;
    n.rhs = rhs;
    return Add(std::move(n));
  }

  Result<uint32_t> ParseExpr() { return ParseOr(); }

  Result<uint32_t> ParseOr() {
    ASSIGN_OR_RETURN(uint32_t lhs, ParseAnd());
    while (Peek().kind == Tok::kOr) {
      Pos pos = Take().pos;
      ASSIGN_OR_RETURN(uint32_t rhs, ParseAnd());
      ASSIGN_OR_RETURN(lhs, Binary(BinOp::kOr, pos, lhs, rhs));
    }
    return lhs;
  }

  Result<uint32_t> ParseAnd() {
    ASSIGN_OR_RETURN(uint32_t lhs, ParseNot());
    while (Peek().kind == Tok::kAnd) {
      Pos pos = Take().pos;
      ASSIGN_OR_RETURN(uint32_t rhs, ParseNot());
      ASSIGN_OR_RETURN(lhs, Binary(BinOp::kAnd, pos, lhs, rhs));
    }
    return lhs;
  }

  Result<uint32_t> ParseNot() {
    if (Peek().kind != Tok::kNot) return ParseComparison();
    Node n;
    n.kind = NodeKind::kNot;
    n.pos = Take().pos;
    RETURN_IF_ERROR(Enter(n.pos));
    ASSIGN_OR_RETURN(n.lhs, ParseNot());
    --nesting_;
    return Add(std::move(n));
  }

  Result<uint32_t> ParseComparison() {
    ASSIGN_OR_RETURN(uint32_t lhs, ParseSum());
    static constexpr std::array<std::pair<Tok, BinOp>, 6> kCmp = {{
        {Tok::kEq, BinOp::kEq},
        {Tok::kNe, BinOp::kNe},
        {Tok::kLt, BinOp::kLt},
        {Tok::kLe, BinOp::kLe},
        {Tok::kGt, BinOp::kGt},
        {Tok::kGe, BinOp::kGe},
    }};
    for (const auto& [tok, op] : kCmp) {
      if (Peek().kind != tok) continue;
      Pos pos = Take().pos;
      ASSIGN_OR_RETURN(uint32_t rhs, ParseSum());
      return Binary(op, pos, lhs, rhs);
    }
    if (Peek().kind == Tok::kIn) return ParseIn(lhs, false);
    if (Peek().kind == Tok::kNot && toks_[i_ + 1].kind == Tok::kIn) {
      Take();
      return ParseIn(lhs, true);
    }
    return lhs;
  }

  Result<uint32_t> ParseIn(uint32_t lhs, bool negated) {
    Node n;
    n.kind = NodeKind::kIn;
    n.pos = Take().pos;
    n.negated = negated;
    n.lhs = lhs;
    ListLiteral list;
    list.pos = Peek().pos;
    RETURN_IF_ERROR(Expect(Tok::kLBracket, "'[' after 'in'").status());
    while (!Accept(Tok::kRBracket)) {
      if (!list.items.empty()) RETURN_IF_ERROR(Expect(Tok::kComma, "',' or ']'").status());
      ASSIGN_OR_RETURN(ListLiteral::Item item, ParseListItem());
      list.items.push_back(std::move(item));
    }
    n.index = static_cast<uint32_t>(ast_.lists.size());
    ast_.lists.push_back(std::move(list));
    return Add(std::move(n));
  }

  Result<ListLiteral::Item> ParseListItem() {
    ListLiteral::Item item;
    item.pos = Peek().pos;
    bool negative = Accept(Tok::kMinus);
    if (!negative && Peek().kind == Tok::kString) {
      item.is_string = true;
      item.text = Take().text;
      return item;
    }
    ASSIGN_OR_RETURN(Token num, Expect(Tok::kNumber, "a number or string literal in the list"));
    item.number = negative ? -num.number : num.number;
    return item;
  }

  Result<uint32_t> ParseSum() {
    ASSIGN_OR_RETURN(uint32_t lhs, ParseProduct());
    while (Peek().kind == Tok::kPlus || Peek().kind == Tok::kMinus) {
      BinOp op = Peek().kind == Tok::kPlus ? BinOp::kAdd : BinOp::kSub;
      Pos pos = Take().pos;
      ASSIGN_OR_RETURN(uint32_t rhs, ParseProduct());
      ASSIGN_OR_RETURN(lhs, Binary(op, pos, lhs, rhs));
    }
    return lhs;
  }

  Result<uint32_t> ParseProduct() {
    ASSIGN_OR_RETURN(uint32_t lhs, ParseUnary());
    while (Peek().kind == Tok::kStar || Peek().kind == Tok::kSlash) {
      BinOp op = Peek().kind == Tok::kStar ? BinOp::kMul : BinOp::kDiv;
      Pos pos = Take().pos;
      ASSIGN_OR_RETURN(uint32_t rhs, ParseUnary());
      ASSIGN_OR_RETURN(lhs, Binary(op, pos, lhs, rhs));
    }
    return lhs;
  }

  Result<uint32_t> ParseUnary() {
    if (Peek().kind != Tok::kMinus) return ParsePrimary();
    Node n;
    n.kind = NodeKind::kNeg;
    n.pos = Take().pos;
    RETURN_IF_ERROR(Enter(n.pos));
    ASSIGN_OR_RETURN(n.lhs, ParseUnary());
    --nesting_;
    return Add(std::move(n));
  }

  Result<uint32_t> ParsePrimary() {
    const Token& tok = Peek();
    Node n;
    n.pos = tok.pos;
    switch (tok.kind) {
      case Tok::kNumber:
        n.kind = NodeKind::kNumber;
        n.number = Take().number;
        return Add(n);
      case Tok::kString:
        n.kind = NodeKind::kString;
        n.text = Take().text;
        return Add(n);
      case Tok::kTrue:
      case Tok::kFalse:
        n.kind = NodeKind::kBool;
        n.boolean = Take().kind == Tok::kTrue;
        return Add(n);
      case Tok::kIdent:
        if (toks_[i_ + 1].kind == Tok::kLParen) return ParseCall();
        n.kind = NodeKind::kVar;
        n.text = Take().text;
        return Add(n);
      case Tok::kLParen:
        return ParseParenthesized();
      default:
        return Unexpected("an expression");
    }
  }

  Result<uint32_t> ParseParenthesized() {
    Pos pos = Take().pos;
    RETURN_IF_ERROR(Enter(pos));
    ASSIGN_OR_RETURN(uint32_t inner, ParseExpr());
    RETURN_IF_ERROR(Expect(Tok::kRParen, "')'").status());
    --nesting_;
    return inner;
  }

  Result<uint32_t> ParseCall() {
    Token name = Take();
    auto spelling = std::find_if(kFuncs.begin(), kFuncs.end(),
                                 [&](const FuncSpelling& f) { return f.name == name.text; });
    if (spelling == kFuncs.end()) return Error(name.pos, "unknown function '" + name.text + "'");
    Take();  // '('
    RETURN_IF_ERROR(Enter(name.pos));
    std::vector<uint32_t> args;
    while (!Accept(Tok::kRParen)) {
      if (!args.empty()) RETURN_IF_ERROR(Expect(Tok::kComma, "',' or ')'").status());
      ASSIGN_OR_RETURN(uint32_t arg, ParseExpr());
      args.push_back(arg);
    }
    --nesting_;
    return MakeCall(*spelling, name.pos, args);
  }

  Result<uint32_t> MakeCall(const FuncSpelling& f, Pos pos, const std::vector<uint32_t>& args) {
    bool ok = f.arity < 0 ? args.size() >= 2 : args.size() == static_cast<size_t>(f.arity);
    if (!ok) {
      std::string want = f.arity < 0 ? "at least 2" : std::to_string(f.arity);
      return Error(pos, "function '" + std::string(f.name) + "' takes " + want +
                            " argument(s), got " + std::to_string(args.size()));
    }
    Node n;
    n.kind = NodeKind::kCall;
    n.func = f.func;
    n.pos = pos;
    n.lhs = args[0];
    if (args.size() == 1) return Add(n);
    n.rhs = args[1];
    ASSIGN_OR_RETURN(uint32_t acc, Add(n));
    for (size_t k = 2; k < args.size(); ++k) {
      n.lhs = acc;
      n.rhs = args[k];
      ASSIGN_OR_RETURN(acc, Add(n));
    }
    return acc;
  }

  const Source& src_;
  std::vector<Token> toks_;
  size_t i_ = 0;
  int nesting_ = 0;
  Ast ast_;
};

}  // namespace

Result<Ast> Parse(const Source& source) {
  ASSIGN_OR_RETURN(std::vector<Token> tokens, Lex(source));
  return Parser(source, std::move(tokens)).Run();
}

std::string_view FuncName(Func func) {
  for (const FuncSpelling& f : kFuncs) {
    if (f.func == func) return f.name;
  }
  return "?";
}

std::string_view BinOpName(BinOp op) {
  static constexpr std::array<std::string_view, 12> kNames = {
      "+", "-", "*", "/", "==", "!=", "<", "<=", ">", ">=", "and", "or"};
  return kNames[static_cast<size_t>(op)];
}

}  // namespace hotpath::rules::internal
