#include "runtime/repository/internal/servable_loader.h"

#include "runtime/repository/internal/warmup.h"

namespace hotpath::repository_internal {
namespace {

std::string DimsString(const Shape& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

// Elements of `dims`, or -1 when a dimension is variable.
int64_t FixedElements(const Shape& dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) return -1;
    n *= d;
  }
  return n;
}

Status CheckTensor(const TensorConfig& t, const std::string& key, int64_t want, bool allow_variable,
                   const std::string& config_file, const std::string& what) {
  auto error = [&](const std::string& field, const std::string& reason) {
    return InvalidArgumentError(config_file + ": " + key + "." + field + ": " + reason);
  };
  if (t.dtype != DType::kFp32) {
    return error("datatype", what + " is FP32, declared " + std::string(DTypeName(t.dtype)));
  }
  int64_t n = FixedElements(t.dims);
  if ((n < 0 && !allow_variable) || (n >= 0 && n != want)) {
    return error("dims", DimsString(t.dims) + " does not match " + what + " of " +
                             std::to_string(want) + " values per row");
  }
  return OkStatus();
}

}  // namespace

Status CheckSignature(const ModelConfig& config, const Model& model,
                      const std::string& config_file, const std::string& artifact_label) {
  if (config.inputs.size() != 1) {
    return InvalidArgumentError(config_file + ": inputs: declares " +
                                std::to_string(config.inputs.size()) + " inputs, " +
                                artifact_label + " takes 1");
  }
  if (config.outputs.size() != 1) {
    return InvalidArgumentError(config_file + ": outputs: declares " +
                                std::to_string(config.outputs.size()) + " outputs, " +
                                artifact_label + " produces 1");
  }
  RETURN_IF_ERROR(CheckTensor(config.inputs[0], "inputs[0]", model.num_features(),
                              /*allow_variable=*/false, config_file,
                              "the input of " + artifact_label));
  return CheckTensor(config.outputs[0], "outputs[0]", model.OutputWidth(config.output_kind),
                     /*allow_variable=*/true, config_file,
                     "the " + std::string(OutputKindName(config.output_kind)) + " output of " +
                         artifact_label);
}

Result<ServableHandle> LoadServable(const BackendRegistry& backends,
                                    std::shared_ptr<const ModelConfig> config,
                                    const ModelPaths& paths, int64_t version) {
  const std::string version_dir = paths.dir + "/" + std::to_string(version);
  ASSIGN_OR_RETURN(const BackendFactory* factory, backends.Find(config->backend));
  ASSIGN_OR_RETURN(std::unique_ptr<Model> model,
                   (*factory)(BackendLoadRequest{*config, version_dir}));
  RETURN_IF_ERROR(CheckSignature(*config, *model, paths.config_file, version_dir));
  ASSIGN_OR_RETURN(std::vector<float> rows,
                   WarmupRows(config->warmup, paths.dir, model->num_features()));
  RETURN_IF_ERROR(RunWarmup(*model, config->warmup, config->output_kind, rows, version_dir));
  return std::make_shared<const ServableVersion>(version, std::move(config), std::move(model));
}

}  // namespace hotpath::repository_internal
