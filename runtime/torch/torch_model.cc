#include "runtime/torch/torch_model.h"

#include <ATen/Parallel.h>
#include <torch/script.h>

#include <cstring>

namespace hotpath::torch_backend {

struct TorchModel::Impl {
  mutable torch::jit::Module module;  // forward is non-const but reentrant
};

namespace {

// Runs forward on x [rows, features]; the output as a contiguous 2-D tensor.
Result<at::Tensor> Forward(torch::jit::Module& module, const float* x, int64_t rows,
                           int64_t features) {
  try {
    c10::InferenceMode guard;
    at::Tensor in = torch::from_blob(const_cast<float*>(x), {rows, features}, torch::kFloat32);
    at::Tensor out = module.forward({in}).toTensor().to(torch::kFloat32).contiguous();
    if (out.dim() == 1) out = out.unsqueeze(1);
    if (out.dim() != 2 || out.size(0) != rows) {
      return InvalidArgumentError("TorchScript forward returned shape " +
                                  std::string(c10::str(out.sizes())) + " for " +
                                  std::to_string(rows) + " rows");
    }
    return out;
  } catch (const std::exception& e) {
    return InternalError(std::string("TorchScript forward failed: ") + e.what());
  }
}

std::filesystem::path ResolveFile(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec) ? path / "model.pt" : path;
}

}  // namespace

TorchModel::~TorchModel() = default;

Result<std::unique_ptr<TorchModel>> TorchModel::Create(const std::filesystem::path& path,
                                                       const Options& options) {
  if (options.num_features <= 0 || options.intra_op_threads < 1) {
    return InvalidArgumentError("TorchModel needs num_features > 0 and intra_op_threads >= 1");
  }
  const std::filesystem::path file = ResolveFile(path);
  std::error_code ec;
  if (!std::filesystem::exists(file, ec))
    return NotFoundError("no TorchScript file " + file.string());
  std::unique_ptr<TorchModel> m(new TorchModel());
  m->impl_ = std::make_unique<Impl>();
  try {
    m->impl_->module = torch::jit::load(file.string(), torch::kCPU);
    m->impl_->module.eval();
  } catch (const std::exception& e) {
    return InvalidArgumentError(file.string() + ": not a loadable TorchScript module: " +
                                std::string(e.what()).substr(0, 300));
  }
  at::set_num_threads(options.intra_op_threads);
  m->num_features_ = options.num_features;
  const std::vector<float> zero(options.num_features, 0.0f);
  Result<at::Tensor> probe = Forward(m->impl_->module, zero.data(), 1, options.num_features);
  if (!probe.ok()) return InvalidArgumentError(file.string() + ": " + probe.status().message());
  m->output_width_ = probe->size(1);
  for (const auto& p : m->impl_->module.parameters()) m->memory_bytes_ += p.nbytes();
  for (const auto& b : m->impl_->module.buffers()) m->memory_bytes_ += b.nbytes();
  m->signature_.inputs = {{"input", DType::kFp32, {options.num_features}}};
  m->signature_.outputs = {{"output", DType::kFp32, {m->output_width_}}};
  return m;
}

int64_t TorchModel::OutputWidth(OutputKind kind) const {
  return kind == OutputKind::kValue ? output_width_ : 0;
}

Status TorchModel::Predict(const float* x, size_t rows, OutputKind kind, float* out) const {
  if (kind != OutputKind::kValue)
    return UnimplementedError("TorchScript models produce values only");
  ASSIGN_OR_RETURN(const at::Tensor y,
                   Forward(impl_->module, x, static_cast<int64_t>(rows), num_features_));
  if (y.size(1) != output_width_) {
    return InternalError("TorchScript forward changed its output width to " +
                         std::to_string(y.size(1)));
  }
  std::memcpy(out, y.data_ptr<float>(), sizeof(float) * rows * output_width_);
  return OkStatus();
}

}  // namespace hotpath::torch_backend
