// The syntax tree of a rules file: nodes in one flat array, children by
// index. Built by the parser, typed and resolved by the checker, consumed by
// the compiler (and by the reference interpreter in bench/rules/).
#ifndef HOTPATH_RULES_INTERNAL_AST_H_
#define HOTPATH_RULES_INTERNAL_AST_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/internal/lexer.h"
#include "rules/rule_set.h"
#include "rules/schema.h"

namespace hotpath::rules::internal {

enum class NodeKind : uint8_t { kNumber, kString, kBool, kVar, kNeg, kNot, kBinary, kCall, kIn };

enum class BinOp : uint8_t { kAdd, kSub, kMul, kDiv, kEq, kNe, kLt, kLe, kGt, kGe, kAnd, kOr };

// clang-format off
enum class Func : uint8_t {
  kLower, kLen, kStartsWith, kEndsWith, kContains,  // strings
  kHourOfDay, kDayOfWeek,                          // time
  kAbs, kMin, kMax, kLog1p,                        // numbers
};
// clang-format on

inline constexpr uint32_t kNoNode = UINT32_MAX;

struct Node {
  NodeKind kind = NodeKind::kNumber;
  BinOp op = BinOp::kAdd;     // kBinary
  Func func = Func::kAbs;     // kCall
  bool negated = false;       // kIn: `not in`
  Type type = Type::kNumber;  // set by the checker
  uint32_t lhs = kNoNode;     // operand, first argument, or the tested value of kIn
  uint32_t rhs = kNoNode;     // second operand or argument
  uint32_t index = 0;         // kVar: VarId (set by the checker); kIn: index into Ast::lists
  uint32_t height = 1;        // 1 + the children's largest height
  double number = 0;          // kNumber
  bool boolean = false;       // kBool
  std::string text;           // kString: value; kVar: name
  Pos pos;                    // operator, function name or literal position
};

// One `[a, b, ...]` literal; items are all numbers or all strings (checked).
struct ListLiteral {
  struct Item {
    bool is_string = false;
    double number = 0;
    std::string text;
    Pos pos;
  };
  Pos pos;
  std::vector<Item> items;
};

struct RuleDecl {
  std::string name;
  Pos pos;  // of the name
  Action action = Action::kNone;
  double score = 0;
  std::optional<Stage> phase;  // `phase=pre|post` when written
  uint32_t root = kNoNode;
};

struct Ast {
  std::vector<Node> nodes;
  std::vector<ListLiteral> lists;
  std::vector<RuleDecl> rules;  // in file order
};

// Source spelling of a function ("starts_with") and of an operator ("<=").
std::string_view FuncName(Func func);
std::string_view BinOpName(BinOp op);

}  // namespace hotpath::rules::internal

#endif  // HOTPATH_RULES_INTERNAL_AST_H_
