// TreeModel: scores gradient-boosted tree ensembles (XGBoost JSON/UBJSON,
// LightGBM text) with results identical to the training library's own
// predictor: margins, transformed outputs and TreeSHAP contributions.
#ifndef HOTPATH_RUNTIME_TREE_TREE_MODEL_H_
#define HOTPATH_RUNTIME_TREE_TREE_MODEL_H_

#include <memory>
#include <string>

#include "core/status.h"
#include "core/thread_pool.h"
#include "runtime/model.h"

namespace hotpath {

namespace tree_internal {
struct Ensemble;
class Forest;
class TreeShap;
}  // namespace tree_internal

class TreeModel final : public Model {
 public:
  enum class Format { kAuto, kXGBoost, kLightGBM };

  struct Options {
    // kAuto: LightGBM when the artifact starts with "tree", else XGBoost.
    Format format = Format::kAuto;
    // Threads used by one Predict call on large batches (1 = the caller only).
    int num_threads = 1;
    // Batches smaller than this many rows per thread run on the caller alone.
    size_t min_rows_per_thread = 256;
    // Use the AVX-512 kernels when the CPU and the model allow (results are
    // bit-identical either way; off is for measurement and tests).
    bool allow_simd = true;
  };

  // Loads and validates a model file. INVALID_ARGUMENT naming the file, tree
  // and node when the artifact is malformed; NOT_FOUND when it is missing.
  static Result<std::unique_ptr<TreeModel>> Load(const std::string& path, const Options& options);
  // Same, from the artifact's bytes (`name` is used in messages).
  static Result<std::unique_ptr<TreeModel>> FromBytes(const std::string& bytes,
                                                      const std::string& name,
                                                      const Options& options);
  // Builds a model from an ensemble another importer filled in (runtime/dense
  // imports ONNX TreeEnsembleRegressor/Classifier nodes this way). Validates
  // it first: INVALID_ARGUMENT naming the tree and node when it is malformed.
  static Result<std::unique_ptr<TreeModel>> FromEnsemble(tree_internal::Ensemble ensemble,
                                                         const Options& options);
  ~TreeModel() override;

  const ModelSignature& signature() const override { return signature_; }
  int64_t num_features() const override;
  int64_t OutputWidth(OutputKind kind) const override;
  // Thread-safe. kValue/kMargin allocate nothing; kContributions allocates a
  // small scratch path per call.
  Status Predict(const float* x, size_t rows, OutputKind kind, float* out) const override;
  size_t MemoryBytes() const override;

  // Model facts for reports: "xgboost"/"lightgbm"/"onnx", objective, trees, groups.
  const std::string& format_name() const;
  const std::string& objective() const;
  size_t num_trees() const;
  int64_t num_groups() const;
  // Kernel chosen at load, for reports: "avx512-binned8", "avx512-binned16",
  // "avx512" or "scalar".
  const char* kernel_name() const;

 private:
  TreeModel(std::unique_ptr<tree_internal::Ensemble> e, const Options& options);
  // Wraps a validated ensemble; INVALID_ARGUMENT for bad options.
  static Result<std::unique_ptr<TreeModel>> Build(tree_internal::Ensemble e,
                                                  const Options& options);
  void ApplyTransform(float* margins, size_t rows, float* out) const;

  std::unique_ptr<tree_internal::Ensemble> ensemble_;
  std::unique_ptr<tree_internal::Forest> forest_;
  std::unique_ptr<tree_internal::TreeShap> shap_;
  std::unique_ptr<ThreadPool> pool_;  // null when num_threads == 1
  Options options_;
  ModelSignature signature_;
};

}  // namespace hotpath

#endif  // HOTPATH_RUNTIME_TREE_TREE_MODEL_H_
