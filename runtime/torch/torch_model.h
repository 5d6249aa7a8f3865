// TorchModel: serves a TorchScript module (torch.jit.save / Module::save)
// through LibTorch, the general backend for architectures the native dense
// engine does not cover. CPU only.
#ifndef HOTPATH_RUNTIME_TORCH_TORCH_MODEL_H_
#define HOTPATH_RUNTIME_TORCH_TORCH_MODEL_H_

#include <filesystem>
#include <memory>

#include "core/status.h"
#include "runtime/model.h"

namespace hotpath::torch_backend {

class TorchModel final : public Model {
 public:
  struct Options {
    // Width of the input rows; the module's forward takes one float tensor
    // [rows, num_features]. Required (> 0).
    int64_t num_features = 0;
    // LibTorch intra-op threads. Process-wide in LibTorch (at::set_num_threads):
    // the last model created sets it for all.
    int intra_op_threads = 1;
  };

  // Loads the module from a file or a version folder holding model.pt, and
  // runs one zero row to learn the output width. INVALID_ARGUMENT when the file
  // is not TorchScript or forward does not map [1, F] floats to [1, W] (or
  // [1]) floats; NOT_FOUND when there is no file.
  static Result<std::unique_ptr<TorchModel>> Create(const std::filesystem::path& path,
                                                    const Options& options);
  ~TorchModel() override;

  const ModelSignature& signature() const override { return signature_; }
  int64_t num_features() const override { return num_features_; }
  int64_t OutputWidth(OutputKind kind) const override;
  // kValue only (UNIMPLEMENTED otherwise); INTERNAL when forward throws or
  // returns a different shape. Thread-safe (TorchScript inference is
  // reentrant); runs under at::InferenceMode.
  Status Predict(const float* x, size_t rows, OutputKind kind, float* out) const override;
  size_t MemoryBytes() const override { return memory_bytes_; }

 private:
  struct Impl;
  TorchModel() = default;
  std::unique_ptr<Impl> impl_;
  ModelSignature signature_;
  int64_t num_features_ = 0;
  int64_t output_width_ = 0;
  size_t memory_bytes_ = 0;
};

}  // namespace hotpath::torch_backend

#endif  // HOTPATH_RUNTIME_TORCH_TORCH_MODEL_H_
