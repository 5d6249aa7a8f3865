#include "runtime/dense/internal/qgemm.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "runtime/dense/internal/simd.h"

namespace hotpath::dense::internal {
namespace {

inline int32_t Load4(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// ---------------------------------------------------------------- scalar
void QGemmScalar(const uint8_t* q, size_t ldq, const float* row_scale, size_t rows,
                 const PackedQWeights& w, const ActivationSpec& act, float* y, size_t ldy) {
  for (size_t r = 0; r < rows; ++r) {
    const int8_t* xr = reinterpret_cast<const int8_t*>(q + r * ldq);
    for (int64_t j = 0; j < w.n; ++j) {
      const int64_t p = j / kPanel, lane = j % kPanel;
      const int8_t* panel = w.data.data() + p * w.kpad * kPanel;
      int32_t acc = 0;
      for (int64_t k = 0; k < w.kpad; ++k) {
        acc += int32_t{xr[k]} * panel[(k / 4 * kPanel + lane) * 4 + k % 4];
      }
      const float v = static_cast<float>(acc) * (row_scale[r] * w.scale[j]) + w.bias[j];
      y[r * ldy + j] = ApplyActivation(act, v);
    }
  }
}

// ---------------------------------------------------------------- AVX-512 VNNI
// acc += x (u8) · w (s8), in place. Written as asm because GCC 12 copies the
// accumulator around the vpdpbusd builtin (and spills) inside the tile loop.
HOTPATH_AVX512VNNI inline void Dpbusd(__m512i& acc, __m512i x, __m512i w) {
  __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(x), "v"(w));
}

template <int MR, int NP>
HOTPATH_AVX512VNNI void TileVnni(const uint8_t* q, size_t ldq, const float* row_scale,
                                 const PackedQWeights& w, int64_t p0, const ActivationSpec& act,
                                 float* y, size_t ldy) {
  const int64_t groups = w.kpad / 4;
  const int8_t* panel = w.data.data() + p0 * w.kpad * kPanel;
  __m512i acc[MR][NP];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (int p = 0; p < NP; ++p) acc[r][p] = _mm512_setzero_si512();
  }
  for (int64_t g = 0; g < groups; ++g) {
    __m512i wv[NP];
#pragma GCC unroll 4
    for (int p = 0; p < NP; ++p) wv[p] = _mm512_load_si512(panel + (p * groups + g) * 64);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m512i xb = _mm512_set1_epi32(Load4(q + r * ldq + 4 * g));
#pragma GCC unroll 4
      for (int p = 0; p < NP; ++p) Dpbusd(acc[r][p], xb, wv[p]);
    }
  }
#pragma GCC unroll 4
  for (int p = 0; p < NP; ++p) {
    const int64_t c = (p0 + p) * kPanel;
    const __m512i comp = _mm512_slli_epi32(_mm512_load_si512(w.colsum.data() + c), 7);
    const __m512 scale = _mm512_load_ps(w.scale.data() + c);
    const __m512 bias = _mm512_load_ps(w.bias.data() + c);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m512 s = _mm512_mul_ps(_mm512_set1_ps(row_scale[r]), scale);
      const __m512 v = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r][p], comp));
      Store512(y + r * ldy + c, Act512(act, _mm512_fmadd_ps(v, s, bias)), w.n - c);
    }
  }
}

template <int NP>
HOTPATH_AVX512VNNI void RowsVnni(const uint8_t* q, size_t ldq, const float* rs, size_t rows,
                                 const PackedQWeights& w, int64_t p0, const ActivationSpec& act,
                                 float* y, size_t ldy) {
  size_t r = 0;
  for (; r + 8 <= rows; r += 8)
    TileVnni<8, NP>(q + r * ldq, ldq, rs + r, w, p0, act, y + r * ldy, ldy);
  for (; r + 2 <= rows; r += 2)
    TileVnni<2, NP>(q + r * ldq, ldq, rs + r, w, p0, act, y + r * ldy, ldy);
  if (r < rows) TileVnni<1, NP>(q + r * ldq, ldq, rs + r, w, p0, act, y + r * ldy, ldy);
}

HOTPATH_AVX512VNNI void QGemmVnni(const uint8_t* q, size_t ldq, const float* row_scale, size_t rows,
                                  const PackedQWeights& w, const ActivationSpec& act, float* y,
                                  size_t ldy) {
  int64_t p = 0;
  if (rows == 1) {
    for (; p + 4 <= w.panels; p += 4) TileVnni<1, 4>(q, ldq, row_scale, w, p, act, y, ldy);
  } else {
    for (; p + 2 <= w.panels; p += 2) RowsVnni<2>(q, ldq, row_scale, rows, w, p, act, y, ldy);
  }
  for (; p < w.panels; ++p) RowsVnni<1>(q, ldq, row_scale, rows, w, p, act, y, ldy);
  FinishActivation(act, y, ldy, rows, w.n);
}

// ---------------------------------------------------------------- AVX2
// |x| (u8 <= 127) times sign(x)·w (s8): int16 pair sums stay <= 32258.
HOTPATH_AVX2 inline __m256i DotSigned(__m256i acc, __m256i xb, __m256i wv) {
  const __m256i pairs = _mm256_maddubs_epi16(_mm256_abs_epi8(xb), _mm256_sign_epi8(wv, xb));
  return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
}

template <int MR>
HOTPATH_AVX2 void TileAvx2(const uint8_t* q, size_t ldq, const float* row_scale,
                           const PackedQWeights& w, int64_t p, const ActivationSpec& act, float* y,
                           size_t ldy) {
  const int64_t groups = w.kpad / 4;
  const int8_t* panel = w.data.data() + p * w.kpad * kPanel;
  __m256i lo[MR], hi[MR];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) lo[r] = hi[r] = _mm256_setzero_si256();
  for (int64_t g = 0; g < groups; ++g) {
    const __m256i w0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(panel + g * 64));
    const __m256i w1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(panel + g * 64 + 32));
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m256i xb = _mm256_set1_epi32(Load4(q + r * ldq + 4 * g));
      lo[r] = DotSigned(lo[r], xb, w0);
      hi[r] = DotSigned(hi[r], xb, w1);
    }
  }
  const int64_t c = p * kPanel;
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    const __m256 rs = _mm256_set1_ps(row_scale[r]);
    for (int64_t h = 0; h < 2; ++h) {
      const __m256 s = _mm256_mul_ps(rs, _mm256_load_ps(w.scale.data() + c + 8 * h));
      const __m256 v = _mm256_cvtepi32_ps(h == 0 ? lo[r] : hi[r]);
      const __m256 o = _mm256_fmadd_ps(v, s, _mm256_load_ps(w.bias.data() + c + 8 * h));
      Store256(y + r * ldy + c + 8 * h, Act256(act, o), w.n - c - 8 * h);
    }
  }
}

HOTPATH_AVX2 void QGemmAvx2(const uint8_t* q, size_t ldq, const float* row_scale, size_t rows,
                            const PackedQWeights& w, const ActivationSpec& act, float* y,
                            size_t ldy) {
  for (int64_t p = 0; p < w.panels; ++p) {
    size_t r = 0;
    for (; r + 4 <= rows; r += 4) {
      TileAvx2<4>(q + r * ldq, ldq, row_scale + r, w, p, act, y + r * ldy, ldy);
    }
    for (; r < rows; ++r) TileAvx2<1>(q + r * ldq, ldq, row_scale + r, w, p, act, y + r * ldy, ldy);
  }
  FinishActivation(act, y, ldy, rows, w.n);
}

// ---------------------------------------------------------------- quantisation
// Rounds half to even like the SIMD conversion (valid for |v| <= 2^22); NaN
// becomes 0, everything is clamped to ±127 before rounding.
inline int RoundClamp(float v) {
  v = v == v ? std::clamp(v, -127.0f, 127.0f) : 0.0f;
  return static_cast<int>((v + 12582912.0f) - 12582912.0f);
}

float RowScale(const float* xr, int64_t k, float fixed_scale) {
  if (fixed_scale != 0) return fixed_scale;
  float m = 0;
  for (int64_t i = 0; i < k; ++i) m = std::max(m, std::fabs(xr[i]));
  return m / 127.0f;
}

void QuantizeScalar(const float* x, size_t ldx, size_t rows, int64_t k, int64_t kpad,
                    float fixed_scale, bool offset128, uint8_t* q, size_t ldq, float* row_scale) {
  const int offset = offset128 ? 128 : 0;
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * ldx;
    const float s = RowScale(xr, k, fixed_scale);
    const float inv = s > 0 ? 1.0f / s : 0.0f;
    uint8_t* qr = q + r * ldq;
    for (int64_t i = 0; i < k; ++i) qr[i] = static_cast<uint8_t>(RoundClamp(xr[i] * inv) + offset);
    for (int64_t i = k; i < kpad; ++i) qr[i] = static_cast<uint8_t>(offset);
    row_scale[r] = s;
  }
}

HOTPATH_AVX512 float RowScale512(const float* xr, int64_t k, float fixed_scale) {
  if (fixed_scale != 0) return fixed_scale;
  __m512 m = _mm512_setzero_ps();
  for (int64_t i = 0; i < k; i += 16) {
    const __mmask16 mask = k - i >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << (k - i)) - 1);
    // abs(x) first: a NaN operand makes max return the second (the running max).
    m = _mm512_max_ps(_mm512_abs_ps(_mm512_maskz_loadu_ps(mask, xr + i)), m);
  }
  return _mm512_reduce_max_ps(m) / 127.0f;
}

HOTPATH_AVX512 void Quantize512(const float* x, size_t ldx, size_t rows, int64_t k, int64_t kpad,
                                float fixed_scale, bool offset128, uint8_t* q, size_t ldq,
                                float* row_scale) {
  const __m512i offset = _mm512_set1_epi32(offset128 ? 128 : 0);
  const __m512 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * ldx;
    const float s = RowScale512(xr, k, fixed_scale);
    const __m512 inv = _mm512_set1_ps(s > 0 ? 1.0f / s : 0.0f);
    uint8_t* qr = q + r * ldq;
    for (int64_t i = 0; i < kpad; i += 16) {
      const int64_t left = k - i;
      const __mmask16 load = left >= 16 ? 0xFFFF
                             : left > 0 ? static_cast<__mmask16>((1u << left) - 1)
                                        : 0;
      const __mmask16 store =
          kpad - i >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << (kpad - i)) - 1);
      __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(load, xr + i), inv);
      v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), v);  // NaN -> 0
      v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
      const __m512i iv = _mm512_add_epi32(_mm512_cvtps_epi32(v), offset);
      _mm512_mask_cvtepi32_storeu_epi8(qr + i, store, iv);
    }
    row_scale[r] = s;
  }
}

}  // namespace

void QuantizeRows(const float* x, size_t ldx, size_t rows, int64_t k, int64_t kpad,
                  float fixed_scale, bool offset128, uint8_t* q, size_t ldq, float* row_scale) {
  QuantizeScalar(x, ldx, rows, k, kpad, fixed_scale, offset128, q, ldq, row_scale);
}

PackedQWeights PackQWeights(const int8_t* q, const float* scale, const float* bias, int64_t k,
                            int64_t n) {
  PackedQWeights p;
  p.k = k;
  p.kpad = (k + 3) / 4 * 4;
  p.n = n;
  p.panels = (n + kPanel - 1) / kPanel;
  p.data = AlignedArray<int8_t>(static_cast<size_t>(p.panels * p.kpad * kPanel));
  p.colsum = AlignedArray<int32_t>(static_cast<size_t>(p.panels * kPanel));
  p.scale = AlignedArray<float>(static_cast<size_t>(p.panels * kPanel));
  p.bias = AlignedArray<float>(static_cast<size_t>(p.panels * kPanel));
  for (int64_t j = 0; j < n; ++j) {
    const int64_t panel = j / kPanel, lane = j % kPanel;
    p.scale[j] = scale[j];
    p.bias[j] = bias[j];
    for (int64_t i = 0; i < k; ++i) {
      const int8_t v = q[i * n + j];
      p.data[panel * p.kpad * kPanel + (i / 4 * kPanel + lane) * 4 + i % 4] = v;
      p.colsum[j] += v;
    }
  }
  return p;
}

QKernel SelectQGemm(Isa isa) {
  switch (isa) {
    case Isa::kAvx512Vnni:
      return {QGemmVnni, Quantize512, true};
    case Isa::kAvx512:
      return {QGemmAvx2, Quantize512, false};
    case Isa::kAvx2:
      return {QGemmAvx2, QuantizeScalar, false};
    case Isa::kScalar:
      return {QGemmScalar, QuantizeScalar, false};
  }
  return {QGemmScalar, QuantizeScalar, false};
}

}  // namespace hotpath::dense::internal
