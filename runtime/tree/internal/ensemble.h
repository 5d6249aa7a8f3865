// The loader-neutral description of a tree ensemble: what the XGBoost and
// LightGBM parsers and runtime/dense's ONNX TreeEnsemble import produce (the
// tree engine's builder interface, handed to TreeModel::FromEnsemble), what
// Validate() checks, and what the prediction layouts are compiled from. Not
// used on the hot path.
#ifndef HOTPATH_RUNTIME_TREE_INTERNAL_ENSEMBLE_H_
#define HOTPATH_RUNTIME_TREE_INTERNAL_ENSEMBLE_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/status.h"

namespace hotpath::tree_internal {

// How margins become outputs.
enum class Transform : uint8_t {
  kIdentity,     // regression, ranking
  kSigmoid,      // binary / logistic: 1 / (1 + exp(-scale * m)), per group
  kExp,          // poisson, gamma, tweedie
  kSoftmax,      // multi-class probabilities
  kArgmax,       // multi-class label (XGBoost multi:softmax), one output
  kLog1pExp,     // LightGBM cross_entropy_lambda
};

// Largest class count of a model whose output is the argmax class.
inline constexpr size_t kMaxArgmaxClasses = 1024;

struct Node {
  // Children; both -1 for a leaf.
  int32_t left = -1;
  int32_t right = -1;
  uint32_t feature = 0;
  // Numeric split: a row goes left iff x < threshold (LightGBM's `<=` in
  // double is converted to this form exactly at load).
  float threshold = 0.0f;
  float leaf_value = 0.0f;  // leaves only
  float cover = 0.0f;       // hessian sum / data count, for TreeSHAP
  bool default_left = false;  // where NaN goes
  // LightGBM missing type Zero: |x| <= 1e-35 also goes the default way.
  bool zero_is_missing = false;
  // Categorical split: index into Ensemble::category_sets, else -1.
  int32_t category_set = -1;
  // Whether a category in the set goes left (LightGBM, which also truncates
  // the value to an int first) or right (XGBoost).
  bool in_set_goes_left = false;

  bool is_leaf() const { return left < 0; }
};

struct Tree {
  std::vector<Node> nodes;  // nodes[0] is the root
  int32_t group = 0;        // output group (class) the tree adds to
};

struct Ensemble {
  std::string format;     // "xgboost" or "lightgbm", for messages
  std::string objective;  // as written in the artifact
  Transform transform = Transform::kIdentity;
  float sigmoid_scale = 1.0f;
  int32_t num_features = 0;
  int32_t num_groups = 1;
  // Initial margin per group, added before the first tree.
  std::vector<float> base_margin;
  std::vector<Tree> trees;
  // Bitsets of categories: bit c of set s is (sets[s][c / 32] >> (c % 32)) & 1.
  std::vector<std::vector<uint32_t>> category_sets;
  // LightGBM sums leaf values in double; XGBoost in float, in tree order.
  bool accumulate_double = false;
  // LightGBM random-forest mode: the sum is divided by trees per group.
  bool average_output = false;
};

// Checks structural soundness: children in range, every node reachable once
// from the root (no cycles, no sharing), features < num_features, finite
// thresholds and leaf values, category sets in range, groups in range.
// INVALID_ARGUMENT naming the tree and node otherwise.
Status Validate(const Ensemble& e);

// Parses an XGBoost model saved as JSON (or UBJSON when `text` starts with
// '{' followed by a UBJSON marker). INVALID_ARGUMENT naming the field otherwise.
Result<Ensemble> ParseXGBoost(const std::string& bytes);

// Parses a LightGBM text model. INVALID_ARGUMENT naming the tree and key.
Result<Ensemble> ParseLightGBM(const std::string& text);

// Maximum depth of a tree (a single leaf has depth 0).
int TreeDepth(const Tree& t);

// The float t such that, for every float x, (x < t) == ((double)x <= d): how
// a `<=` split against a double threshold becomes the engine's `x < t`.
// REQUIRES: d is not NaN and d < +inf (no float t makes +inf < t).
inline float LessThanBound(double d) {
  constexpr float kMax = std::numeric_limits<float>::max();
  if (d > kMax) return std::numeric_limits<float>::infinity();  // every finite x
  if (d < -kMax) return -kMax;                                  // only x = -inf
  float f = static_cast<float>(d);
  if (static_cast<double>(f) > d) f = std::nextafter(f, -std::numeric_limits<float>::infinity());
  return std::nextafter(f, std::numeric_limits<float>::infinity());
}

}  // namespace hotpath::tree_internal

#endif  // HOTPATH_RUNTIME_TREE_INTERNAL_ENSEMBLE_H_
