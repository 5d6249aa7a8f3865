#include "runtime/tree/internal/binned_forest.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>

#include "runtime/tree/internal/forest.h"
#include "runtime/tree/internal/simd_forest.h"

// GCC 12's masked-load intrinsics read an undefined source operand.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define HOTPATH_VBMI __attribute__((target("avx512f,avx512bw,avx512vbmi,popcnt")))

namespace hotpath::tree_internal {
namespace {

constexpr int kInner = (1 << kBinnedDepth) - 1;  // 63 nodes
constexpr int kLeaves = 1 << kBinnedDepth;       // 64 leaves
constexpr int kCutStride = 256;                  // cuts per feature, NaN-padded
constexpr int kChunk = 16;                       // cuts per compare

// Byte of breadth-first node k (of a depth-6 tree) in TreeCode order.
int CodeSlot(int k) {
  const int level = std::bit_width(static_cast<unsigned>(k + 1)) - 1;
  const int i = k + 1 - (1 << level);  // index within the level
  if (level < 3) return k;
  const int sub_level = level - 3;
  const int subtree = i >> sub_level;
  return 7 + 7 * subtree + (1 << sub_level) - 1 + (i & ((1 << sub_level) - 1));
}

// The leaf (0..7, left to right) that a three-level subtree reaches when bit
// k of m says whether its breadth-first node k goes right.
constexpr unsigned SubtreeLeaf(unsigned m) {
  unsigned node = 0;
  for (int d = 0; d < 3; ++d) node = 2 * node + 1 + ((m >> node) & 1u);
  return node - 7;
}

// kTop[m] for the top subtree's bits m: the shift that brings the bottom
// subtree p = SubtreeLeaf(m) to bit 0 (7 + 7p; a 64-bit shift reads only the
// low 6 bits of its count), plus 64 times the first leaf below it (8p).
constexpr std::array<uint16_t, 128> MakeTop() {
  std::array<uint16_t, 128> top{};
  for (unsigned m = 0; m < 128; ++m)
    top[m] = static_cast<uint16_t>(7 + 7 * SubtreeLeaf(m) + 64 * 8 * SubtreeLeaf(m));
  return top;
}
constexpr std::array<uint8_t, 128> MakeBottom() {
  std::array<uint8_t, 128> bottom{};
  for (unsigned m = 0; m < 128; ++m) bottom[m] = static_cast<uint8_t>(SubtreeLeaf(m));
  return bottom;
}
constexpr std::array<uint16_t, 128> kTop = MakeTop();
constexpr std::array<uint8_t, 128> kBottom = MakeBottom();

// The leaf (0..63, left to right) of a tree whose node outcomes, in
// TreeCode order, are the bits of `right`.
inline unsigned LeafIndex(uint64_t right) {
  const unsigned top = kTop[right & 127];
  return (top >> 6) + kBottom[(right >> (top & 63)) & 127];
}

// Bit f set when x[f] is NaN, f < nf <= 64.
HOTPATH_VBMI inline uint64_t NanMask(const float* x, int nf) {
  uint64_t mask = 0;
  for (int k = 0; k * 16 < nf; ++k) {
    const int left = nf - 16 * k;
    const __mmask16 lanes = left >= 16 ? 0xffff : static_cast<__mmask16>((1u << left) - 1);
    const __m512 v = _mm512_maskz_loadu_ps(lanes, x + 16 * k);
    mask |= static_cast<uint64_t>(_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q)) << (16 * k);
  }
  return mask;
}

}  // namespace

std::unique_ptr<BinnedForest> BinnedForest::Create(const Ensemble& e) {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
      !__builtin_cpu_supports("avx512vbmi")) {
    return nullptr;
  }
  if (e.num_features > kMaxBinnedFeatures || ShallowNumericDepth(e, kBinnedDepth) < 0)
    return nullptr;
  const size_t nf = static_cast<size_t>(e.num_features);
  std::vector<std::vector<float>> cuts(nf);
  for (const Tree& t : e.trees) {
    for (const Node& n : t.nodes) {
      if (!n.is_leaf()) cuts[n.feature].push_back(n.threshold);
    }
  }
  for (auto& c : cuts) {
    std::sort(c.begin(), c.end());
    c.erase(std::unique(c.begin(), c.end()), c.end());  // -0 and 0 are one cut
    if (c.size() > static_cast<size_t>(kMaxBinnedCuts)) return nullptr;
  }
  std::unique_ptr<BinnedForest> s(new BinnedForest());
  s->num_features_ = e.num_features;
  s->num_groups_ = e.num_groups;
  const float nan = std::numeric_limits<float>::quiet_NaN();  // never <= x
  s->cuts_.assign(nf * kCutStride, nan);
  s->pivots_.assign(nf * kChunk, nan);
  for (size_t f = 0; f < nf; ++f) {
    std::copy(cuts[f].begin(), cuts[f].end(), s->cuts_.begin() + f * kCutStride);
    for (int k = 0; k < kChunk; ++k)
      s->pivots_[f * kChunk + k] = s->cuts_[f * kCutStride + kChunk * k + kChunk - 1];
  }
  s->codes_.resize(e.trees.size());
  s->nan_right_.assign(e.trees.size(), 0);
  s->leaves_.assign(e.trees.size() * kLeaves, 0.0f);
  float thr[kInner];
  uint32_t feat[kInner];
  for (size_t i = 0; i < e.trees.size(); ++i) {
    s->group_.push_back(e.trees[i].group);
    PadTree(e.trees[i], kBinnedDepth, thr, feat, &s->leaves_[i * kLeaves]);
    TreeCode& code = s->codes_[i];
    code.feature[63] = 0;
    code.bin[63] = 0;
    for (int k = 0; k < kInner; ++k) {
      const uint32_t f = feat[k] & ~kNanRightBit;
      // A padded node's outcome does not matter; any bin in range will do.
      const auto& c = cuts[f];
      const size_t j = std::lower_bound(c.begin(), c.end(), thr[k]) - c.begin();
      const int slot = CodeSlot(k);
      code.feature[slot] = static_cast<uint8_t>(f);
      code.bin[slot] = static_cast<uint8_t>(std::min<size_t>(j, kMaxBinnedCuts));
      if (feat[k] & kNanRightBit) s->nan_right_[i] |= uint64_t{1} << slot;
    }
  }
  return s;
}

size_t BinnedForest::MemoryBytes() const {
  return sizeof(*this) + codes_.capacity() * sizeof(TreeCode) +
         nan_right_.capacity() * sizeof(uint64_t) +
         (cuts_.capacity() + pivots_.capacity() + leaves_.capacity() + group_.capacity()) * 4;
}

HOTPATH_VBMI inline void BinnedForest::Bins(const float* x, uint8_t* bins) const {
  // bin(x_f) = the number of cuts <= x_f: whole chunks of 16 below x (one
  // compare against each chunk's last cut), then cuts within the next chunk.
  // NaN compares false everywhere: bin 0 (the NaN mask picks its default).
  for (int f = 0; f < num_features_; ++f) {
    const __m512 v = _mm512_set1_ps(x[f]);
    const unsigned chunk =
        std::popcount(_mm512_cmp_ps_mask(v, _mm512_loadu_ps(&pivots_[f * kChunk]), _CMP_GE_OQ));
    const float* c = &cuts_[f * kCutStride + kChunk * chunk];
    const unsigned within = std::popcount(_mm512_cmp_ps_mask(v, _mm512_loadu_ps(c), _CMP_GE_OQ));
    bins[f] = static_cast<uint8_t>(kChunk * chunk + within);
  }
}

template <int R, bool kNan, bool kOneGroup>
HOTPATH_VBMI void BinnedForest::AddRowsT(const float* x, const uint64_t* nan_mask,
                                         float* acc) const {
  const size_t nf = static_cast<size_t>(num_features_), groups = static_cast<size_t>(num_groups_);
  __m512i bins[R], nan_bytes[R];
  float sum[R];
  alignas(64) uint8_t bin_bytes[R][64] = {};
  for (int r = 0; r < R; ++r) {
    Bins(x + r * nf, bin_bytes[r]);
    bins[r] = _mm512_load_si512(bin_bytes[r]);
    nan_bytes[r] = _mm512_movm_epi8(nan_mask[r]);
    sum[r] = acc[r * groups];
  }
  const TreeCode* codes = codes_.data();
  const float* leaves = leaves_.data();
  const size_t trees = codes_.size();
  for (size_t t = 0; t < trees; ++t) {
    const __m512i f = _mm512_load_si512(codes[t].feature);
    const __m512i b = _mm512_load_si512(codes[t].bin);
    for (int r = 0; r < R; ++r) {
      uint64_t right = _mm512_cmpgt_epu8_mask(_mm512_permutexvar_epi8(f, bins[r]), b);
      if constexpr (kNan)
        right |= _mm512_movepi8_mask(_mm512_permutexvar_epi8(f, nan_bytes[r])) & nan_right_[t];
      const float leaf = leaves[t * kLeaves + LeafIndex(right)];
      if constexpr (kOneGroup) {
        sum[r] += leaf;
      } else {
        acc[r * groups + group_[t]] += leaf;
      }
    }
  }
  for (int r = 0; r < R && kOneGroup; ++r) acc[r * groups] = sum[r];
}

template <int R>
void BinnedForest::AddRowsR(const float* x, float* acc) const {
  uint64_t nan_mask[R];
  uint64_t any = 0;
  for (int r = 0; r < R; ++r) any |= nan_mask[r] = NanMask(x + r * num_features_, num_features_);
  if (num_groups_ == 1) {
    return any ? AddRowsT<R, true, true>(x, nan_mask, acc)
               : AddRowsT<R, false, true>(x, nan_mask, acc);
  }
  return any ? AddRowsT<R, true, false>(x, nan_mask, acc)
             : AddRowsT<R, false, false>(x, nan_mask, acc);
}

void BinnedForest::AddRows(const float* x, size_t rows, float* acc) const {
  const size_t nf = static_cast<size_t>(num_features_), groups = static_cast<size_t>(num_groups_);
  size_t r = 0;
  for (; r + kRowsPerPass <= rows; r += kRowsPerPass)
    AddRowsR<kRowsPerPass>(x + r * nf, acc + r * groups);
  for (; r < rows; ++r) AddRowsR<1>(x + r * nf, acc + r * groups);
}

}  // namespace hotpath::tree_internal
