// Shared SIMD pieces of the dense kernels: target attributes and the
// in-register activation and masked-store epilogues.
#ifndef HOTPATH_RUNTIME_DENSE_INTERNAL_SIMD_H_
#define HOTPATH_RUNTIME_DENSE_INTERNAL_SIMD_H_

#include <immintrin.h>

#include <cstdint>

#include "runtime/dense/graph.h"
#include "runtime/dense/internal/gemm.h"

// GCC 12's AVX-512 headers initialise pass-through operands as `__Y = __Y`
// and then warn about them when inlined (GCC bug 105593, fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#define HOTPATH_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")))
#define HOTPATH_AVX512VNNI \
  __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx512vnni,avx2,fma")))
#define HOTPATH_AVX2 __attribute__((target("avx2,fma")))

namespace hotpath::dense::internal {

// ---------------------------------------------------------------- AVX-512
HOTPATH_AVX512 inline __m512 Act512(const ActivationSpec& act, __m512 v) {
  switch (act.kind) {
    case Activation::kRelu:
      return _mm512_max_ps(v, _mm512_setzero_ps());
    case Activation::kLeakyRelu: {
      const __mmask16 neg = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
      return _mm512_mask_mul_ps(v, neg, v, _mm512_set1_ps(act.alpha));
    }
    case Activation::kClip:
      return _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(act.alpha)), _mm512_set1_ps(act.beta));
    default:
      return v;
  }
}

HOTPATH_AVX512 inline void Store512(float* dst, __m512 v, int64_t cols) {
  if (cols >= kPanel) {
    _mm512_storeu_ps(dst, v);
  } else if (cols > 0) {
    _mm512_mask_storeu_ps(dst, static_cast<__mmask16>((1u << cols) - 1), v);
  }
}

HOTPATH_AVX2 inline __m256 Act256(const ActivationSpec& act, __m256 v) {
  switch (act.kind) {
    case Activation::kRelu:
      return _mm256_max_ps(v, _mm256_setzero_ps());
    case Activation::kLeakyRelu: {
      const __m256 neg = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
      return _mm256_blendv_ps(v, _mm256_mul_ps(v, _mm256_set1_ps(act.alpha)), neg);
    }
    case Activation::kClip:
      return _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(act.alpha)), _mm256_set1_ps(act.beta));
    default:
      return v;
  }
}

HOTPATH_AVX2 inline void Store256(float* dst, __m256 v, int64_t cols) {
  if (cols >= 8) {
    _mm256_storeu_ps(dst, v);
  } else if (cols > 0) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    _mm256_maskstore_ps(dst, _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(cols)), lane),
                        v);
  }
}

}  // namespace hotpath::dense::internal

#endif  // HOTPATH_RUNTIME_DENSE_INTERNAL_SIMD_H_
