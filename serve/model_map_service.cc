#include "serve/model_map_service.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <string>
#include <utility>

namespace hotpath {
namespace {

bool IsName(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

bool IsVersion(std::string_view s) {
  return !s.empty() && s.size() < 19 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string ShapeString(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    s += (i ? "," : "") + std::to_string(shape[i]);
  }
  return s + "]";
}

Status ValidateEntry(const ModelMapService::Entry& e, size_t index) {
  const std::string where = "models[" + std::to_string(index) + "]";
  if (!IsName(e.name)) {
    return InvalidArgumentError(where + ".name: '" + e.name + "' is not [A-Za-z0-9_.-]+");
  }
  if (!IsVersion(e.version)) {
    return InvalidArgumentError(where + ".version: '" + e.version + "' is not a number");
  }
  if (e.model == nullptr) {
    return InvalidArgumentError(where + ".model: null");
  }
  if (e.max_batch_size < 1) {
    return InvalidArgumentError(where + ".max_batch_size: must be >= 1");
  }
  const ModelSignature& sig = e.model->signature();
  if (sig.inputs.size() != 1 || sig.outputs.empty()) {
    return InvalidArgumentError(where + ".model: needs exactly one input and at least one output");
  }
  return OkStatus();
}

bool VersionLess(const ModelMapService::Entry& a, const ModelMapService::Entry& b) {
  if (a.version.size() != b.version.size()) {
    return a.version.size() < b.version.size();
  }
  return a.version < b.version;
}

// The request's input against the model's one FP32 [batch, features] input.
Status ValidateInput(const ModelMapService::Entry& e, const InferRequest& request) {
  const TensorSpec& spec = e.model->signature().inputs[0];
  if (request.inputs.size() != 1) {
    return InvalidArgumentError("inputs: model '" + e.name + "' takes 1 input, got " +
                                std::to_string(request.inputs.size()));
  }
  const InferTensor& in = request.inputs[0];
  if (in.name != spec.name) {
    return InvalidArgumentError("inputs[0].name: model '" + e.name + "' has no input '" + in.name +
                                "' (its input is '" + spec.name + "')");
  }
  if (in.dtype != spec.dtype) {
    return InvalidArgumentError("inputs[0].datatype: input '" + spec.name + "' of model '" +
                                e.name + "' is " + std::string(DTypeName(spec.dtype)) + ", got " +
                                std::string(DTypeName(in.dtype)));
  }
  const int64_t features = e.model->num_features();
  if (in.shape.size() != 2 || in.shape[1] != features) {
    return InvalidArgumentError("inputs[0].shape: model '" + e.name + "' expects [batch, " +
                                std::to_string(features) + "], got " + ShapeString(in.shape));
  }
  if (in.shape[0] < 1 || in.shape[0] > e.max_batch_size) {
    return InvalidArgumentError("inputs[0].shape[0]: batch " + std::to_string(in.shape[0]) +
                                " is outside [1, " + std::to_string(e.max_batch_size) +
                                "] for model '" + e.name + "'");
  }
  if (!e.allow_nan) {
    const float* x = in.as<float>();
    const int64_t n = in.shape[0] * features;
    for (int64_t i = 0; i < n; ++i) {
      if (std::isnan(x[i])) {
        return InvalidArgumentError("inputs[0].data[" + std::to_string(i) +
                                    "]: NaN is not allowed by model '" + e.name + "'");
      }
    }
  }
  return OkStatus();
}

Status ValidateOutputs(const ModelMapService::Entry& e, const InferRequest& request) {
  const std::string& served = e.model->signature().outputs[0].name;
  for (size_t i = 0; i < request.requested_outputs.size(); ++i) {
    if (request.requested_outputs[i] != served) {
      return InvalidArgumentError("outputs[" + std::to_string(i) + "].name: model '" + e.name +
                                  "' has no output '" + request.requested_outputs[i] + "'");
    }
  }
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<ModelMapService>> ModelMapService::Create(const Options& options) {
  if (options.models.empty()) {
    return InvalidArgumentError("models: at least one model is required");
  }
  for (size_t i = 0; i < options.models.size(); ++i) {
    RETURN_IF_ERROR(ValidateEntry(options.models[i], i));
    for (size_t j = 0; j < i; ++j) {
      if (options.models[j].name == options.models[i].name &&
          options.models[j].version == options.models[i].version) {
        return InvalidArgumentError("models[" + std::to_string(i) + "]: duplicate model '" +
                                    options.models[i].name + "' version " +
                                    options.models[i].version);
      }
    }
  }
  return std::unique_ptr<ModelMapService>(new ModelMapService(options));
}

ModelMapService::ModelMapService(Options options) : options_(std::move(options)) {
  for (const Entry& e : options_.models) {
    models_[e.name].push_back(e);
  }
  for (auto& [name, versions] : models_) {
    std::sort(versions.begin(), versions.end(), VersionLess);
  }
}

ServerMetadata ModelMapService::GetServerMetadata() const {
  return {options_.server_name, options_.server_version, {"binary_tensor_data"}};
}

Result<const ModelMapService::Entry*> ModelMapService::Find(std::string_view name,
                                                            std::string_view version) const {
  auto it = models_.find(name);
  if (it == models_.end()) {
    return NotFoundError("unknown model '" + std::string(name) + "'");
  }
  if (version.empty()) {
    return &it->second.back();
  }
  for (const Entry& e : it->second) {
    if (e.version == version) {
      return &e;
    }
  }
  return NotFoundError("model '" + std::string(name) + "' has no version '" + std::string(version) +
                       "'");
}

Result<bool> ModelMapService::ModelReady(std::string_view name, std::string_view version) const {
  ASSIGN_OR_RETURN(const Entry* e, Find(name, version));
  (void)e;
  return true;
}

Result<ModelMetadata> ModelMapService::GetModelMetadata(std::string_view name,
                                                        std::string_view version) const {
  ASSIGN_OR_RETURN(const Entry* e, Find(name, version));
  ModelMetadata m;
  m.name = e->name;
  if (version.empty()) {
    for (const Entry& v : models_.find(name)->second) {
      m.versions.push_back(v.version);
    }
  } else {
    m.versions.push_back(e->version);
  }
  m.platform = e->platform;
  auto with_batch = [](TensorSpec spec) {
    spec.shape.insert(spec.shape.begin(), -1);
    return spec;
  };
  for (const TensorSpec& s : e->model->signature().inputs) {
    m.inputs.push_back(with_batch(s));
  }
  m.outputs.push_back(with_batch(e->model->signature().outputs[0]));
  return m;
}

void ModelMapService::Infer(const InferRequest& request, InferResponse* response, InferDone done) {
  Result<const Entry*> entry = Find(request.model_name, request.model_version);
  if (!entry.ok()) {
    return done(entry.status());
  }
  done(Run(**entry, request, response));
}

Status ModelMapService::Run(const Entry& e, const InferRequest& request,
                            InferResponse* response) const {
  RETURN_IF_ERROR(ValidateInput(e, request));
  RETURN_IF_ERROR(ValidateOutputs(e, request));
  const int64_t rows = request.inputs[0].shape[0];
  const int64_t width = e.model->OutputWidth(OutputKind::kValue);
  response->model_name = e.name;
  response->model_version = e.version;
  response->outputs.resize(1);
  InferTensor& out = response->outputs[0];
  out.name = e.model->signature().outputs[0].name;
  out.dtype = DType::kFp32;
  out.shape.assign({rows, width});
  out.data.resize(static_cast<size_t>(rows * width) * sizeof(float));
  const auto t0 = std::chrono::steady_clock::now();
  Status st = e.model->Predict(request.inputs[0].as<float>(), static_cast<size_t>(rows),
                               OutputKind::kValue, out.as<float>());
  response->compute_time = std::chrono::steady_clock::now() - t0;
  return st;
}

}  // namespace hotpath
