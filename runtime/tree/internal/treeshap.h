// Exact per-feature contributions (TreeSHAP, Lundberg et al. 2018,
// "Consistent Individualized Feature Attribution for Tree Ensembles",
// Algorithm 2), computed in float as XGBoost's pred_contribs does.
#ifndef HOTPATH_RUNTIME_TREE_INTERNAL_TREESHAP_H_
#define HOTPATH_RUNTIME_TREE_INTERNAL_TREESHAP_H_

#include <cstddef>
#include <vector>

#include "runtime/tree/internal/ensemble.h"

namespace hotpath::tree_internal {

class TreeShap {
 public:
  // Precomputes each node's cover-weighted mean value.
  explicit TreeShap(const Ensemble& e);

  // out: [rows, num_groups, num_features + 1]; the last column of each group
  // is the bias (expected value + base margin). Thread-safe; allocates a
  // small per-call path buffer.
  void Contributions(const float* x, size_t rows, float* out) const;

  // Path-based approximation (Saabas): along each tree's decision path, the
  // change of the node mean is credited to the split feature. Same layout.
  // XGBoost's approx_contribs. Thread-safe; no allocation.
  void ApproxContributions(const float* x, size_t rows, float* out) const;

  // Floats of scratch one call needs per row.
  size_t width() const;

 private:
  struct PathElement {
    int feature;
    float zero_fraction;
    float one_fraction;
    float weight;
  };
  void Recurse(const Tree& t, const float* row, float* phi, int node, int depth,
               PathElement* parent_path, float zero_fraction, float one_fraction,
               int feature) const;
  static void Extend(PathElement* path, int depth, float zero_fraction, float one_fraction,
                     int feature);
  static void Unwind(PathElement* path, int depth, int index);
  static float UnwoundSum(const PathElement* path, int depth, int index);
  // Zeroes each row's output, calls per_tree(tree, row, out_of_its_group)
  // for every tree in order, then adds the base margin to the bias column.
  template <typename PerTree>
  void ForEachRowAndTree(const float* x, size_t rows, float* out, PerTree&& per_tree) const;

  const Ensemble& e_;
  std::vector<std::vector<float>> mean_;  // [tree][node]
  int max_depth_ = 0;
};

}  // namespace hotpath::tree_internal

#endif  // HOTPATH_RUNTIME_TREE_INTERNAL_TREESHAP_H_
