// The live rule set of a server: an immutable RuleSet behind an atomically
// swapped shared_ptr. Reload compiles a new RuleSet off to the side and
// publishes it in one atomic store; requests that already took the old one
// keep it alive until they finish, so no request is dropped or sees a mix.
//
// Thread-safety: all methods may be called from any thread concurrently.
// Current() is an atomic shared_ptr load (it touches the shared reference
// count); hot loops can call it once per request, or cache the pointer per
// thread and refresh it when generation() changes.
#ifndef HOTPATH_RULES_RELOADABLE_RULE_SET_H_
#define HOTPATH_RULES_RELOADABLE_RULE_SET_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "rules/rule_set.h"
#include "rules/schema.h"

namespace hotpath::rules {

class ReloadableRuleSet {
 public:
  struct Options {
    std::shared_ptr<const Schema> schema;  // required; every reload compiles against it
    std::string source;                    // the initial rules file's text
    std::string file_name = "<rules>";     // used in error messages
  };

  // Compiles the initial rules. Errors: as RuleSet::Create().
  static Result<std::unique_ptr<ReloadableRuleSet>> Create(const Options& options);
  // Compiles the initial rules from the file at `path`.
  // Errors: as RuleSet::CreateFromFile().
  static Result<std::unique_ptr<ReloadableRuleSet>> CreateFromFile(
      std::shared_ptr<const Schema> schema, const std::string& path);

  ReloadableRuleSet(const ReloadableRuleSet&) = delete;
  ReloadableRuleSet& operator=(const ReloadableRuleSet&) = delete;

  // The rule set to use for one request; never null. Holding the returned
  // pointer keeps that version alive across a concurrent Reload().
  std::shared_ptr<const RuleSet> Current() const {
    return current_.load(std::memory_order_acquire);
  }

  // Incremented by every successful reload; cheap (one relaxed-ordered load
  // of a read-mostly counter).
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // Compiles `source` and, on success, publishes it. On error the current
  // rule set stays in place and the error (as RuleSet::Create()) is returned.
  Status Reload(std::string source, std::string file_name);
  // Reload() from a file. Errors: NOT_FOUND when unreadable; as Reload().
  Status ReloadFromFile(const std::string& path);

 private:
  ReloadableRuleSet(std::shared_ptr<const Schema> schema, std::shared_ptr<const RuleSet> initial);
  void Publish(std::shared_ptr<const RuleSet> next);

  const std::shared_ptr<const Schema> schema_;
  std::atomic<std::shared_ptr<const RuleSet>> current_;
  std::atomic<uint64_t> generation_{0};
};

}  // namespace hotpath::rules

#endif  // HOTPATH_RULES_RELOADABLE_RULE_SET_H_
