// SimdForest: AVX-512 kernels for ensembles of shallow numeric trees (every
// tree padded to one depth D <= kMaxSimdDepth), the common shape of served
// XGBoost models (max_depth 6 is XGBoost's default).
//
//  - AddBlock: 16 rows at once, one row per lane. Each tree's nodes of one
//    level fit in one or two registers, so a node's threshold and feature are
//    register permutes; only the feature value is a gather.
//  - AddRow: one row, 16 trees at once, one tree per lane, from a copy of the
//    trees interleaved by 16 so each level is a gather.
// Leaves are added to the float accumulators in tree order, so sums are
// bit-identical to the scalar kernels (and to XGBoost).
#ifndef HOTPATH_RUNTIME_TREE_INTERNAL_SIMD_FOREST_H_
#define HOTPATH_RUNTIME_TREE_INTERNAL_SIMD_FOREST_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/tree/internal/ensemble.h"

namespace hotpath::tree_internal {

inline constexpr int kMaxSimdDepth = 6;
inline constexpr size_t kSimdLanes = 16;

// The depth of `e`'s deepest tree when `e` has trees, sums in float without
// averaging, and every tree has only numeric NaN-missing splits and depth
// <= max_depth (the shape the AVX-512 kernels take); -1 otherwise.
int ShallowNumericDepth(const Ensemble& e, int max_depth);

class SimdForest {
 public:
  // Null unless this CPU has AVX-512 (F, DQ) and every tree of `e` has only
  // numeric NaN-missing splits and depth <= kMaxSimdDepth, and `e` sums in float.
  static std::unique_ptr<SimdForest> Create(const Ensemble& e);

  // acc[r * groups + g] += leaves of the V * 16 rows x[r * num_features ...].
  // V is 1 or 4.
  template <int V> void AddBlocks(const float* x, float* acc) const;
  // acc[g] += leaves of the single row x.
  void AddRow(const float* x, float* acc) const;

  size_t MemoryBytes() const;

 private:
  SimdForest() = default;
  template <int D, int V> void AddBlocksD(const float* x, float* acc) const;
  template <int R> void AddRowR(const float* x, float* acc) const;
  template <int D, int R> void AddRowD(const float* x, float* acc) const;

  int depth_ = 0;
  int32_t num_features_ = 0;
  int32_t num_groups_ = 1;
  size_t num_trees_ = 0;
  std::vector<int32_t> group_;  // [tree]
  // Per tree, breadth-first over the padded tree: [tree][2^D - 1] and [tree][2^D].
  std::vector<float> thr_;
  std::vector<uint32_t> feat_;  // feature | 0x80000000 when NaN goes right
  std::vector<float> leaf_;
  // The same, interleaved by 16 trees: [tree / 16][node][tree % 16].
  std::vector<float> ithr_;
  std::vector<uint32_t> ifeat_;
  std::vector<float> ileaf_;
  std::vector<uint64_t> ipair_;  // threshold bits | feature << 32
  // Level 2 again, tree-major per 16-tree block ([block][tree][4]), read with
  // register permutes instead of gathers.
  std::vector<float> l2thr_;
  std::vector<uint32_t> l2feat_;
};

}  // namespace hotpath::tree_internal

#endif  // HOTPATH_RUNTIME_TREE_INTERNAL_SIMD_FOREST_H_
