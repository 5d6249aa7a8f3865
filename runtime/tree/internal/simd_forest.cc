#include "runtime/tree/internal/simd_forest.h"

#include <immintrin.h>

#include <cstring>

#include "runtime/tree/internal/forest.h"

// GCC 12's masked-load intrinsics read an undefined source operand.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define HOTPATH_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))

namespace hotpath::tree_internal {
namespace {

HOTPATH_AVX512 inline __mmask16 GoesRight(__m512 v, __m512 t, __m512i f) {
  const __mmask16 ge = _mm512_cmp_ps_mask(v, t, _CMP_GE_OQ);
  const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  return ge | (nan & _mm512_movepi32_mask(f));
}

HOTPATH_AVX512 inline __m512i Step(__m512i j, __mmask16 right) {
  j = _mm512_add_epi32(j, j);
  return _mm512_mask_add_epi32(j, right, j, _mm512_set1_epi32(1));
}

// Entries [0, n) of a level's table, n <= 16, as a register (rest zero).
HOTPATH_AVX512 inline __m512 LoadLevelPs(const float* p, int n) {
  return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p);
}
HOTPATH_AVX512 inline __m512i LoadLevelEpi32(const uint32_t* p, int n) {
  return _mm512_maskz_loadu_epi32(static_cast<__mmask16>((1u << n) - 1), p);
}

// Table lookup of local index j in a level of n <= 32 entries.
HOTPATH_AVX512 inline __m512 LookupPs(const float* p, int n, __m512i j) {
  if (n <= 16) return _mm512_permutexvar_ps(j, LoadLevelPs(p, n));
  return _mm512_permutex2var_ps(_mm512_loadu_ps(p), j, _mm512_loadu_ps(p + 16));
}
HOTPATH_AVX512 inline __m512i LookupEpi32(const uint32_t* p, int n, __m512i j) {
  if (n <= 16) return _mm512_permutexvar_epi32(j, LoadLevelEpi32(p, n));
  return _mm512_permutex2var_epi32(_mm512_loadu_si512(p), j, _mm512_loadu_si512(p + 16));
}

HOTPATH_AVX512 inline __m512 LeafLookup(const float* leaves, int n, __m512i j) {
  if (n <= 32) return LookupPs(leaves, n, j);
  const __m512 lo = LookupPs(leaves, 32, j);
  const __m512 hi = LookupPs(leaves + 32, 32, j);
  return _mm512_mask_blend_ps(_mm512_test_epi32_mask(j, _mm512_set1_epi32(32)), lo, hi);
}

}  // namespace

int ShallowNumericDepth(const Ensemble& e, int max_depth) {
  if (e.accumulate_double || e.average_output || e.trees.empty()) return -1;
  int depth = 0;
  for (const Tree& t : e.trees) {
    for (const Node& n : t.nodes) {
      if (!n.is_leaf() && (n.category_set >= 0 || n.zero_is_missing)) return -1;
    }
    depth = std::max(depth, TreeDepth(t));
  }
  return depth <= max_depth ? depth : -1;
}

std::unique_ptr<SimdForest> SimdForest::Create(const Ensemble& e) {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512dq")) return nullptr;
  if (static_cast<int64_t>(e.num_features) * static_cast<int64_t>(kSimdLanes) > INT32_MAX) return nullptr;
  const int depth = ShallowNumericDepth(e, kMaxSimdDepth);
  if (depth < 0) return nullptr;
  std::unique_ptr<SimdForest> s(new SimdForest());
  s->depth_ = depth;
  s->num_features_ = e.num_features;
  s->num_groups_ = e.num_groups;
  s->num_trees_ = e.trees.size();
  const size_t inner = (size_t{1} << depth) - 1, leaves = inner + 1;
  const size_t padded = (e.trees.size() + kSimdLanes - 1) / kSimdLanes * kSimdLanes;
  // +16: masked and two-register loads may read up to 16 entries past a table.
  s->thr_.assign(e.trees.size() * inner + 16, 0.0f);
  s->feat_.assign(e.trees.size() * inner + 16, 0u);
  s->leaf_.assign(e.trees.size() * leaves + 16, 0.0f);
  s->ithr_.assign(padded * inner, 0.0f);
  s->ifeat_.assign(padded * inner, 0u);
  s->ileaf_.assign(padded * leaves, 0.0f);
  s->ipair_.assign(padded * inner, 0u);
  s->l2thr_.assign(padded / kSimdLanes * 64, 0.0f);
  s->l2feat_.assign(padded / kSimdLanes * 64, 0u);
  for (size_t i = 0; i < e.trees.size(); ++i) {
    s->group_.push_back(e.trees[i].group);
    float* thr = &s->thr_[i * inner];
    uint32_t* feat = &s->feat_[i * inner];
    float* leaf = &s->leaf_[i * leaves];
    PadTree(e.trees[i], depth, thr, feat, leaf);
    const size_t g = i / kSimdLanes, lane = i % kSimdLanes;
    for (size_t k = 0; k < inner; ++k) {
      s->ithr_[(g * inner + k) * kSimdLanes + lane] = thr[k];
      s->ifeat_[(g * inner + k) * kSimdLanes + lane] = feat[k];
      uint32_t bits;
      std::memcpy(&bits, &thr[k], sizeof(bits));
      s->ipair_[(g * inner + k) * kSimdLanes + lane] = bits | (uint64_t{feat[k]} << 32);
      if (k >= 3 && k < 7) {  // level 2, tree-major: [block][tree][node]
        s->l2thr_[g * 64 + lane * 4 + (k - 3)] = thr[k];
        s->l2feat_[g * 64 + lane * 4 + (k - 3)] = feat[k];
      }
    }
    for (size_t k = 0; k < leaves; ++k) s->ileaf_[(g * leaves + k) * kSimdLanes + lane] = leaf[k];
  }
  return s;
}

size_t SimdForest::MemoryBytes() const {
  return sizeof(*this) + (thr_.capacity() + feat_.capacity() + leaf_.capacity() + ithr_.capacity() +
                          ifeat_.capacity() + ileaf_.capacity() + group_.capacity() + 2 * ipair_.capacity() +
                          l2thr_.capacity() + l2feat_.capacity()) * 4;
}

// Levels up to this one pick each lane's node with blends over the level's
// 2^d node vectors (cheaper than a gather for small d).
constexpr int kBlendLevels = 1;

// Lane i gets element i of vector j_i, where vector k is p[16k .. 16k+15].
template <typename T>
HOTPATH_AVX512 inline __m512 SelectLevel(const T* p, int d, __m512i j) {
  __m512 v[8];
  const int n = 1 << d;
  for (int k = 0; k < n; ++k) v[k] = _mm512_castsi512_ps(_mm512_loadu_si512(p + k * kSimdLanes));
  for (int bit = 0, width = n; width > 1; ++bit, width /= 2) {
    const __mmask16 m = _mm512_test_epi32_mask(j, _mm512_set1_epi32(1 << bit));
    for (int k = 0; k < width / 2; ++k) v[k] = _mm512_mask_blend_ps(m, v[2 * k], v[2 * k + 1]);
  }
  return v[0];
}

// Levels up to this one read x with loads and blends in AddBlocksD.
constexpr int kBlockBlendLevels = 2;

// Lane i gets x of its row at the feature of node j_i of a level whose 2^d
// node features are feat[0 .. 2^d); xt is one block, feature-major.
HOTPATH_AVX512 inline __m512 SelectRows(const float* xt, const uint32_t* feat, int d, __m512i j) {
  __m512 v[4];
  const int n = 1 << d;
  for (int k = 0; k < n; ++k) v[k] = _mm512_loadu_ps(xt + (feat[k] & 0x7fffffffu) * kSimdLanes);
  for (int bit = 0, width = n; width > 1; ++bit, width /= 2) {
    const __mmask16 m = _mm512_test_epi32_mask(j, _mm512_set1_epi32(1 << bit));
    for (int k = 0; k < width / 2; ++k) v[k] = _mm512_mask_blend_ps(m, v[2 * k], v[2 * k + 1]);
  }
  return v[0];
}

// Per-thread scratch for transposed blocks; grows, never shrinks.
float* TransposedScratch(size_t floats) {
  thread_local std::vector<float> scratch;
  if (scratch.size() < floats) scratch.resize(floats);
  return scratch.data();
}

// V blocks of 16 rows, their traversals interleaved level by level so that
// V independent gather chains are in flight (one chain is latency-bound).
template <int D, int V>
HOTPATH_AVX512 void SimdForest::AddBlocksD(const float* x, float* acc) const {
  constexpr int kInner = (1 << D) - 1;
  constexpr size_t kMaxGroupsInRegisters = 4;
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i index_mask = _mm512_set1_epi32(0x7fffffff);
  const size_t groups = static_cast<size_t>(num_groups_);
  const size_t nf = static_cast<size_t>(num_features_);
  const __m512i acc_offset = _mm512_mullo_epi32(lane, _mm512_set1_epi32(static_cast<int>(groups)));
  const bool in_registers = groups <= kMaxGroupsInRegisters;
  // Each block transposed to feature-major ([feature][lane]): levels where
  // all lanes share few nodes then read x with loads and blends, not gathers.
  float* xt = TransposedScratch(V * nf * kSimdLanes);
  for (int b = 0; b < V; ++b) {
    for (size_t r = 0; r < kSimdLanes; ++r) {
      for (size_t f = 0; f < nf; ++f) xt[(b * nf + f) * kSimdLanes + r] = x[(b * kSimdLanes + r) * nf + f];
    }
  }
  __m512 sums[V][kMaxGroupsInRegisters];
  for (int b = 0; b < V && in_registers; ++b) {
    for (size_t g = 0; g < groups; ++g) {
      sums[b][g] = _mm512_i32gather_ps(acc_offset, acc + b * kSimdLanes * groups + g, 4);
    }
  }
  for (size_t t = 0; t < num_trees_; ++t) {
    const float* thr = thr_.data() + t * kInner;
    const uint32_t* feat = feat_.data() + t * kInner;
    __m512i j[V];
    for (int b = 0; b < V; ++b) j[b] = _mm512_setzero_si512();
    for (int d = 0; d < D; ++d) {
      const int off = (1 << d) - 1, n = 1 << d;
      for (int b = 0; b < V; ++b) {
        const __m512 th = LookupPs(thr + off, n, j[b]);
        const __m512i f = LookupEpi32(feat + off, n, j[b]);
        const float* block = xt + b * nf * kSimdLanes;
        __m512 v;
        if (d <= kBlockBlendLevels) {
          v = SelectRows(block, feat + off, d, j[b]);
        } else {
          const __m512i addr = _mm512_add_epi32(_mm512_slli_epi32(_mm512_and_si512(f, index_mask), 4), lane);
          v = _mm512_i32gather_ps(addr, block, 4);
        }
        j[b] = Step(j[b], GoesRight(v, th, f));
      }
    }
    const size_t g = groups == 1 ? 0 : static_cast<size_t>(group_[t]);
    for (int b = 0; b < V; ++b) {
      const __m512 leaf = LeafLookup(leaf_.data() + t * (kInner + 1), kInner + 1, j[b]);
      if (in_registers) {
        sums[b][g] = _mm512_add_ps(sums[b][g], leaf);
      } else {
        alignas(64) float l[kSimdLanes];
        _mm512_store_ps(l, leaf);
        float* a = acc + b * kSimdLanes * groups + g;
        for (size_t r = 0; r < kSimdLanes; ++r) a[r * groups] += l[r];
      }
    }
  }
  for (int b = 0; b < V && in_registers; ++b) {
    for (size_t g = 0; g < groups; ++g) {
      alignas(64) float s[kSimdLanes];
      _mm512_store_ps(s, sums[b][g]);
      float* a = acc + b * kSimdLanes * groups + g;
      for (size_t r = 0; r < kSimdLanes; ++r) a[r * groups] = s[r];
    }
  }
}

// x[f] for a lane's feature f: a register permute when the row fits in
// kRowRegisters registers, else a gather.
template <int kRowRegisters>
HOTPATH_AVX512 inline __m512 RowValue(const __m512* row, const float* x, __m512i f) {
  if constexpr (kRowRegisters == 1) {
    return _mm512_permutexvar_ps(f, row[0]);
  } else if constexpr (kRowRegisters == 2) {
    return _mm512_permutex2var_ps(row[0], f, row[1]);
  } else if constexpr (kRowRegisters == 4) {
    const __m512 lo = _mm512_permutex2var_ps(row[0], f, row[1]);
    const __m512 hi = _mm512_permutex2var_ps(row[2], f, row[3]);
    return _mm512_mask_blend_ps(_mm512_test_epi32_mask(f, _mm512_set1_epi32(32)), lo, hi);
  } else {
    return _mm512_i32gather_ps(f, x, 4);
  }
}

// One row, V x 16 trees at a time (one tree per lane), chains interleaved
// (V = 8 measured 5% faster than 4 on Zen 4).
template <int D, int kRowRegisters>
HOTPATH_AVX512 void SimdForest::AddRowD(const float* x, float* acc) const {
  constexpr int kInner = (1 << D) - 1;
  constexpr int V = 8;
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i index_mask = _mm512_set1_epi32(0x7fffffff);
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  __m512 row[kRowRegisters > 0 ? kRowRegisters : 1];
  for (int k = 0; k < kRowRegisters; ++k) {
    const int left = num_features_ - 16 * k;
    row[k] = _mm512_maskz_loadu_ps(left >= 16 ? 0xffff : static_cast<__mmask16>((1u << std::max(left, 0)) - 1), x + 16 * k);
  }
  alignas(64) float leaves[V][kSimdLanes];
  const size_t blocks = (num_trees_ + kSimdLanes - 1) / kSimdLanes;
  for (size_t blk0 = 0; blk0 < blocks; blk0 += V) {
    const int nb = static_cast<int>(std::min<size_t>(V, blocks - blk0));
    __m512i j[V];
    for (int b = 0; b < V; ++b) j[b] = _mm512_setzero_si512();
    for (int d = 0; d < D; ++d) {
      const int off = (1 << d) - 1;
      for (int b = 0; b < nb; ++b) {
        const float* thr = ithr_.data() + (blk0 + b) * kInner * kSimdLanes;
        const uint32_t* feat = ifeat_.data() + (blk0 + b) * kInner * kSimdLanes;
        __m512 th;
        __m512i f;
        if (d == 2) {  // 64 entries per 16 trees: two two-register permutes and a blend
          // (measured 5% faster than the pair gather; level 3 this way was slower)
          const __m512i idx = _mm512_add_epi32(_mm512_slli_epi32(lane, 2), j[b]);
          const float* t2 = l2thr_.data() + (blk0 + b) * 64;
          const uint32_t* f2 = l2feat_.data() + (blk0 + b) * 64;
          th = _mm512_mask_blend_ps(0xFF00, _mm512_permutex2var_ps(_mm512_loadu_ps(t2), idx, _mm512_loadu_ps(t2 + 16)),
                                    _mm512_permutex2var_ps(_mm512_loadu_ps(t2 + 32), idx, _mm512_loadu_ps(t2 + 48)));
          f = _mm512_mask_blend_epi32(
              0xFF00, _mm512_permutex2var_epi32(_mm512_loadu_si512(f2), idx, _mm512_loadu_si512(f2 + 16)),
              _mm512_permutex2var_epi32(_mm512_loadu_si512(f2 + 32), idx, _mm512_loadu_si512(f2 + 48)));
        } else if (d <= kBlendLevels) {  // select among the level's 2^d vectors
          th = SelectLevel<float>(thr + off * kSimdLanes, d, j[b]);
          f = _mm512_castps_si512(SelectLevel<uint32_t>(feat + off * kSimdLanes, d, j[b]));
        } else {
          // One 64-bit gather per 8 lanes fetches threshold and feature together.
          const __m512i idx = _mm512_add_epi32(
              _mm512_slli_epi32(_mm512_add_epi32(j[b], _mm512_set1_epi32(off)), 4), lane);
          const uint64_t* pairs = ipair_.data() + (blk0 + b) * kInner * kSimdLanes;
          const __m512i lo = _mm512_i32gather_epi64(_mm512_castsi512_si256(idx), pairs, 8);
          const __m512i hi = _mm512_i32gather_epi64(_mm512_extracti64x4_epi64(idx, 1), pairs, 8);
          th = _mm512_castsi512_ps(_mm512_permutex2var_epi32(lo, even, hi));
          f = _mm512_permutex2var_epi32(lo, odd, hi);
        }
        const __m512 v = RowValue<kRowRegisters>(row, x, _mm512_and_si512(f, index_mask));
        j[b] = Step(j[b], GoesRight(v, th, f));
      }
    }
    for (int b = 0; b < nb; ++b) {
      const float* leaf = ileaf_.data() + (blk0 + b) * (kInner + 1) * kSimdLanes;
      _mm512_store_ps(leaves[b], _mm512_i32gather_ps(_mm512_add_epi32(_mm512_slli_epi32(j[b], 4), lane), leaf, 4));
    }
    // In tree order, so the float sum is XGBoost's.
    const size_t base = blk0 * kSimdLanes;
    const size_t n = std::min<size_t>(nb * kSimdLanes, num_trees_ - base);
    const float* l = &leaves[0][0];
    if (num_groups_ == 1) {
      float a = acc[0];
      for (size_t k = 0; k < n; ++k) a += l[k];
      acc[0] = a;
    } else {
      for (size_t k = 0; k < n; ++k) acc[group_[base + k]] += l[k];
    }
  }
}

template <int V>
void SimdForest::AddBlocks(const float* x, float* acc) const {
  switch (depth_) {
    case 0: return AddBlocksD<0, V>(x, acc);
    case 1: return AddBlocksD<1, V>(x, acc);
    case 2: return AddBlocksD<2, V>(x, acc);
    case 3: return AddBlocksD<3, V>(x, acc);
    case 4: return AddBlocksD<4, V>(x, acc);
    case 5: return AddBlocksD<5, V>(x, acc);
    default: return AddBlocksD<6, V>(x, acc);
  }
}
template void SimdForest::AddBlocks<1>(const float*, float*) const;
template void SimdForest::AddBlocks<4>(const float*, float*) const;

template <int R>
void SimdForest::AddRowR(const float* x, float* acc) const {
  switch (depth_) {
    case 0: return AddRowD<0, R>(x, acc);
    case 1: return AddRowD<1, R>(x, acc);
    case 2: return AddRowD<2, R>(x, acc);
    case 3: return AddRowD<3, R>(x, acc);
    case 4: return AddRowD<4, R>(x, acc);
    case 5: return AddRowD<5, R>(x, acc);
    default: return AddRowD<6, R>(x, acc);
  }
}

void SimdForest::AddRow(const float* x, float* acc) const {
  if (num_features_ <= 16) return AddRowR<1>(x, acc);
  if (num_features_ <= 32) return AddRowR<2>(x, acc);
  if (num_features_ <= 64) return AddRowR<4>(x, acc);
  return AddRowR<0>(x, acc);
}

}  // namespace hotpath::tree_internal
