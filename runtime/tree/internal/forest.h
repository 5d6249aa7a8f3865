// Forest: the compiled, immutable form of an Ensemble that predictions run on.
//
// Each tree is compiled to one of two encodings, chosen per tree by what it
// needs (measured in bench/trees):
//  - perfect: numeric splits only and depth <= kMaxPerfectDepth. The tree is
//    padded to a complete binary tree (a shallow leaf is replicated into both
//    subtrees), so traversal is D branch-free steps idx = 2*idx + 1 + right.
//  - general: any depth, categorical splits, LightGBM zero-as-missing; nodes
//    in breadth-first order with siblings adjacent (right = left + 1).
// Margins are summed per row in tree order starting from the base margin, in
// float (XGBoost's order and precision) or double (LightGBM's).
// On AVX-512 CPUs the whole ensemble runs instead on the first of these that
// takes it, picked at load: BinnedForest (binned_forest.h), SimdForest
// (simd_forest.h).
#ifndef HOTPATH_RUNTIME_TREE_INTERNAL_FOREST_H_
#define HOTPATH_RUNTIME_TREE_INTERNAL_FOREST_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/tree/internal/binned_forest.h"
#include "runtime/tree/internal/ensemble.h"
#include "runtime/tree/internal/simd_forest.h"

namespace hotpath::tree_internal {

inline constexpr int kMaxPerfectDepth = 8;
inline constexpr uint32_t kNanRightBit = 0x80000000u;  // PerfectNode.feature flag

struct PerfectNode {
  float threshold;   // right iff x >= threshold (or x is NaN and kNanRightBit)
  uint32_t feature;  // feature index | kNanRightBit when NaN goes right
};

struct GeneralNode {
  enum Flags : uint32_t {
    kLeaf = 1,
    kNanRight = 2,
    kCategorical = 4,     // threshold holds the category-set index (as bits)
    kZeroIsMissing = 8,
    kInSetGoesLeft = 16,
  };
  float threshold;  // leaf: the leaf value
  uint32_t feature;
  int32_t left;     // right child is left + 1
  uint32_t flags;
};

// Whether category value `x` (not NaN) is in the set's bitset. A value that
// is not a valid category (>= 2^24, beyond the set, or negative) is not in
// the set. `truncate` gives LightGBM's reading, where x is truncated to an
// int first (so -0.5 is category 0); XGBoost refuses any x < 0.
inline bool InCategorySet(const uint32_t* bits, uint32_t words, float x, bool truncate) {
  if (!(truncate ? x > -1.0f : x >= 0.0f) || x >= 16777216.0f) return false;
  const uint32_t c = static_cast<uint32_t>(static_cast<int32_t>(x));
  return c / 32 < words && ((bits[c / 32] >> (c % 32)) & 1u);
}

// Lays tree `t` (numeric splits only, depth <= `depth`) out as a complete
// binary tree of that depth, breadth-first: thr/feat [2^depth - 1] (a shallow
// leaf is replicated into both subtrees, so its padded nodes may split
// anywhere: thr 0, feature 0), leaf [2^depth]. feat carries kNanRightBit.
void PadTree(const Tree& t, int depth, float* thr, uint32_t* feat, float* leaf);

// True when `x` goes right at an IR node. Shared by the general kernel's
// semantics and TreeSHAP so both take the same path.
bool GoesRight(const Ensemble& e, const Node& node, float x);

class Forest {
 public:
  // `allow_simd`: use the AVX-512 kernels where the CPU and model allow.
  Forest(const Ensemble& e, bool allow_simd);
  ~Forest();

  int32_t num_features() const { return num_features_; }
  int32_t num_groups() const { return num_groups_; }
  size_t num_trees() const { return trees_.size(); }
  size_t MemoryBytes() const;
  // Trees compiled to the perfect encoding (for reports and tests).
  size_t num_perfect_trees() const;
  // The kernel picked at load: "avx512-binned8" or "avx512-binned16"
  // (BinnedForest with 8- or 16-bit bins, every batch size), "avx512"
  // (SimdForest) or "scalar".
  const char* kernel_name() const;

  // out[r * num_groups + g] = margin of row r, group g.
  // x: [rows, num_features] row-major. No allocation.
  void PredictMargins(const float* x, size_t rows, float* out) const;

 private:
  struct TreeRef {
    uint32_t nodes;   // offset into perfect_ or general_
    uint32_t leaves;  // offset into leaves_ (perfect trees)
    int32_t group;
    uint8_t depth;    // perfect depth, or 0xff for a general tree
  };
  static constexpr uint8_t kGeneral = 0xff;

  void CompilePerfect(const Tree& t, int depth);
  void CompileGeneral(const Tree& t);
  template <typename Acc>
  void PredictBlock(const float* x, size_t rows, Acc* acc) const;
  float GeneralLeaf(const TreeRef& t, const float* row) const;

  void PredictSimd(const float* x, size_t rows, float* out) const;

  int32_t num_features_;
  int32_t num_groups_;
  bool accumulate_double_;
  bool average_output_;
  std::vector<float> base_margin_;
  std::vector<TreeRef> trees_;
  std::vector<PerfectNode> perfect_;
  std::vector<float> leaves_;
  std::vector<GeneralNode> general_;
  std::vector<uint32_t> category_bits_;   // all sets, concatenated
  std::vector<uint32_t> category_begin_;  // set s is [begin[s], begin[s+1])
  // At most one of these is set; neither: the scalar kernels.
  std::unique_ptr<BinnedForest> binned_;
  std::unique_ptr<SimdForest> simd_;
};

}  // namespace hotpath::tree_internal

#endif  // HOTPATH_RUNTIME_TREE_INTERNAL_FOREST_H_
