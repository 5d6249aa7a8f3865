// The variables a rule set may read: the host declares each one's name, type
// and the stage of a request at which its value is known (event fields and
// features before any model runs, model scores after), then fills an Inputs
// record per event.
//
// Thread-safety: a Schema is immutable after Create() and safe to share.
// An Inputs record is a plain value owned by one thread at a time.
#ifndef HOTPATH_RULES_SCHEMA_H_
#define HOTPATH_RULES_SCHEMA_H_

#include <cassert>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "rules/internal/value.h"

namespace hotpath::rules {

// The value types of the rule language.
enum class Type : uint8_t {
  kNumber,  // IEEE double
  kString,  // bytes; compared bytewise
  kBool,
  kTime,  // int64 unix seconds (UTC)
};

// "number", "string", "bool" or "time".
std::string_view TypeName(Type type);

// When in a request a variable's value is known.
enum class Stage : uint8_t {
  kPreModel,   // event fields and features: known before any model runs
  kPostModel,  // model scores: known only after the models ran
};

struct Variable {
  std::string name;  // [A-Za-z_][A-Za-z0-9_.]*, not a keyword of the language
  Type type = Type::kNumber;
  Stage stage = Stage::kPreModel;
};

// Index of a variable in its Schema (0..size()-1); also its slot in Inputs.
using VarId = uint32_t;

class Schema {
 public:
  struct Options {
    std::vector<Variable> variables;  // at most kMaxVariables, names unique
  };
  static constexpr size_t kMaxVariables = 16383;

  // Validates the names (syntax, keywords, duplicates) and the count.
  // Errors: INVALID_ARGUMENT naming the offending variable.
  static Result<std::shared_ptr<const Schema>> Create(Options options);

  // The id of `name`, or nullopt when not declared.
  std::optional<VarId> Find(std::string_view name) const;
  // REQUIRES: id < size().
  const Variable& variable(VarId id) const { return variables_[id]; }
  size_t size() const { return variables_.size(); }

 private:
  explicit Schema(std::vector<Variable> variables);

  std::vector<Variable> variables_;
  std::map<std::string, VarId, std::less<>> index_;
};

// One event's values for every variable of a Schema, by VarId. A new record
// holds 0, "", false and time 0. String values are borrowed: the bytes must
// stay alive and unchanged until the last Evaluate() that reads this record
// returns. Setters are O(1) and never allocate.
class Inputs {
 public:
  // REQUIRES: schema != nullptr.
  explicit Inputs(std::shared_ptr<const Schema> schema);

  // Each REQUIRES: id < schema().size() and the variable has that type.
  void SetNumber(VarId id, double value) { At(id, Type::kNumber).number = value; }
  void SetString(VarId id, std::string_view value) {
    At(id, Type::kString) = internal::StringValue(value);
  }
  void SetBool(VarId id, bool value) { At(id, Type::kBool).boolean = value; }
  void SetTime(VarId id, int64_t unix_seconds) { At(id, Type::kTime).time = unix_seconds; }

  const Schema& schema() const { return *schema_; }
  // The slots, [schema().size()]; for the evaluator.
  const internal::Value* data() const { return values_.data(); }

 private:
  internal::Value& At(VarId id, [[maybe_unused]] Type type) {
    assert(id < values_.size() && schema_->variable(id).type == type);
    return values_[id];
  }

  std::shared_ptr<const Schema> schema_;
  std::vector<internal::Value> values_;
};

}  // namespace hotpath::rules

#endif  // HOTPATH_RULES_SCHEMA_H_
