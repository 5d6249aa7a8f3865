// BinnedForest: the AVX-512 VBMI kernel for ensembles of shallow numeric
// trees over few features (the common shape of served XGBoost models), for
// every batch size.
//
// At load each feature's distinct split thresholds are sorted (its "cuts"),
// and every node's threshold becomes its index j in that list, so the node
// test x < cuts[j] is bin(x) <= j exactly, where bin(x) = the number of cuts
// <= x (a 16-ary search per feature per row). When no feature has more than
// kMaxByteCuts cuts, the bins of a row's features (<= kMaxBinnedFeatures)
// are one 64-byte register, and per tree one byte permute (vpermb) by the
// tree's 64 feature bytes and one compare against its 64 bin bytes give all
// 63 node outcomes of the tree padded to depth 6 as a 64-bit mask; with more
// cuts the bins are 16-bit and the same takes two word permutes and two
// compares. Two 7-bit table lookups on the mask give the leaf. Trees are
// independent, so the out-of-order core overlaps them; only the float sum
// (in tree order, as XGBoost adds) is a dependent chain. NaN takes the
// node's default child. Batches run kRowsPerPass rows per pass over the trees.
#ifndef HOTPATH_RUNTIME_TREE_INTERNAL_BINNED_FOREST_H_
#define HOTPATH_RUNTIME_TREE_INTERNAL_BINNED_FOREST_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/tree/internal/ensemble.h"

namespace hotpath::tree_internal {

inline constexpr int kMaxBinnedFeatures = 64;  // one byte (word) lane per feature
inline constexpr int kMaxByteCuts = 255;       // cuts per feature for 8-bit bins (0..255)
inline constexpr int kMaxBinnedCuts = 65535;   // cuts per feature for 16-bit bins
inline constexpr int kBinnedDepth = 6;         // every tree is padded to this depth

class BinnedForest {
 public:
  // Null unless this CPU has AVX-512 (F, BW, VBMI), `e` sums in float
  // without averaging, has at most kMaxBinnedFeatures features, every tree
  // has only numeric NaN-missing splits and depth <= kBinnedDepth, and no
  // feature has more than kMaxBinnedCuts distinct thresholds.
  static std::unique_ptr<BinnedForest> Create(const Ensemble& e);

  // acc[r * num_groups + g] += leaves of row r of x [rows, num_features],
  // tree by tree in the ensemble's order (so the float sums are bit-identical
  // to XGBoost's). No allocation; thread-safe.
  void AddRows(const float* x, size_t rows, float* acc) const;

  // Whether bins are 16-bit (some feature has more than kMaxByteCuts cuts).
  bool wide() const { return wide_; }
  size_t MemoryBytes() const;

 private:
  // Trees' codes are 64-byte blocks: per tree, the 64 nodes' feature indices,
  // then their bins (node k goes right iff bin(x) > bin[k]), as bytes (one
  // block each) or little-endian words (two blocks each). Node k is in the
  // kernel's order: the top three levels (7 nodes, breadth-first), then the
  // eight three-level subtrees below them, 7 nodes each, left to right;
  // slot 63 is unused.
  struct alignas(64) Block {
    uint8_t bytes[64];
  };
  // A feature's 16-ary search: level l's entries start at search_[level[l]].
  struct Search {
    uint32_t level[4];
  };

  // Rows scored together in one pass over the trees: each tree's code is
  // loaded once for all of them (batch 1024: 8 rows 1.7 M rows/s, 4 rows
  // 1.55 M, 1 row 1.45 M on the benchmark machine).
  static constexpr size_t kRowsPerPass = 8;

  BinnedForest() = default;
  // Appends the levels_ search levels of one feature's sorted cuts.
  void AddSearch(const std::vector<float>& cuts);
  // Writes `value` at `slot` of one half (features or bins) of a tree's code.
  static void PutCode(Block* half, int slot, uint32_t value, bool wide);
  // bins[f] = bin(x[f]) for f < num_features (the rest untouched).
  void Bins(const float* x, uint16_t* bins) const;
  template <int L>
  void BinsL(const float* x, uint16_t* bins) const;
  // R rows with bins of type Row (8- or 16-bit); nan_mask[r]: bit f set when
  // row r's feature f is NaN (kNan: some bit is set).
  template <typename Row, int R, bool kNan, bool kOneGroup>
  void AddRowsT(const float* x, const uint64_t* nan_mask, float* acc) const;
  template <typename Row, int R>
  void AddRowsR(const float* x, float* acc) const;
  template <typename Row>
  void AddRowsW(const float* x, size_t rows, float* acc) const;

  int32_t num_features_ = 0;
  int32_t num_groups_ = 1;
  bool wide_ = false;
  int levels_ = 1;                   // search levels, 1..4 (up to 15, 255, 4095, 65535 cuts)
  std::vector<Search> searches_;     // [feature]
  std::vector<float> search_;        // all levels of all features, NaN-padded
  std::vector<Block> codes_;         // [tree][2 or 4]
  std::vector<uint64_t> nan_right_;  // [tree]: bit k set when node k sends NaN right
  std::vector<float> leaves_;        // [tree][64], left to right
  std::vector<int32_t> group_;       // [tree]
};

}  // namespace hotpath::tree_internal

#endif  // HOTPATH_RUNTIME_TREE_INTERNAL_BINNED_FOREST_H_
