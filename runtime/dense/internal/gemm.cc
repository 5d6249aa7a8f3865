#include "runtime/dense/internal/gemm.h"

#include <algorithm>
#include <cmath>

#include "runtime/dense/internal/simd.h"

namespace hotpath::dense::internal {
namespace {

// ---------------------------------------------------------------- scalar
void GemmScalar(const float* x, size_t ldx, size_t rows, const PackedWeights& w,
                const ActivationSpec& act, float* y, size_t ldy) {
  for (size_t r = 0; r < rows; ++r) {
    for (int64_t p = 0; p < w.panels; ++p) {
      float acc[kPanel];
      const float* panel = w.data.data() + p * w.k * kPanel;
      for (int j = 0; j < kPanel; ++j) acc[j] = w.bias[p * kPanel + j];
      for (int64_t k = 0; k < w.k; ++k) {
        const float xv = x[r * ldx + k];
        for (int j = 0; j < kPanel; ++j) acc[j] += xv * panel[k * kPanel + j];
      }
      const int64_t cols = std::min<int64_t>(kPanel, w.n - p * kPanel);
      for (int64_t j = 0; j < cols; ++j) y[r * ldy + p * kPanel + j] = ApplyActivation(act, acc[j]);
    }
  }
}

// ---------------------------------------------------------------- AVX-512
// MR rows × NP panels: MR*NP accumulators, the weights of one k loaded once.
template <int MR, int NP>
HOTPATH_AVX512 void Tile512(const float* x, size_t ldx, const PackedWeights& w, int64_t p0,
                            const ActivationSpec& act, float* y, size_t ldy) {
  const int64_t K = w.k;
  const float* panel = w.data.data() + p0 * K * kPanel;
  __m512 acc[MR][NP];
#pragma GCC unroll 4
  for (int p = 0; p < NP; ++p) {
    const __m512 b = _mm512_load_ps(w.bias.data() + (p0 + p) * kPanel);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) acc[r][p] = b;
  }
  for (int64_t k = 0; k < K; ++k) {
    __m512 wv[NP];
#pragma GCC unroll 4
    for (int p = 0; p < NP; ++p) wv[p] = _mm512_load_ps(panel + (p * K + k) * kPanel);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m512 xb = _mm512_set1_ps(x[r * ldx + k]);
#pragma GCC unroll 4
      for (int p = 0; p < NP; ++p) acc[r][p] = _mm512_fmadd_ps(xb, wv[p], acc[r][p]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (int p = 0; p < NP; ++p) {
      Store512(y + r * ldy + (p0 + p) * kPanel, Act512(act, acc[r][p]), w.n - (p0 + p) * kPanel);
    }
  }
}

template <int NP>
HOTPATH_AVX512 void Rows512(const float* x, size_t ldx, size_t rows, const PackedWeights& w,
                            int64_t p0, const ActivationSpec& act, float* y, size_t ldy) {
  size_t r = 0;
  for (; r + 8 <= rows; r += 8) Tile512<8, NP>(x + r * ldx, ldx, w, p0, act, y + r * ldy, ldy);
  if (r + 4 <= rows) {
    Tile512<4, NP>(x + r * ldx, ldx, w, p0, act, y + r * ldy, ldy);
    r += 4;
  }
  if (r + 2 <= rows) {
    Tile512<2, NP>(x + r * ldx, ldx, w, p0, act, y + r * ldy, ldy);
    r += 2;
  }
  if (r < rows) Tile512<1, NP>(x + r * ldx, ldx, w, p0, act, y + r * ldy, ldy);
}

// ---------------------------------------------------------------- AVX-512 GEMV
// Inputs per pass of the GEMV (its index list lives on the stack).
constexpr int64_t kGemvChunk = 2048;
// Rows of W per sweep of y in the wide-layer GEMV: one load and store of y
// per 4 weight loads (1, 2 and 8 measured slower on the ranking MLP).
constexpr int kGemvRowsPerSweep = 4;

HOTPATH_AVX512 inline __mmask16 Lanes(int64_t cols) {
  return cols >= kPanel ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << cols) - 1);
}

// Writes to `nz` the indices k in [k0, k1) with x[k] != 0 (NaN included),
// or all of them when `all`; returns their count. `nz` has room for
// k1 - k0 + kPanel entries (each step stores 16).
HOTPATH_AVX512 size_t NonZeroInputs(const float* x, int64_t k0, int64_t k1, bool all, int32_t* nz) {
  size_t count = 0;
  __m512i idx =
      _mm512_add_epi32(_mm512_set1_epi32(static_cast<int32_t>(k0)),
                       _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  for (int64_t k = k0; k < k1; k += kPanel) {
    const __mmask16 in = Lanes(k1 - k);
    const __m512 v = _mm512_maskz_loadu_ps(in, x + k);
    const __mmask16 keep =
        all ? in : _mm512_mask_cmp_ps_mask(in, v, _mm512_setzero_ps(), _CMP_NEQ_UQ);
    // Compress in a register and store whole: vpcompressd to memory is slow on Zen 4.
    _mm512_storeu_si512(nz + count, _mm512_maskz_compress_epi32(keep, idx));
    count += static_cast<size_t>(__builtin_popcount(keep));
    idx = _mm512_add_epi32(idx, _mm512_set1_epi32(kPanel));
  }
  return count;
}

// NP panels of one row-major block (row stride ldw floats) over the listed
// inputs: y[0, cols) = init + Σ x[k] · row k, through `act` when given (the
// last pass over the inputs). CH chains take alternate inputs, so narrow
// blocks still have independent FMAs in flight.
template <int NP>
HOTPATH_AVX512 void GemvBlock512(const float* x, const int32_t* nz, size_t count, const float* w,
                                 size_t ldw, const float* init, const ActivationSpec* act, float* y,
                                 int64_t cols) {
  constexpr int CH = NP >= 16 ? 1 : (NP >= 8 ? 2 : 4);
  __m512 acc[CH][NP];
#pragma GCC unroll 16
  for (int p = 0; p < NP; ++p) {
    acc[0][p] = _mm512_maskz_loadu_ps(Lanes(cols - p * kPanel), init + p * kPanel);
#pragma GCC unroll 4
    for (int c = 1; c < CH; ++c) acc[c][p] = _mm512_setzero_ps();
  }
  size_t i = 0;
  for (; i + CH <= count; i += CH) {
#pragma GCC unroll 4
    for (int c = 0; c < CH; ++c) {
      const __m512 xv = _mm512_set1_ps(x[nz[i + c]]);
      const float* row = w + static_cast<size_t>(nz[i + c]) * ldw;
#pragma GCC unroll 16
      for (int p = 0; p < NP; ++p)
        acc[c][p] = _mm512_fmadd_ps(xv, _mm512_load_ps(row + p * kPanel), acc[c][p]);
    }
  }
  for (; i < count; ++i) {
    const __m512 xv = _mm512_set1_ps(x[nz[i]]);
    const float* row = w + static_cast<size_t>(nz[i]) * ldw;
#pragma GCC unroll 16
    for (int p = 0; p < NP; ++p)
      acc[0][p] = _mm512_fmadd_ps(xv, _mm512_load_ps(row + p * kPanel), acc[0][p]);
  }
#pragma GCC unroll 16
  for (int p = 0; p < NP; ++p) {
#pragma GCC unroll 4
    for (int c = 1; c < CH; ++c) acc[0][p] = _mm512_add_ps(acc[0][p], acc[c][p]);
    Store512(y + p * kPanel, act != nullptr ? Act512(*act, acc[0][p]) : acc[0][p],
             cols - p * kPanel);
  }
}

// y[0, n) += Σ x[k] · row k over the listed inputs, whole rows of W (row
// stride ldw floats) streamed in order, R rows per sweep of y (y stays in L1;
// R rows per load and store of y).
template <int R>
HOTPATH_AVX512 void GemvRows512(const float* x, const int32_t* nz, size_t count, const float* w,
                                size_t ldw, float* y, int64_t n) {
  size_t i = 0;
  for (; i + R <= count; i += R) {
    __m512 xv[R];
    const float* row[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      xv[r] = _mm512_set1_ps(x[nz[i + r]]);
      row[r] = w + static_cast<size_t>(nz[i + r]) * ldw;
    }
    int64_t j = 0;
    for (; j + kPanel <= n; j += kPanel) {
      __m512 acc = _mm512_loadu_ps(y + j);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc = _mm512_fmadd_ps(xv[r], _mm512_load_ps(row[r] + j), acc);
      _mm512_storeu_ps(y + j, acc);
    }
    if (j < n) {
      const __mmask16 m = Lanes(n - j);
      __m512 acc = _mm512_maskz_loadu_ps(m, y + j);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc = _mm512_fmadd_ps(xv[r], _mm512_load_ps(row[r] + j), acc);
      _mm512_mask_storeu_ps(y + j, m, acc);
    }
  }
  if (i < count) GemvRows512<1>(x, nz + i, count - i, w, ldw, y, n);
}

// y[0, n) = act(y[0, n)) for the register activations (the others are left
// to FinishActivation).
HOTPATH_AVX512 void Act512InPlace(const ActivationSpec& act, float* y, int64_t n) {
  for (int64_t j = 0; j < n; j += kPanel) {
    const __mmask16 m = Lanes(n - j);
    _mm512_mask_storeu_ps(y + j, m, Act512(act, _mm512_maskz_loadu_ps(m, y + j)));
  }
}

// Layers up to kRowBlock columns: the panels of each listed row in zmm
// accumulators, one pass over the inputs per group of panels.
HOTPATH_AVX512 void GemvNarrow512(const float* x, const int32_t* nz, size_t count,
                                  const PackedWeights& w, const float* init,
                                  const ActivationSpec* last, float* y) {
  const int64_t width = w.panels * kPanel;
  const size_t ldw = static_cast<size_t>(width);
  for (int64_t c = 0; c < width;) {
    const int64_t left = width - c, cols = w.n - c;
    const float* block = w.rows.data() + c;
    if (left >= 16 * kPanel) {
      GemvBlock512<16>(x, nz, count, block, ldw, init + c, last, y + c, cols);
      c += 16 * kPanel;
    } else if (left >= 8 * kPanel) {
      GemvBlock512<8>(x, nz, count, block, ldw, init + c, last, y + c, cols);
      c += 8 * kPanel;
    } else if (left >= 4 * kPanel) {
      GemvBlock512<4>(x, nz, count, block, ldw, init + c, last, y + c, cols);
      c += 4 * kPanel;
    } else if (left >= 2 * kPanel) {
      GemvBlock512<2>(x, nz, count, block, ldw, init + c, last, y + c, cols);
      c += 2 * kPanel;
    } else {
      GemvBlock512<1>(x, nz, count, block, ldw, init + c, last, y + c, cols);
      c += kPanel;
    }
  }
}

// One row: per pass of up to kGemvChunk inputs, list the non-zero ones once,
// then read their rows of W. Narrow layers keep y in registers; wider ones
// start y from the bias and stream each listed row whole into it, the
// activation applied after the last pass.
HOTPATH_AVX512 void Gemv512(const float* x, const PackedWeights& w, const ActivationSpec& act,
                            float* y) {
  int32_t nz[kGemvChunk + kPanel];
  const bool narrow = w.panels * kPanel <= kRowBlock;
  if (!narrow) std::copy_n(w.bias.data(), w.n, y);
  for (int64_t k0 = 0; k0 < w.k; k0 += kGemvChunk) {
    const int64_t k1 = std::min(w.k, k0 + kGemvChunk);
    const size_t count = NonZeroInputs(x, k0, k1, !w.finite, nz);
    const ActivationSpec* last = k1 == w.k ? &act : nullptr;
    if (narrow) {
      GemvNarrow512(x, nz, count, w, k0 == 0 ? w.bias.data() : y, last, y);
    } else {
      GemvRows512<kGemvRowsPerSweep>(x, nz, count, w.rows.data(),
                                     static_cast<size_t>(w.panels * kPanel), y, w.n);
    }
  }
  if (!narrow && IsRegisterActivation(act.kind)) Act512InPlace(act, y, w.n);
}

HOTPATH_AVX512 void Gemm512(const float* x, size_t ldx, size_t rows, const PackedWeights& w,
                            const ActivationSpec& act, float* y, size_t ldy) {
  int64_t p = 0;
  if (rows == 1) {
    Gemv512(x, w, act, y);
  } else {
    for (; p + 2 <= w.panels; p += 2) Rows512<2>(x, ldx, rows, w, p, act, y, ldy);
    if (p < w.panels) Rows512<1>(x, ldx, rows, w, p, act, y, ldy);
  }
  FinishActivation(act, y, ldy, rows, w.n);
}

// ---------------------------------------------------------------- AVX2
// MR rows × one panel (two ymm halves).
template <int MR>
HOTPATH_AVX2 void Tile256(const float* x, size_t ldx, const PackedWeights& w, int64_t p,
                          const ActivationSpec& act, float* y, size_t ldy) {
  const int64_t K = w.k;
  const float* panel = w.data.data() + p * K * kPanel;
  __m256 lo[MR], hi[MR];
  const __m256 blo = _mm256_load_ps(w.bias.data() + p * kPanel);
  const __m256 bhi = _mm256_load_ps(w.bias.data() + p * kPanel + 8);
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) lo[r] = blo, hi[r] = bhi;
  for (int64_t k = 0; k < K; ++k) {
    const __m256 w0 = _mm256_load_ps(panel + k * kPanel);
    const __m256 w1 = _mm256_load_ps(panel + k * kPanel + 8);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m256 xb = _mm256_broadcast_ss(x + r * ldx + k);
      lo[r] = _mm256_fmadd_ps(xb, w0, lo[r]);
      hi[r] = _mm256_fmadd_ps(xb, w1, hi[r]);
    }
  }
  const int64_t cols = w.n - p * kPanel;
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    Store256(y + r * ldy + p * kPanel, Act256(act, lo[r]), cols);
    Store256(y + r * ldy + p * kPanel + 8, Act256(act, hi[r]), cols - 8);
  }
}

HOTPATH_AVX2 void Gemm256(const float* x, size_t ldx, size_t rows, const PackedWeights& w,
                          const ActivationSpec& act, float* y, size_t ldy) {
  for (int64_t p = 0; p < w.panels; ++p) {
    size_t r = 0;
    for (; r + 6 <= rows; r += 6) Tile256<6>(x + r * ldx, ldx, w, p, act, y + r * ldy, ldy);
    for (; r + 2 <= rows; r += 2) Tile256<2>(x + r * ldx, ldx, w, p, act, y + r * ldy, ldy);
    if (r < rows) Tile256<1>(x + r * ldx, ldx, w, p, act, y + r * ldy, ldy);
  }
  FinishActivation(act, y, ldy, rows, w.n);
}

}  // namespace

bool IsRegisterActivation(Activation kind) {
  return kind == Activation::kNone || kind == Activation::kRelu || kind == Activation::kLeakyRelu ||
         kind == Activation::kClip;
}

void FinishActivation(const ActivationSpec& act, float* y, size_t ldy, size_t rows, int64_t n) {
  if (IsRegisterActivation(act.kind)) return;
  for (size_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < n; ++j) y[r * ldy + j] = ApplyActivation(act, y[r * ldy + j]);
  }
}

PackedWeights PackWeights(const float* w, const float* bias, int64_t k, int64_t n, Isa isa) {
  PackedWeights p;
  p.k = k;
  p.n = n;
  p.panels = (n + kPanel - 1) / kPanel;
  p.data = AlignedArray<float>(static_cast<size_t>(p.panels * k * kPanel));
  p.bias = AlignedArray<float>(static_cast<size_t>(p.panels * kPanel));
  const bool rows = isa == Isa::kAvx512 || isa == Isa::kAvx512Vnni;
  if (rows) p.rows = AlignedArray<float>(p.data.size());
  for (int64_t j = 0; j < n; ++j) {
    const int64_t panel = j / kPanel, lane = j % kPanel;
    p.bias[j] = bias[j];
    for (int64_t i = 0; i < k; ++i) {
      p.data[(panel * k + i) * kPanel + lane] = w[i * n + j];
      if (rows) p.rows[i * p.panels * kPanel + j] = w[i * n + j];
      p.finite = p.finite && std::isfinite(w[i * n + j]);
    }
  }
  return p;
}

GemmFn SelectGemm(Isa isa) {
  switch (isa) {
    case Isa::kAvx512:
    case Isa::kAvx512Vnni:
      return Gemm512;
    case Isa::kAvx2:
      return Gemm256;
    case Isa::kScalar:
      return GemmScalar;
  }
  return GemmScalar;
}

}  // namespace hotpath::dense::internal
