#include "rules/rule_set.h"

#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include "rules/internal/checker.h"
#include "rules/internal/compiler.h"
#include "rules/internal/parser.h"
#include "rules/internal/program.h"
#include "rules/internal/vm.h"

namespace hotpath::rules {

std::string_view ActionName(Action action) {
  switch (action) {
    case Action::kBlock:
      return "block";
    case Action::kReview:
      return "review";
    case Action::kAllow:
      return "allow";
    case Action::kNone:
      return "none";
  }
  return "none";
}

Action Verdict::action() const {
  if (state_.best == internal::kNoDecision) return Action::kNone;
  return static_cast<Action>(state_.best >> 32);
}

std::optional<uint32_t> Verdict::decided_by() const {
  if (state_.best == internal::kNoDecision) return std::nullopt;
  return static_cast<uint32_t>(state_.best & 0xffffffffu);
}

Result<std::shared_ptr<const RuleSet>> RuleSet::Create(const Options& options) {
  if (options.schema == nullptr) return InvalidArgumentError("RuleSet: schema is required");
  internal::Source source{options.file_name, options.source};
  ASSIGN_OR_RETURN(internal::Ast ast, internal::Parse(source));
  ASSIGN_OR_RETURN(std::vector<internal::CheckedRule> checked,
                   internal::Check(source, *options.schema, &ast));
  ASSIGN_OR_RETURN(std::unique_ptr<internal::Program> program,
                   internal::Compile(source, ast, checked));
  std::vector<RuleInfo> rules;
  rules.reserve(ast.rules.size());
  for (size_t i = 0; i < ast.rules.size(); ++i) {
    const internal::RuleDecl& decl = ast.rules[i];
    rules.push_back(RuleInfo{decl.name, decl.action, decl.score, checked[i].stage,
                             std::move(checked[i].reads), decl.pos.line});
  }
  return std::shared_ptr<const RuleSet>(
      new RuleSet(options.schema, std::move(rules), std::move(program)));
}

Result<std::shared_ptr<const RuleSet>> RuleSet::CreateFromFile(std::shared_ptr<const Schema> schema,
                                                               const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return NotFoundError("rules file '" + path + "' cannot be read");
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) return NotFoundError("rules file '" + path + "': read failed");
  return Create(Options{std::move(schema), std::move(text).str(), path});
}

RuleSet::RuleSet(std::shared_ptr<const Schema> schema, std::vector<RuleInfo> rules,
                 std::unique_ptr<internal::Program> program)
    : schema_(std::move(schema)), rules_(std::move(rules)), program_(std::move(program)) {
  std::set<VarId> pre, post;
  for (uint32_t i = 0; i < rules_.size(); ++i) {
    bool is_post = rules_[i].stage == Stage::kPostModel;
    has_post_model_rules_ = has_post_model_rules_ || is_post;
    (is_post ? post : pre).insert(rules_[i].reads.begin(), rules_[i].reads.end());
  }
  pre_reads_.assign(pre.begin(), pre.end());
  post_reads_.assign(post.begin(), post.end());
}

RuleSet::~RuleSet() = default;

void RuleSet::Evaluate(const Inputs& inputs, Phase phase, Verdict* verdict) const {
  assert(inputs.schema().size() == schema_->size());
  internal::EvalState* state = &verdict->state_;
  if (state->fired.capacity() < rules_.size()) state->fired.reserve(rules_.size());
  if (phase != Phase::kPostModel) {
    internal::Run(*program_, program_->pre_entry, inputs.data(), state);
  }
  if (phase != Phase::kPreModel) {
    internal::Run(*program_, program_->post_entry, inputs.data(), state);
  }
}

size_t RuleSet::instruction_count() const { return program_->code.size(); }

}  // namespace hotpath::rules
