// RepositoryControl: the model-repository operations a front exposes
// (KServe v2 repository extension: index, load, unload). Implemented over the
// model repository by the server; optional for a front.
#ifndef HOTPATH_SERVE_REPOSITORY_CONTROL_H_
#define HOTPATH_SERVE_REPOSITORY_CONTROL_H_

#include <string>
#include <vector>

#include "core/status.h"

namespace hotpath {

struct RepositoryEntry {
  std::string name;
  std::string version;
  std::string state;   // "READY", "LOADING", "UNAVAILABLE"
  std::string reason;  // why not ready, empty when ready
};

class RepositoryControl {
 public:
  virtual ~RepositoryControl() = default;
  // Every model and version the repository knows. Thread-safe.
  virtual Result<std::vector<RepositoryEntry>> Index() const = 0;
  // Loads (or reloads) a model; returns once it is ready or failed: NOT_FOUND
  // when the repository has no such model, INVALID_ARGUMENT for a bad config
  // or artifact (the previous version keeps serving). Thread-safe.
  virtual Status Load(const std::string& model) = 0;
  // Unloads every version of a model; in-flight requests complete first.
  // NOT_FOUND when it is not loaded. Thread-safe.
  virtual Status Unload(const std::string& model) = 0;
};

}  // namespace hotpath

#endif  // HOTPATH_SERVE_REPOSITORY_CONTROL_H_
