// The benchmark's peer: a conventional tree-walking interpreter of the same
// rule language, built the way most rule engines are (one heap object per
// syntax node, a virtual Eval() per node, every node returning a value).
// It shares the parser and type checker with rules/, so both engines run
// exactly the same rules; only evaluation differs.
#ifndef HOTPATH_BENCH_RULES_AST_INTERPRETER_H_
#define HOTPATH_BENCH_RULES_AST_INTERPRETER_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "rules/rule_set.h"
#include "rules/schema.h"

namespace hotpath::rules::bench {

class AstNode;

class AstInterpreter {
 public:
  struct Outcome {
    std::vector<uint32_t> fired;  // rule indices, pre-model rules first, then post-model
    double score = 0;
    Action action = Action::kNone;
    std::deque<std::string> scratch;  // lower() results; reused across evaluations
  };

  // Parses and checks `source` against `schema`. Errors: as RuleSet::Create().
  static Result<std::unique_ptr<AstInterpreter>> Create(std::shared_ptr<const Schema> schema,
                                                        const std::string& source);
  ~AstInterpreter();

  // Evaluates every rule on `inputs` into *out (cleared first). Thread-compatible.
  void Evaluate(const Inputs& inputs, Outcome* out) const;

 private:
  struct Rule {
    std::unique_ptr<AstNode> root;
    Action action;
    double score;
    uint32_t index;  // in the rules file
  };
  explicit AstInterpreter(std::vector<Rule> rules);

  std::vector<Rule> rules_;  // in evaluation order
};

}  // namespace hotpath::rules::bench

#endif  // HOTPATH_BENCH_RULES_AST_INTERPRETER_H_
