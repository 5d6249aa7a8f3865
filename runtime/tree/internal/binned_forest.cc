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
constexpr int kChunk = 16;                       // cuts per compare

// Slot of breadth-first node k (of a depth-6 tree) in the codes' order.
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

// The leaf (0..63, left to right) of a tree whose node outcomes, in the
// codes' order, are the bits of `right`.
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

// The kernels' view of a row (its bins and NaN flags in registers) and of a
// tree's code: a 64-bit mask of its node outcomes. Two widths of bins:
//  - 8-bit: code = 64 feature bytes, then 64 bin bytes (2 blocks);
//  - 16-bit: code = 64 feature words, then 64 bin words (4 blocks).
struct Bins8 {
  static constexpr size_t kBlocks = 2;
  __m512i bins, nans;

  Bins8() = default;
  // The low bytes of the 64 words b (byte i of the result is byte 2i of b).
  HOTPATH_VBMI Bins8(const uint16_t* b, uint64_t nan_mask)
      : bins(_mm512_permutex2var_epi8(_mm512_loadu_si512(b), LowBytes(),
                                      _mm512_loadu_si512(b + 32))),
        nans(_mm512_movm_epi8(nan_mask)) {}
  HOTPATH_VBMI static __m512i LowBytes() {
    alignas(64) static constexpr std::array<uint8_t, 64> kIndex = [] {
      std::array<uint8_t, 64> index{};
      for (int i = 0; i < 64; ++i) index[i] = static_cast<uint8_t>(2 * i);
      return index;
    }();
    return _mm512_load_si512(kIndex.data());
  }
  HOTPATH_VBMI uint64_t Right(const void* code) const {
    const __m512i f = _mm512_load_si512(code);
    return _mm512_cmpgt_epu8_mask(_mm512_permutexvar_epi8(f, bins),
                                  _mm512_load_si512(static_cast<const char*>(code) + 64));
  }
  HOTPATH_VBMI uint64_t Nan(const void* code) const {
    return _mm512_movepi8_mask(_mm512_permutexvar_epi8(_mm512_load_si512(code), nans));
  }
};

struct Bins16 {
  static constexpr size_t kBlocks = 4;
  __m512i lo, hi, nan_lo, nan_hi;  // features 0..31 and 32..63

  Bins16() = default;
  HOTPATH_VBMI Bins16(const uint16_t* b, uint64_t nan_mask)
      : lo(_mm512_loadu_si512(b)),
        hi(_mm512_loadu_si512(b + 32)),
        nan_lo(_mm512_movm_epi16(static_cast<__mmask32>(nan_mask))),
        nan_hi(_mm512_movm_epi16(static_cast<__mmask32>(nan_mask >> 32))) {}
  HOTPATH_VBMI uint64_t Right(const void* code) const {
    const char* c = static_cast<const char*>(code);
    const __m512i f0 = _mm512_load_si512(c), f1 = _mm512_load_si512(c + 64);
    const uint64_t r0 =
        _mm512_cmpgt_epu16_mask(_mm512_permutex2var_epi16(lo, f0, hi), _mm512_load_si512(c + 128));
    const uint64_t r1 =
        _mm512_cmpgt_epu16_mask(_mm512_permutex2var_epi16(lo, f1, hi), _mm512_load_si512(c + 192));
    return r0 | (r1 << 32);
  }
  HOTPATH_VBMI uint64_t Nan(const void* code) const {
    const char* c = static_cast<const char*>(code);
    const uint64_t n0 =
        _mm512_movepi16_mask(_mm512_permutex2var_epi16(nan_lo, _mm512_load_si512(c), nan_hi));
    const uint64_t n1 =
        _mm512_movepi16_mask(_mm512_permutex2var_epi16(nan_lo, _mm512_load_si512(c + 64), nan_hi));
    return n0 | (n1 << 32);
  }
};

// Search levels for features of up to n cuts: the fewest L with n < 16^L
// (each level's count of entries <= x is at most 15 per chunk).
int SearchLevels(size_t n) {
  int levels = 1;
  for (size_t reach = kChunk; n >= reach; reach *= kChunk) ++levels;
  return levels;
}

}  // namespace

std::unique_ptr<BinnedForest> BinnedForest::Create(const Ensemble& e) {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
      !__builtin_cpu_supports("avx512vbmi")) {
    return nullptr;
  }
  if (e.num_features > kMaxBinnedFeatures || ShallowNumericDepth(e, kBinnedDepth) < 0) {
    return nullptr;
  }
  const size_t nf = static_cast<size_t>(e.num_features);
  std::vector<std::vector<float>> cuts(nf);
  for (const Tree& t : e.trees) {
    for (const Node& n : t.nodes) {
      if (!n.is_leaf()) cuts[n.feature].push_back(n.threshold);
    }
  }
  size_t most = 0;
  for (auto& c : cuts) {
    std::sort(c.begin(), c.end());
    c.erase(std::unique(c.begin(), c.end()), c.end());  // -0 and 0 are one cut
    most = std::max(most, c.size());
  }
  if (most > static_cast<size_t>(kMaxBinnedCuts)) return nullptr;
  std::unique_ptr<BinnedForest> s(new BinnedForest());
  s->num_features_ = e.num_features;
  s->num_groups_ = e.num_groups;
  s->wide_ = most > kMaxByteCuts;
  s->levels_ = SearchLevels(most);
  for (const auto& c : cuts) s->AddSearch(c);
  const size_t blocks = s->wide_ ? Bins16::kBlocks : Bins8::kBlocks;
  s->codes_.resize(e.trees.size() * blocks);
  s->nan_right_.assign(e.trees.size(), 0);
  s->leaves_.assign(e.trees.size() * kLeaves, 0.0f);
  float thr[kInner];
  uint32_t feat[kInner];
  for (size_t i = 0; i < e.trees.size(); ++i) {
    s->group_.push_back(e.trees[i].group);
    PadTree(e.trees[i], kBinnedDepth, thr, feat, &s->leaves_[i * kLeaves]);
    Block* code = &s->codes_[i * blocks];
    for (int k = 0; k < kInner; ++k) {
      const uint32_t f = feat[k] & ~kNanRightBit;
      // A padded node's outcome does not matter; any bin in range will do.
      const auto& c = cuts[f];
      const size_t j = std::lower_bound(c.begin(), c.end(), thr[k]) - c.begin();
      const int slot = CodeSlot(k);
      PutCode(code, slot, f, s->wide_);
      PutCode(code + blocks / 2, slot, static_cast<uint32_t>(std::min(j, most)), s->wide_);
      if (feat[k] & kNanRightBit) s->nan_right_[i] |= uint64_t{1} << slot;
    }
  }
  return s;
}

void BinnedForest::AddSearch(const std::vector<float>& cuts) {
  const float nan = std::numeric_limits<float>::quiet_NaN();  // never <= x
  const size_t n = cuts.size();
  Search search{};
  size_t stride = 1;  // cuts per entry of the last level, then of those above
  for (int l = 1; l < levels_; ++l) stride *= kChunk;
  size_t reachable = 1;  // chunks of this level a search can land in
  for (int l = 0; l < levels_; ++l, stride /= kChunk) {
    search.level[l] = static_cast<uint32_t>(search_.size());
    for (size_t i = 0; i < reachable * kChunk; ++i) {
      const size_t at = (i + 1) * stride - 1;
      search_.push_back(at < n ? cuts[at] : nan);
    }
    reachable = n / stride + 1;
  }
  searches_.push_back(search);
}

void BinnedForest::PutCode(Block* half, int slot, uint32_t value, bool wide) {
  if (!wide) {
    half->bytes[slot] = static_cast<uint8_t>(value);
    return;
  }
  Block& b = half[slot / 32];
  b.bytes[2 * (slot % 32)] = static_cast<uint8_t>(value);
  b.bytes[2 * (slot % 32) + 1] = static_cast<uint8_t>(value >> 8);
}

size_t BinnedForest::MemoryBytes() const {
  return sizeof(*this) + codes_.capacity() * sizeof(Block) +
         nan_right_.capacity() * sizeof(uint64_t) + searches_.capacity() * sizeof(Search) +
         (search_.capacity() + leaves_.capacity() + group_.capacity()) * 4;
}

template <int L>
HOTPATH_VBMI void BinnedForest::BinsL(const float* x, uint16_t* bins) const {
  // bin(x_f) = the number of cuts <= x_f, by a 16-ary search: at each of the
  // L levels, one compare of x against the 16 entries of the chunk the level
  // above picked. NaN compares false everywhere: bin 0 (the NaN mask picks
  // its default).
  for (int f = 0; f < num_features_; ++f) {
    const __m512 v = _mm512_set1_ps(x[f]);
    const Search& s = searches_[f];
    unsigned chunk = 0;
    for (int l = 0; l < L; ++l) {
      const float* entries = &search_[s.level[l] + kChunk * chunk];
      chunk = kChunk * chunk +
              std::popcount(_mm512_cmp_ps_mask(v, _mm512_loadu_ps(entries), _CMP_GE_OQ));
    }
    bins[f] = static_cast<uint16_t>(chunk);
  }
}

inline void BinnedForest::Bins(const float* x, uint16_t* bins) const {
  switch (levels_) {
    case 1:
      return BinsL<1>(x, bins);
    case 2:
      return BinsL<2>(x, bins);
    case 3:
      return BinsL<3>(x, bins);
    default:
      return BinsL<4>(x, bins);
  }
}

template <typename Row, int R, bool kNan, bool kOneGroup>
HOTPATH_VBMI void BinnedForest::AddRowsT(const float* x, const uint64_t* nan_mask,
                                         float* acc) const {
  const size_t nf = static_cast<size_t>(num_features_), groups = static_cast<size_t>(num_groups_);
  alignas(64) uint16_t bins[R][kMaxBinnedFeatures] = {};
  for (int r = 0; r < R; ++r) Bins(x + r * nf, bins[r]);
  Row rows[R];
  float sum[R];
  for (int r = 0; r < R; ++r) {
    rows[r] = Row(bins[r], nan_mask[r]);
    sum[r] = acc[r * groups];
  }
  const Block* codes = codes_.data();
  const float* leaves = leaves_.data();
  const size_t trees = nan_right_.size();
  for (size_t t = 0; t < trees; ++t) {
    const Block* code = codes + t * Row::kBlocks;
    for (int r = 0; r < R; ++r) {
      uint64_t right = rows[r].Right(code);
      if constexpr (kNan) right |= rows[r].Nan(code) & nan_right_[t];
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

template <typename Row, int R>
void BinnedForest::AddRowsR(const float* x, float* acc) const {
  uint64_t nan_mask[R];
  uint64_t any = 0;
  for (int r = 0; r < R; ++r) any |= nan_mask[r] = NanMask(x + r * num_features_, num_features_);
  if (num_groups_ == 1) {
    return any ? AddRowsT<Row, R, true, true>(x, nan_mask, acc)
               : AddRowsT<Row, R, false, true>(x, nan_mask, acc);
  }
  return any ? AddRowsT<Row, R, true, false>(x, nan_mask, acc)
             : AddRowsT<Row, R, false, false>(x, nan_mask, acc);
}

template <typename Row>
void BinnedForest::AddRowsW(const float* x, size_t rows, float* acc) const {
  const size_t nf = static_cast<size_t>(num_features_), groups = static_cast<size_t>(num_groups_);
  size_t r = 0;
  for (; r + kRowsPerPass <= rows; r += kRowsPerPass) {
    AddRowsR<Row, kRowsPerPass>(x + r * nf, acc + r * groups);
  }
  for (; r < rows; ++r) AddRowsR<Row, 1>(x + r * nf, acc + r * groups);
}

void BinnedForest::AddRows(const float* x, size_t rows, float* acc) const {
  return wide_ ? AddRowsW<Bins16>(x, rows, acc) : AddRowsW<Bins8>(x, rows, acc);
}

}  // namespace hotpath::tree_internal
