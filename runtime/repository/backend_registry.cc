#include "runtime/repository/backend_registry.h"

#include <filesystem>
#include <system_error>

#include "runtime/tree/tree_model.h"

namespace hotpath {
namespace {

// The artifact path: config.artifact when set, else the first of
// `defaults` that exists in the version folder.
Result<std::string> FindArtifact(const BackendLoadRequest& request,
                                 const std::vector<std::string>& defaults) {
  std::vector<std::string> names = defaults;
  if (!request.config.artifact.empty()) names = {request.config.artifact};
  std::string tried;
  for (const std::string& name : names) {
    std::string path = request.version_dir + "/" + name;
    std::error_code ec;
    if (std::filesystem::is_regular_file(path, ec)) return path;
    tried += (tried.empty() ? "" : ", ") + name;
  }
  return NotFoundError(request.version_dir + ": no model artifact (looked for " + tried + ")");
}

BackendFactory TreeFactory(TreeModel::Format format, std::vector<std::string> defaults) {
  return [format, defaults = std::move(defaults)](
             const BackendLoadRequest& request) -> Result<std::unique_ptr<Model>> {
    ASSIGN_OR_RETURN(std::string path, FindArtifact(request, defaults));
    TreeModel::Options options;
    options.format = format;
    ASSIGN_OR_RETURN(std::unique_ptr<TreeModel> model, TreeModel::Load(path, options));
    return std::unique_ptr<Model>(std::move(model));
  };
}

}  // namespace

BackendRegistry BackendRegistry::WithBuiltins() {
  BackendRegistry registry;
  // Registering fixed, distinct names into an empty registry cannot fail.
  RegisterTreeBackends(registry).IgnoreError();
  return registry;
}

Status BackendRegistry::Register(const std::string& name, BackendFactory factory) {
  if (name.empty()) return InvalidArgumentError("backend name must not be empty");
  if (!factory) return InvalidArgumentError("backend '" + name + "': factory is empty");
  if (!factories_.emplace(name, std::move(factory)).second) {
    return AlreadyExistsError("backend '" + name + "' is already registered");
  }
  return OkStatus();
}

Result<const BackendFactory*> BackendRegistry::Find(const std::string& name) const {
  auto it = factories_.find(name);
  if (it != factories_.end()) return &it->second;
  std::string known;
  for (const std::string& n : Names()) known += (known.empty() ? "" : ", ") + n;
  return NotFoundError("unknown backend '" + name + "' (registered: " + known + ")");
}

std::vector<std::string> BackendRegistry::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, factory] : factories_) names.push_back(name);
  return names;
}

Status RegisterTreeBackends(BackendRegistry& registry) {
  RETURN_IF_ERROR(registry.Register(
      "xgboost", TreeFactory(TreeModel::Format::kXGBoost, {"model.json", "model.ubj"})));
  RETURN_IF_ERROR(
      registry.Register("lightgbm", TreeFactory(TreeModel::Format::kLightGBM, {"model.txt"})));
  return registry.Register(
      "tree", TreeFactory(TreeModel::Format::kAuto, {"model.json", "model.ubj", "model.txt"}));
}

}  // namespace hotpath
