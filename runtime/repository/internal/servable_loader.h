// Turns one version folder into a ready ServableVersion: the backend loads
// the artifact, the config's declared signature is checked against the
// model, and the warm-up batches run. Nothing is published here.
#ifndef HOTPATH_RUNTIME_REPOSITORY_INTERNAL_SERVABLE_LOADER_H_
#define HOTPATH_RUNTIME_REPOSITORY_INTERNAL_SERVABLE_LOADER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "runtime/repository/backend_registry.h"
#include "runtime/repository/model_config.h"
#include "runtime/repository/servable_version.h"

namespace hotpath::repository_internal {

// Where a model's files are, for loading and for messages.
struct ModelPaths {
  std::string dir;          // "<repo>/<model>"
  std::string config_file;  // "<repo>/<model>/config.json"
};

// Loads version `version` of the model configured by `config`. Errors name
// the file at fault: the backend's (NOT_FOUND, INVALID_ARGUMENT), the config's
// key when the declared inputs/outputs do not match the model
// (INVALID_ARGUMENT), or the warm-up batch that failed.
Result<ServableHandle> LoadServable(const BackendRegistry& backends,
                                    std::shared_ptr<const ModelConfig> config,
                                    const ModelPaths& paths, int64_t version);

// OK when the declared inputs and outputs fit `model`: one FP32 input whose
// dims hold num_features() elements, one FP32 output whose dims hold
// OutputWidth(config.output_kind) elements (-1 dims allowed for outputs).
Status CheckSignature(const ModelConfig& config, const Model& model,
                      const std::string& config_file, const std::string& artifact_label);

}  // namespace hotpath::repository_internal

#endif  // HOTPATH_RUNTIME_REPOSITORY_INTERNAL_SERVABLE_LOADER_H_
