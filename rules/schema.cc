#include "rules/schema.h"

#include <utility>

#include "rules/internal/lexer.h"

namespace hotpath::rules {

std::string_view TypeName(Type type) {
  switch (type) {
    case Type::kNumber:
      return "number";
    case Type::kString:
      return "string";
    case Type::kBool:
      return "bool";
    case Type::kTime:
      return "time";
  }
  return "unknown";
}

Result<std::shared_ptr<const Schema>> Schema::Create(Options options) {
  if (options.variables.size() > kMaxVariables) {
    return InvalidArgumentError("schema: " + std::to_string(options.variables.size()) +
                                " variables, at most " + std::to_string(kMaxVariables));
  }
  std::map<std::string, VarId, std::less<>> seen;
  for (const Variable& v : options.variables) {
    if (!internal::IsValidName(v.name)) {
      return InvalidArgumentError("schema: variable name '" + v.name +
                                  "' must match [A-Za-z_][A-Za-z0-9_.]* and not be a keyword");
    }
    if (!seen.emplace(v.name, 0).second) {
      return InvalidArgumentError("schema: variable '" + v.name + "' declared twice");
    }
  }
  return std::shared_ptr<const Schema>(new Schema(std::move(options.variables)));
}

Schema::Schema(std::vector<Variable> variables) : variables_(std::move(variables)) {
  for (VarId id = 0; id < variables_.size(); ++id) index_.emplace(variables_[id].name, id);
}

std::optional<VarId> Schema::Find(std::string_view name) const {
  auto it = index_.find(name);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

Inputs::Inputs(std::shared_ptr<const Schema> schema) : schema_(std::move(schema)) {
  values_.reserve(schema_->size());
  for (VarId id = 0; id < schema_->size(); ++id) {
    switch (schema_->variable(id).type) {
      case Type::kNumber:
        values_.push_back(internal::NumberValue(0));
        break;
      case Type::kString:
        values_.push_back(internal::StringValue(""));
        break;
      case Type::kBool:
        values_.push_back(internal::BoolValue(false));
        break;
      case Type::kTime:
        values_.push_back(internal::TimeValue(0));
        break;
    }
  }
}

}  // namespace hotpath::rules
