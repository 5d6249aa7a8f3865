// Model: the interface every inference backend implements (tree ensembles,
// dense networks, TorchScript, ...). The backend is chosen by the model's
// config in the repository, never by `if` chains at call sites.
#ifndef HOTPATH_RUNTIME_MODEL_H_
#define HOTPATH_RUNTIME_MODEL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"

namespace hotpath {

// One named input or output of a model. Shapes exclude the batch dimension;
// -1 marks a variable dimension.
struct TensorSpec {
  std::string name;
  DType dtype = DType::kFp32;
  Shape shape;
};

// What a model consumes and produces, as served over KServe v2 metadata.
struct ModelSignature {
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
};

// Which result Predict produces.
enum class OutputKind : uint8_t {
  kValue,          // transformed output: probabilities, regression value, ...
  kMargin,         // raw score before the objective's transform
  kContributions,  // per-feature contributions (SHAP), last column is the bias
  // Path-based approximate contributions (Saabas; XGBoost's approx_contribs):
  // same layout as kContributions, O(depth) per tree instead of O(leaves·depth²).
  kApproxContributions,
};

class Model {
 public:
  virtual ~Model() = default;

  virtual const ModelSignature& signature() const = 0;

  // Number of input features per row (the width of the input tensor).
  virtual int64_t num_features() const = 0;

  // Width of one output row for `kind` (e.g. classes, or groups*(features+1)).
  virtual int64_t OutputWidth(OutputKind kind) const = 0;

  // Scores `rows` rows. `x` is [rows, num_features()] row-major, NaN = missing;
  // `out` is [rows, OutputWidth(kind)] and is fully overwritten.
  // REQUIRES: the buffers have those sizes (validated at the boundary).
  // Thread-safe: any number of threads may call Predict concurrently.
  // Returns UNIMPLEMENTED when the backend cannot produce `kind`.
  virtual Status Predict(const float* x, size_t rows, OutputKind kind, float* out) const = 0;

  // Bytes of memory the loaded model holds (for the repository's budget).
  virtual size_t MemoryBytes() const = 0;
};

}  // namespace hotpath

#endif  // HOTPATH_RUNTIME_MODEL_H_
