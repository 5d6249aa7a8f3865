// BackendRegistry: maps a config's `backend` name ("xgboost", "lightgbm",
// "tree", later "onnx", "torch", ...) to the factory that loads a version's
// artifact into a Model. The repository picks the backend through this table
// only; no call site branches on backend names.
#ifndef HOTPATH_RUNTIME_REPOSITORY_BACKEND_REGISTRY_H_
#define HOTPATH_RUNTIME_REPOSITORY_BACKEND_REGISTRY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "runtime/model.h"
#include "runtime/repository/model_config.h"

namespace hotpath {

// What a backend gets to load one version.
struct BackendLoadRequest {
  const ModelConfig& config;
  std::string version_dir;  // "<repo>/<model>/<N>", no trailing '/'
};

// A backend factory: loads the artifact under request.version_dir
// (config.artifact, or the backend's default file names) and returns the
// model, or an error naming the file (NOT_FOUND when no artifact exists,
// INVALID_ARGUMENT when it is malformed). Called from loader threads; must
// be thread-safe.
using BackendFactory = std::function<Result<std::unique_ptr<Model>>(const BackendLoadRequest&)>;

class BackendRegistry {
 public:
  // An empty registry.
  BackendRegistry() = default;
  // A registry holding the built-in backends (see RegisterTreeBackends).
  static BackendRegistry WithBuiltins();

  // Adds `factory` under `name`. ALREADY_EXISTS when the name is taken,
  // INVALID_ARGUMENT when it is empty or `factory` is empty.
  // Not thread-safe: fill the registry before handing it to a repository.
  Status Register(const std::string& name, BackendFactory factory);

  // The factory for `name`, or NOT_FOUND listing the registered names.
  // Thread-safe on a registry no longer being filled.
  Result<const BackendFactory*> Find(const std::string& name) const;

  // Registered names, sorted.
  std::vector<std::string> Names() const;

 private:
  std::map<std::string, BackendFactory> factories_;
};

// Registers the tree-ensemble backends on runtime/tree's TreeModel:
//   "xgboost"  - XGBoost JSON/UBJSON; default file model.json, else model.ubj
//   "lightgbm" - LightGBM text; default file model.txt
//   "tree"     - either, detected from the content; first of model.json,
//                model.ubj, model.txt
// Each loaded model runs Predict on the calling thread (the scheduler's
// instance workers provide the parallelism).
Status RegisterTreeBackends(BackendRegistry& registry);

}  // namespace hotpath

#endif  // HOTPATH_RUNTIME_REPOSITORY_BACKEND_REGISTRY_H_
