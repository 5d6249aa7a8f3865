// DotModel: a small real Model for the batcher's tests and benchmark:
//   out[r][j] = bias[j] + sum_k w[j][k] * (x[r][k] - center[k])
// where center is the mean of `call_passes` reference vectors, computed on
// every Predict call as W * ref_p (one matrix-vector product per pass). Its
// cost is therefore c0 + c1 * rows with c0 = call_passes and c1 = 1
// matrix-vector products: a stand-in for a backend with a fixed per-call cost
// (dispatch, kernel launch). Weights come from a seeded generator; the
// accessors let tests compute expected outputs directly.
#ifndef HOTPATH_SCHED_TESTING_DOT_MODEL_H_
#define HOTPATH_SCHED_TESTING_DOT_MODEL_H_

#include <cstdint>
#include <random>
#include <vector>

#include "runtime/model.h"

namespace hotpath::testing {

class DotModel final : public Model {
 public:
  struct Options {
    int64_t features = 8;
    int64_t outputs = 2;
    int call_passes = 0;  // reference vectors averaged per call (the c0 term)
    uint32_t seed = 1;
  };

  explicit DotModel(const Options& o)
      : o_(o),
        weights_(static_cast<size_t>(o.outputs * o.features)),
        bias_(static_cast<size_t>(o.outputs)),
        refs_(static_cast<size_t>(o.call_passes * o.features)) {
    std::mt19937 gen(o.seed);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (float& w : weights_) w = u(gen);
    for (float& b : bias_) b = u(gen);
    for (float& r : refs_) r = u(gen);
    signature_.inputs.push_back({"x", DType::kFp32, {o.features}});
    signature_.outputs.push_back({"y", DType::kFp32, {o.outputs}});
  }

  const ModelSignature& signature() const override { return signature_; }
  int64_t num_features() const override { return o_.features; }
  int64_t OutputWidth(OutputKind) const override { return o_.outputs; }
  size_t MemoryBytes() const override {
    return (weights_.size() + bias_.size() + refs_.size()) * sizeof(float);
  }

  // kValue and kMargin give the same output; kContributions is UNIMPLEMENTED.
  Status Predict(const float* x, size_t rows, OutputKind kind, float* out) const override {
    if (kind == OutputKind::kContributions || kind == OutputKind::kApproxContributions) {
      return UnimplementedError("DotModel has no contributions");
    }
    const size_t f = static_cast<size_t>(o_.features);
    const size_t m = static_cast<size_t>(o_.outputs);
    // W * center, the per-call term: one product per reference vector.
    thread_local std::vector<float> shift;
    shift.assign(m, 0.0f);
    for (int p = 0; p < o_.call_passes; ++p) {
      const float* ref = &refs_[static_cast<size_t>(p) * f];
      for (size_t j = 0; j < m; ++j) shift[j] += Dot(&weights_[j * f], ref, f);
    }
    const float inv = o_.call_passes > 0 ? 1.0f / static_cast<float>(o_.call_passes) : 0.0f;
    for (size_t r = 0; r < rows; ++r) {
      for (size_t j = 0; j < m; ++j) {
        out[r * m + j] = bias_[j] + Dot(&weights_[j * f], &x[r * f], f) - shift[j] * inv;
      }
    }
    return OkStatus();
  }

  const std::vector<float>& weights() const { return weights_; }  // [outputs, features]
  const std::vector<float>& bias() const { return bias_; }        // [outputs]
  const std::vector<float>& refs() const { return refs_; }        // [call_passes, features]

 private:
  static float Dot(const float* a, const float* b, size_t n) {
    float s = 0.0f;
    for (size_t k = 0; k < n; ++k) s += a[k] * b[k];
    return s;
  }

  const Options o_;
  std::vector<float> weights_;
  std::vector<float> bias_;
  std::vector<float> refs_;
  ModelSignature signature_;
};

}  // namespace hotpath::testing

#endif  // HOTPATH_SCHED_TESTING_DOT_MODEL_H_
