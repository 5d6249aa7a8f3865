#include "runtime/dense/internal/gemm.h"

#include <algorithm>

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

// One row: NP panels, two interleaved k-chains per panel to hide FMA latency.
template <int NP>
HOTPATH_AVX512 void Gemv512Panels(const float* x, const PackedWeights& w, int64_t p0,
                                  const ActivationSpec& act, float* y) {
  const int64_t K = w.k;
  const float* panel = w.data.data() + p0 * K * kPanel;
  __m512 a0[NP], a1[NP];
#pragma GCC unroll 4
  for (int p = 0; p < NP; ++p) {
    a0[p] = _mm512_load_ps(w.bias.data() + (p0 + p) * kPanel);
    a1[p] = _mm512_setzero_ps();
  }
  int64_t k = 0;
  for (; k + 2 <= K; k += 2) {
    const __m512 x0 = _mm512_set1_ps(x[k]);
    const __m512 x1 = _mm512_set1_ps(x[k + 1]);
#pragma GCC unroll 4
    for (int p = 0; p < NP; ++p) {
      a0[p] = _mm512_fmadd_ps(x0, _mm512_load_ps(panel + (p * K + k) * kPanel), a0[p]);
      a1[p] = _mm512_fmadd_ps(x1, _mm512_load_ps(panel + (p * K + k + 1) * kPanel), a1[p]);
    }
  }
  if (k < K) {
    const __m512 x0 = _mm512_set1_ps(x[k]);
#pragma GCC unroll 4
    for (int p = 0; p < NP; ++p) {
      a0[p] = _mm512_fmadd_ps(x0, _mm512_load_ps(panel + (p * K + k) * kPanel), a0[p]);
    }
  }
#pragma GCC unroll 4
  for (int p = 0; p < NP; ++p) {
    Store512(y + (p0 + p) * kPanel, Act512(act, _mm512_add_ps(a0[p], a1[p])),
             w.n - (p0 + p) * kPanel);
  }
}

HOTPATH_AVX512 void Gemm512(const float* x, size_t ldx, size_t rows, const PackedWeights& w,
                            const ActivationSpec& act, float* y, size_t ldy) {
  int64_t p = 0;
  if (rows == 1) {
    for (; p + 4 <= w.panels; p += 4) Gemv512Panels<4>(x, w, p, act, y);
    for (; p < w.panels; ++p) Gemv512Panels<1>(x, w, p, act, y);
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

PackedWeights PackWeights(const float* w, const float* bias, int64_t k, int64_t n) {
  PackedWeights p;
  p.k = k;
  p.n = n;
  p.panels = (n + kPanel - 1) / kPanel;
  p.data = AlignedArray<float>(static_cast<size_t>(p.panels * k * kPanel));
  p.bias = AlignedArray<float>(static_cast<size_t>(p.panels * kPanel));
  for (int64_t j = 0; j < n; ++j) {
    const int64_t panel = j / kPanel, lane = j % kPanel;
    p.bias[j] = bias[j];
    for (int64_t i = 0; i < k; ++i) p.data[(panel * k + i) * kPanel + lane] = w[i * n + j];
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
