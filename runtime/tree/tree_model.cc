#include "runtime/tree/tree_model.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "runtime/tree/internal/ensemble.h"
#include "runtime/tree/internal/forest.h"
#include "runtime/tree/internal/treeshap.h"

namespace hotpath {

using tree_internal::Ensemble;
using tree_internal::Transform;

Result<std::unique_ptr<TreeModel>> TreeModel::Load(const std::string& path, const Options& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open model file '" + path + "'");
  std::stringstream buf;
  buf << in.rdbuf();
  return FromBytes(buf.str(), path, options);
}

Result<std::unique_ptr<TreeModel>> TreeModel::FromBytes(const std::string& bytes,
                                                        const std::string& name,
                                                        const Options& options) {
  Format format = options.format;
  if (format == Format::kAuto) {
    format = bytes.rfind("tree", 0) == 0 ? Format::kLightGBM : Format::kXGBoost;
  }
  Result<Ensemble> e = format == Format::kLightGBM ? tree_internal::ParseLightGBM(bytes)
                                                   : tree_internal::ParseXGBoost(bytes);
  if (!e.ok()) return Status(e.status().code(), name + ": " + e.status().message());
  return Build(std::move(e).value(), options);
}

Result<std::unique_ptr<TreeModel>> TreeModel::FromEnsemble(Ensemble ensemble,
                                                           const Options& options) {
  RETURN_IF_ERROR(tree_internal::Validate(ensemble));
  return Build(std::move(ensemble), options);
}

Result<std::unique_ptr<TreeModel>> TreeModel::Build(Ensemble e, const Options& options) {
  if (options.num_threads < 1) return InvalidArgumentError("num_threads must be >= 1");
  auto owned = std::make_unique<Ensemble>(std::move(e));
  return std::unique_ptr<TreeModel>(new TreeModel(std::move(owned), options));
}

TreeModel::TreeModel(std::unique_ptr<Ensemble> e, const Options& options)
    : ensemble_(std::move(e)),
      forest_(std::make_unique<tree_internal::Forest>(*ensemble_, options.allow_simd)),
      shap_(std::make_unique<tree_internal::TreeShap>(*ensemble_)),
      pool_(options.num_threads > 1 ? std::make_unique<ThreadPool>(options.num_threads) : nullptr),
      options_(options) {
  signature_.inputs.push_back({"input", DType::kFp32, {ensemble_->num_features}});
  signature_.outputs.push_back({"output", DType::kFp32, {OutputWidth(OutputKind::kValue)}});
}

TreeModel::~TreeModel() = default;

int64_t TreeModel::num_features() const { return ensemble_->num_features; }
int64_t TreeModel::num_groups() const { return ensemble_->num_groups; }
size_t TreeModel::num_trees() const { return ensemble_->trees.size(); }
const std::string& TreeModel::format_name() const { return ensemble_->format; }
const std::string& TreeModel::objective() const { return ensemble_->objective; }
const char* TreeModel::kernel_name() const { return forest_->kernel_name(); }

int64_t TreeModel::OutputWidth(OutputKind kind) const {
  switch (kind) {
    case OutputKind::kValue:
      return ensemble_->transform == Transform::kArgmax ? 1 : ensemble_->num_groups;
    case OutputKind::kMargin:
      return ensemble_->num_groups;
    case OutputKind::kContributions:
    case OutputKind::kApproxContributions:
      return ensemble_->num_groups * (static_cast<int64_t>(ensemble_->num_features) + 1);
  }
  return 0;
}

size_t TreeModel::MemoryBytes() const {
  size_t ir = 0;
  for (const auto& t : ensemble_->trees) ir += t.nodes.capacity() * sizeof(tree_internal::Node);
  return forest_->MemoryBytes() + ir + sizeof(*this);
}

// Applies the objective's transform to rows of margins (in place where the
// output width equals the margin width).
void TreeModel::ApplyTransform(float* m, size_t rows, float* out) const {
  const size_t groups = static_cast<size_t>(ensemble_->num_groups);
  const float scale = ensemble_->sigmoid_scale;
  switch (ensemble_->transform) {
    case Transform::kIdentity:
      break;
    case Transform::kSigmoid:
      for (size_t i = 0; i < rows * groups; ++i) out[i] = 1.0f / (1.0f + std::exp(-scale * m[i]));
      break;
    case Transform::kExp:
      for (size_t i = 0; i < rows * groups; ++i) out[i] = std::exp(m[i]);
      break;
    case Transform::kLog1pExp:
      for (size_t i = 0; i < rows * groups; ++i) out[i] = std::log1p(std::exp(m[i]));
      break;
    case Transform::kSoftmax:
      for (size_t r = 0; r < rows; ++r) {
        float* v = out + r * groups;
        float mx = v[0];
        for (size_t g = 1; g < groups; ++g) mx = std::fmax(mx, v[g]);
        double sum = 0.0;
        for (size_t g = 0; g < groups; ++g) {
          v[g] = std::exp(v[g] - mx);
          sum += v[g];
        }
        for (size_t g = 0; g < groups; ++g) v[g] /= static_cast<float>(sum);
      }
      break;
    case Transform::kArgmax:
      for (size_t r = 0; r < rows; ++r) {
        const float* v = m + r * groups;
        size_t best = 0;
        for (size_t g = 1; g < groups; ++g) {
          if (v[g] > v[best]) best = g;
        }
        out[r] = static_cast<float>(best);
      }
      break;
  }
}

Status TreeModel::Predict(const float* x, size_t rows, OutputKind kind, float* out) const {
  const size_t nf = static_cast<size_t>(ensemble_->num_features);
  const size_t width = static_cast<size_t>(OutputWidth(kind));
  const size_t groups = static_cast<size_t>(ensemble_->num_groups);
  auto run = [&](size_t begin, size_t end) {
    const float* xb = x + begin * nf;
    float* ob = out + begin * width;
    if (kind == OutputKind::kContributions || kind == OutputKind::kApproxContributions) {
      if (kind == OutputKind::kContributions) {
        shap_->Contributions(xb, end - begin, ob);
      } else {
        shap_->ApproxContributions(xb, end - begin, ob);
      }
      if (ensemble_->average_output) {
        const float per_group = static_cast<float>(ensemble_->trees.size() / groups);
        for (size_t i = 0; i < (end - begin) * width; ++i) ob[i] /= per_group;
      }
      return;
    }
    if (width == groups) {
      forest_->PredictMargins(xb, end - begin, ob);
      if (kind == OutputKind::kValue) ApplyTransform(ob, end - begin, ob);
      return;
    }
    // kArgmax: margins through a stack buffer, one block at a time (the
    // loader refuses argmax models with more than kMaxArgmaxClasses).
    float margins[tree_internal::kMaxArgmaxClasses];
    const size_t block = tree_internal::kMaxArgmaxClasses / groups;
    for (size_t r = begin; r < end; r += block) {
      const size_t n = std::min(block, end - r);
      forest_->PredictMargins(x + r * nf, n, margins);
      ApplyTransform(margins, n, out + r * width);
    }
  };
  const size_t threads = pool_ ? static_cast<size_t>(pool_->num_threads()) : 1;
  if (threads == 1 || rows < 2 * options_.min_rows_per_thread) {
    run(0, rows);
  } else {
    const size_t grain = std::max(options_.min_rows_per_thread, (rows + threads * 4 - 1) / (threads * 4));
    pool_->ParallelFor(rows, grain, run);
  }
  return OkStatus();
}

}  // namespace hotpath
