// int8 dense-layer kernels: y = act(dequant(xq · Wq) + b).
//
// Weights are symmetric per output column (|q| <= 127), packed into panels of
// kPanel columns with k grouped by four ([panel][k/4][16][4], 64 bytes per
// group: one zmm). Activations are quantised per row (dynamic) or with one
// calibrated scale, |q| <= 127.
//  - AVX-512 VNNI: vpdpbusd multiplies u8 by s8, so rows are stored as q + 128
//    and 128 * colsum(Wq) is subtracted; sums of four products go straight to
//    int32, so nothing saturates.
//  - AVX2: vpmaddubsw saturates its int16 pair sums (255 * 127 * 2 > 32767),
//    so it multiplies |q| by sign-adjusted weights: pairs <= 2 * 127 * 127.
//  - Scalar: int32 multiply-adds.
// All three produce the same int32 sums, hence identical outputs.
#ifndef HOTPATH_RUNTIME_DENSE_INTERNAL_QGEMM_H_
#define HOTPATH_RUNTIME_DENSE_INTERNAL_QGEMM_H_

#include <cstddef>
#include <cstdint>

#include "runtime/dense/cpu.h"
#include "runtime/dense/graph.h"
#include "runtime/dense/internal/aligned.h"
#include "runtime/dense/internal/gemm.h"

namespace hotpath::dense::internal {

struct PackedQWeights {
  int64_t k = 0;
  int64_t kpad = 0;  // k rounded up to a multiple of 4
  int64_t n = 0;
  int64_t panels = 0;            // ceil(n / kPanel)
  AlignedArray<int8_t> data;     // [panels][kpad / 4][kPanel][4]
  AlignedArray<int32_t> colsum;  // [panels * kPanel]: sum over k of q
  AlignedArray<float> scale;     // [panels * kPanel]
  AlignedArray<float> bias;      // [panels * kPanel]
};

// Packs row-major q [k, n] with per-column `scale` [n] and `bias` [n].
PackedQWeights PackQWeights(const int8_t* q, const float* scale, const float* bias, int64_t k,
                            int64_t n);

// Quantises x [rows, k] to q [rows, kpad] (row stride ldq, padded with the
// code of 0): q = round_half_even(clamp(x / s, -127, 127)), NaN -> 0, with
// s = fixed_scale, or max|row| / 127 when fixed_scale is 0; adds 128 when
// `offset128`. Writes s per row. Every ISA's version gives the same bytes.
using QuantizeFn = void (*)(const float* x, size_t ldx, size_t rows, int64_t k, int64_t kpad,
                            float fixed_scale, bool offset128, uint8_t* q, size_t ldq,
                            float* row_scale);
// The portable version.
void QuantizeRows(const float* x, size_t ldx, size_t rows, int64_t k, int64_t kpad,
                  float fixed_scale, bool offset128, uint8_t* q, size_t ldq, float* row_scale);

using QGemmFn = void (*)(const uint8_t* q, size_t ldq, const float* row_scale, size_t rows,
                         const PackedQWeights& w, const ActivationSpec& act, float* y, size_t ldy);

struct QKernel {
  QGemmFn fn = nullptr;
  QuantizeFn quantize = nullptr;
  bool offset128 = false;  // the rows must be quantised with offset128
};

// REQUIRES: IsaSupported(isa). kAvx512 (no VNNI) uses the AVX2 kernel.
QKernel SelectQGemm(Isa isa);

}  // namespace hotpath::dense::internal

#endif  // HOTPATH_RUNTIME_DENSE_INTERNAL_QGEMM_H_
