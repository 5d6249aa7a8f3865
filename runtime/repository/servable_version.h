// ServableVersion: one loaded, warmed-up version of a model, as the server
// holds it while serving a request. Immutable once published.
//
// Ownership: the repository hands out `std::shared_ptr<const ServableVersion>`
// (ServableHandle). A version unloaded, replaced or evicted stays alive until
// the last handle is released, so swapping versions drops no in-flight
// request. While a handle other than the repository's own exists, the version
// counts as in flight and is never evicted.
#ifndef HOTPATH_RUNTIME_REPOSITORY_SERVABLE_VERSION_H_
#define HOTPATH_RUNTIME_REPOSITORY_SERVABLE_VERSION_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "runtime/model.h"
#include "runtime/repository/model_config.h"

namespace hotpath {

class ServableVersion {
 public:
  // REQUIRES: model and config non-null.
  ServableVersion(int64_t version, std::shared_ptr<const ModelConfig> config,
                  std::unique_ptr<const Model> model)
      : version_(version),
        config_(std::move(config)),
        model_(std::move(model)),
        memory_bytes_(model_->MemoryBytes()) {}
  ServableVersion(const ServableVersion&) = delete;
  ServableVersion& operator=(const ServableVersion&) = delete;

  const std::string& name() const { return config_->name; }
  int64_t version() const { return version_; }
  // The config this version was loaded with (batching options, signature,
  // output kind, fallback model).
  const ModelConfig& config() const { return *config_; }
  const std::shared_ptr<const ModelConfig>& shared_config() const { return config_; }
  // Thread-safe to Predict from any number of threads (the Model contract).
  const Model& model() const { return *model_; }
  // Model::MemoryBytes() at load, in bytes.
  size_t memory_bytes() const { return memory_bytes_; }

 private:
  const int64_t version_;
  const std::shared_ptr<const ModelConfig> config_;
  const std::unique_ptr<const Model> model_;
  const size_t memory_bytes_;
};

using ServableHandle = std::shared_ptr<const ServableVersion>;

// The handle's model as a shared_ptr that shares the handle's ownership
// (aliasing constructor), e.g. for sched/'s DynamicBatcher: while it lives the
// version is kept alive and counts as in flight. REQUIRES: handle non-null.
inline std::shared_ptr<const Model> SharedModel(const ServableHandle& handle) {
  return std::shared_ptr<const Model>(handle, &handle->model());
}

}  // namespace hotpath

#endif  // HOTPATH_RUNTIME_REPOSITORY_SERVABLE_VERSION_H_
