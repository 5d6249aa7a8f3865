#include "features/read.h"

#include <algorithm>

namespace hotpath::features {
namespace {

Result<FeatureRef> Resolve(const Definitions& defs, const std::string& ref) {
  std::size_t d1 = ref.find('.');
  if (d1 == std::string::npos) {
    return InvalidArgumentError("feature \"" + ref +
                                "\": expected GROUP.AGGREGATION.WINDOW or GROUP.DERIVED");
  }
  FeatureRef out;
  out.group = defs.FindGroup(std::string_view(ref).substr(0, d1));
  if (out.group < 0) return InvalidArgumentError("feature \"" + ref + "\": unknown group");
  const FeatureGroupDef& g = defs.groups[out.group];
  std::string_view rest = std::string_view(ref).substr(d1 + 1);
  std::size_t d2 = rest.find('.');
  std::string_view name = rest.substr(0, d2);
  if (d2 == std::string_view::npos) {
    for (std::size_t i = 0; i < g.derived.size(); ++i) {
      if (g.derived[i].name == name) {
        out.derived = true;
        out.index = static_cast<int>(i);
        return out;
      }
    }
    return InvalidArgumentError("feature \"" + ref + "\": unknown derived feature");
  }
  out.index = -1;
  out.window = -1;
  for (std::size_t i = 0; i < g.aggregations.size(); ++i) {
    if (g.aggregations[i].name == name) out.index = static_cast<int>(i);
  }
  for (std::size_t i = 0; i < g.windows.size(); ++i) {
    if (g.windows[i].name == rest.substr(d2 + 1)) out.window = static_cast<int>(i);
  }
  if (out.index < 0) return InvalidArgumentError("feature \"" + ref + "\": unknown aggregation");
  if (out.window < 0) return InvalidArgumentError("feature \"" + ref + "\": unknown window");
  return out;
}

}  // namespace

std::string_view ValueStatusName(ValueStatus status) {
  switch (status) {
    case ValueStatus::kPresent:
      return "present";
    case ValueStatus::kNotFound:
      return "not_found";
    case ValueStatus::kExpired:
      return "expired";
    case ValueStatus::kNotRetained:
      return "not_retained";
  }
  return "unknown";
}

Result<FeatureSelector> FeatureSelector::Create(const Definitions& defs,
                                                std::span<const std::string> refs) {
  FeatureSelector sel;
  if (refs.empty()) return InvalidArgumentError("features: at least one reference is required");
  for (const std::string& ref : refs) {
    ASSIGN_OR_RETURN(FeatureRef r, Resolve(defs, ref));
    int entity = defs.groups[r.group].entity;
    if (sel.refs_.empty()) sel.entity_ = entity;
    if (entity != sel.entity_) {
      return InvalidArgumentError("feature \"" + ref + "\": belongs to entity \"" +
                                  defs.entities[entity].name + "\", not \"" +
                                  defs.entities[sel.entity_].name + "\"");
    }
    sel.refs_.push_back(r);
    sel.names_.push_back(ref);
    if (std::find(sel.groups_.begin(), sel.groups_.end(), r.group) == sel.groups_.end()) {
      sel.groups_.push_back(r.group);
    }
  }
  std::sort(sel.groups_.begin(), sel.groups_.end());
  return sel;
}

const double* Profile::Find(std::string_view name) const {
  for (const auto& [k, v] : fields) {
    if (k == name) return &v;
  }
  return nullptr;
}

}  // namespace hotpath::features
