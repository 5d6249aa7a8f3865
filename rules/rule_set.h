// A compiled, immutable rule set: the rules of one rules file, type-checked
// against a Schema and compiled once into flat bytecode, evaluated per event
// without allocation. The language and file format are in docs/rules.md.
//
// Decision semantics: every rule of the evaluated phase is evaluated; the
// decision is the action of the first fired rule in the order block, then
// review, then allow (file order within a class); the score is the sum of the
// weights of all fired rules.
//
// Thread-safety: a RuleSet is immutable after Create(); Evaluate() is const
// and may run on any number of threads at once, each with its own Verdict.
// To reload rules while serving, see ReloadableRuleSet (reloadable_rule_set.h).
#ifndef HOTPATH_RULES_RULE_SET_H_
#define HOTPATH_RULES_RULE_SET_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "rules/internal/eval_state.h"
#include "rules/schema.h"

namespace hotpath::rules {

namespace internal {
struct Program;
}  // namespace internal

// A rule's action class, in precedence order (block wins over review...).
enum class Action : uint8_t { kBlock = 0, kReview = 1, kAllow = 2, kNone = 3 };

// "block", "review", "allow" or "none".
std::string_view ActionName(Action action);

// Which rules an Evaluate() call runs.
enum class Phase : uint8_t {
  kPreModel,   // rules that read only Stage::kPreModel variables (and are not phase=post)
  kPostModel,  // the others: rules that read model scores or are marked phase=post
  kAll,        // both, pre-model rules first
};

// What the host and operators may know about one compiled rule.
struct RuleInfo {
  std::string name;
  Action action = Action::kNone;
  double score = 0;                // weight added to the verdict's score when the rule fires
  Stage stage = Stage::kPreModel;  // the phase it is evaluated in
  std::vector<VarId> reads;        // variables the expression reads, ascending
  uint32_t line = 0;               // line of its definition in the rules file
};

// The outcome of evaluating rules for one event. Evaluate() adds to it, so
// the two phases of a request accumulate into one Verdict. Reuse one Verdict
// per thread (Clear() per event): after the first events it never allocates.
class Verdict {
 public:
  // Forgets all fired rules; keeps the memory.
  void Clear() { state_.Clear(); }

  // The action of the winning fired rule, or kNone when no action rule fired.
  Action action() const;
  // Index (into RuleSet::rule()) of the rule that decided action(), if any.
  std::optional<uint32_t> decided_by() const;
  // Sum of the weights of the fired rules.
  double score() const { return state_.score; }
  // Indices of the fired rules in evaluation order: the decision's reasons.
  std::span<const uint32_t> fired() const { return state_.fired; }

 private:
  friend class RuleSet;
  internal::EvalState state_;
};

class RuleSet {
 public:
  struct Options {
    std::shared_ptr<const Schema> schema;  // required; kept alive by the RuleSet
    std::string source;                    // the rules file's text
    std::string file_name = "<rules>";     // used in error messages
  };

  // Parses, type-checks and compiles `options.source`.
  // Errors: INVALID_ARGUMENT "file:line:col: message" for the first syntax,
  // name or type error (and for a missing schema).
  static Result<std::shared_ptr<const RuleSet>> Create(const Options& options);
  // Reads `path` and compiles it with file_name = path.
  // Errors: NOT_FOUND when unreadable; as Create() otherwise.
  static Result<std::shared_ptr<const RuleSet>> CreateFromFile(std::shared_ptr<const Schema> schema,
                                                               const std::string& path);

  ~RuleSet();
  RuleSet(const RuleSet&) = delete;
  RuleSet& operator=(const RuleSet&) = delete;

  // Evaluates the rules of `phase` on `inputs` and adds what fired to
  // *verdict. Never fails and never allocates once *verdict has grown to
  // this rule set's size. REQUIRES: inputs was built from schema() (or a
  // schema with the same variables in the same order).
  void Evaluate(const Inputs& inputs, Phase phase, Verdict* verdict) const;

  size_t rule_count() const { return rules_.size(); }
  // REQUIRES: index < rule_count().
  const RuleInfo& rule(uint32_t index) const { return rules_[index]; }
  // True when some rule runs in Phase::kPostModel: the host needs model
  // scores only then. O(1).
  bool has_post_model_rules() const { return has_post_model_rules_; }
  // Every variable read by the rules that run in `stage`'s phase, ascending:
  // what the host must fill in before evaluating that phase. O(1).
  std::span<const VarId> reads(Stage stage) const {
    return stage == Stage::kPreModel ? pre_reads_ : post_reads_;
  }
  const Schema& schema() const { return *schema_; }
  // Bytecode instructions in the compiled program (for diagnostics).
  size_t instruction_count() const;

 private:
  RuleSet(std::shared_ptr<const Schema> schema, std::vector<RuleInfo> rules,
          std::unique_ptr<internal::Program> program);

  std::shared_ptr<const Schema> schema_;
  std::vector<RuleInfo> rules_;
  bool has_post_model_rules_ = false;
  std::vector<VarId> pre_reads_;
  std::vector<VarId> post_reads_;
  std::unique_ptr<internal::Program> program_;
};

}  // namespace hotpath::rules

#endif  // HOTPATH_RULES_RULE_SET_H_
