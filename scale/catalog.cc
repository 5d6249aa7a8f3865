#include "scale/catalog.h"

#include <set>

#include "scale/internal/json_fields.h"

namespace hotpath::scale {

namespace {

using internal::IntField;
using internal::NumberField;
using internal::StringField;
using nlohmann::json;

constexpr double kMaxPrice = 1e6;

Result<InstanceKind> ParseKind(const json& obj, const std::string& path) {
  const std::string cpu = "cpu";
  ASSIGN_OR_RETURN(std::string kind, StringField(obj, path, "kind", &cpu));
  if (kind == "cpu") {
    return InstanceKind::kCpu;
  }
  if (kind == "gpu") {
    return InstanceKind::kGpu;
  }
  return InvalidArgumentError(path + ".kind: expected \"cpu\" or \"gpu\", got \"" + kind + "\"");
}

Result<InstanceType> ParseInstance(const json& obj, const std::string& path) {
  RETURN_IF_ERROR(internal::RequireObject(obj, path));
  RETURN_IF_ERROR(internal::RejectUnknownKeys(
      obj, path,
      {"name", "kind", "vcpu", "memory_gib", "gpus", "gpu_model", "on_demand_per_hour",
       "spot_per_hour", "spot_interruption_rate_per_hour"}));
  InstanceType t;
  const int zero_int = 0;
  const double zero = 0.0;
  ASSIGN_OR_RETURN(t.name, StringField(obj, path, "name"));
  ASSIGN_OR_RETURN(t.kind, ParseKind(obj, path));
  ASSIGN_OR_RETURN(t.vcpu, NumberField(obj, path, "vcpu", 0.001, 1e5));
  ASSIGN_OR_RETURN(t.memory_gib, NumberField(obj, path, "memory_gib", 0.001, 1e6));
  ASSIGN_OR_RETURN(t.gpus, IntField(obj, path, "gpus", 0, 1024, &zero_int));
  if (auto g = obj.find("gpu_model"); g != obj.end()) {
    if (!g->is_string()) {
      return InvalidArgumentError(path + ".gpu_model: expected a string, got " +
                                  internal::JsonTypeName(*g));
    }
    t.gpu_model = g->get<std::string>();
  }
  ASSIGN_OR_RETURN(t.on_demand_per_hour,
                   NumberField(obj, path, "on_demand_per_hour", 1e-9, kMaxPrice));
  ASSIGN_OR_RETURN(t.spot_per_hour,
                   NumberField(obj, path, "spot_per_hour", 0.0, t.on_demand_per_hour, &zero));
  ASSIGN_OR_RETURN(t.spot_interruption_rate_per_hour,
                   NumberField(obj, path, "spot_interruption_rate_per_hour", 0.0, 1.0, &zero));
  if ((t.kind == InstanceKind::kGpu) != (t.gpus > 0)) {
    return InvalidArgumentError(path + ".gpus: kind \"gpu\" needs gpus > 0 and \"cpu\" needs 0");
  }
  return t;
}

}  // namespace

Result<InstanceCatalog> InstanceCatalog::Parse(std::string_view json_text) {
  ASSIGN_OR_RETURN(json doc, internal::ParseJsonDocument(json_text, "catalog"));
  RETURN_IF_ERROR(internal::RequireObject(doc, "catalog"));
  RETURN_IF_ERROR(internal::RejectUnknownKeys(doc, "", {"currency", "instances"}));
  InstanceCatalog c;
  const std::string usd = "USD";
  ASSIGN_OR_RETURN(c.currency_, StringField(doc, "", "currency", &usd));
  auto it = doc.find("instances");
  if (it == doc.end()) {
    return InvalidArgumentError("instances: required field is missing");
  }
  if (!it->is_array() || it->empty()) {
    return InvalidArgumentError("instances: expected a non-empty array, got " +
                                internal::JsonTypeName(*it));
  }
  std::set<std::string> names;
  for (size_t i = 0; i < it->size(); ++i) {
    const std::string path = "instances[" + std::to_string(i) + "]";
    ASSIGN_OR_RETURN(InstanceType t, ParseInstance((*it)[i], path));
    if (!names.insert(t.name).second) {
      return InvalidArgumentError(path + ".name: duplicate instance type \"" + t.name + "\"");
    }
    c.instances_.push_back(std::move(t));
  }
  return c;
}

Result<InstanceCatalog> InstanceCatalog::Load(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, internal::ReadTextFile(path));
  return Parse(text);
}

Result<InstanceType> InstanceCatalog::Find(std::string_view name) const {
  for (const auto& t : instances_) {
    if (t.name == name) {
      return t;
    }
  }
  return NotFoundError("instance type \"" + std::string(name) + "\" is not in the catalog");
}

}  // namespace hotpath::scale
