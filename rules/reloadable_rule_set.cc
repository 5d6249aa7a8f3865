#include "rules/reloadable_rule_set.h"

#include <utility>

namespace hotpath::rules {

Result<std::unique_ptr<ReloadableRuleSet>> ReloadableRuleSet::Create(const Options& options) {
  ASSIGN_OR_RETURN(std::shared_ptr<const RuleSet> initial,
                   RuleSet::Create({options.schema, options.source, options.file_name}));
  return std::unique_ptr<ReloadableRuleSet>(
      new ReloadableRuleSet(options.schema, std::move(initial)));
}

Result<std::unique_ptr<ReloadableRuleSet>> ReloadableRuleSet::CreateFromFile(
    std::shared_ptr<const Schema> schema, const std::string& path) {
  ASSIGN_OR_RETURN(std::shared_ptr<const RuleSet> initial, RuleSet::CreateFromFile(schema, path));
  return std::unique_ptr<ReloadableRuleSet>(
      new ReloadableRuleSet(std::move(schema), std::move(initial)));
}

ReloadableRuleSet::ReloadableRuleSet(std::shared_ptr<const Schema> schema,
                                     std::shared_ptr<const RuleSet> initial)
    : schema_(std::move(schema)), current_(std::move(initial)) {}

Status ReloadableRuleSet::Reload(std::string source, std::string file_name) {
  ASSIGN_OR_RETURN(std::shared_ptr<const RuleSet> next,
                   RuleSet::Create({schema_, std::move(source), std::move(file_name)}));
  Publish(std::move(next));
  return OkStatus();
}

Status ReloadableRuleSet::ReloadFromFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::shared_ptr<const RuleSet> next, RuleSet::CreateFromFile(schema_, path));
  Publish(std::move(next));
  return OkStatus();
}

void ReloadableRuleSet::Publish(std::shared_ptr<const RuleSet> next) {
  current_.store(std::move(next), std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

}  // namespace hotpath::rules
