// fp32 dense-layer kernels: y = act(x · W + b) over pre-packed weights.
//
// W [k, n] is packed at load into panels of kPanel columns, each panel stored
// k-major (panel[k][16]), zero-padded to whole panels; the bias is padded the
// same way. This layout serves every ISA at every batch size, except the
// AVX-512 batch-1 path (GEMV), which reads a second, row-major copy: a layer's
// input that is zero (half of a ReLU layer's, typically) then skips one
// contiguous row of W, and every other row is read whole, in order. The
// kernels never allocate.
#ifndef HOTPATH_RUNTIME_DENSE_INTERNAL_GEMM_H_
#define HOTPATH_RUNTIME_DENSE_INTERNAL_GEMM_H_

#include <cstddef>
#include <cstdint>

#include "runtime/dense/cpu.h"
#include "runtime/dense/graph.h"
#include "runtime/dense/internal/aligned.h"

namespace hotpath::dense::internal {

constexpr int64_t kPanel = 16;
// The widest layer whose batch-1 output stays in registers (16 panels: 16 zmm
// accumulators); wider layers accumulate y in memory (L1), 4 rows of W at a time.
constexpr int64_t kRowBlock = 256;

struct PackedWeights {
  int64_t k = 0;
  int64_t n = 0;
  int64_t panels = 0;        // ceil(n / kPanel)
  AlignedArray<float> data;  // [panels][k][kPanel]
  AlignedArray<float> bias;  // [panels * kPanel]
  // The batch-1 copy, AVX-512 only (empty otherwise): row-major, row i (the
  // weights of input i) is panels * kPanel contiguous floats, 64-byte aligned
  // ([k][panels * kPanel]). Zero-padded like `data`.
  AlignedArray<float> rows;
  // Every weight is finite. Only then may the GEMV skip the rows of zero
  // inputs (0 · inf and 0 · NaN are NaN, not 0).
  bool finite = true;
};

// Packs row-major `w` [k, n] and `bias` [n] for the kernels of `isa`.
PackedWeights PackWeights(const float* w, const float* bias, int64_t k, int64_t n, Isa isa);

// y[rows, n] (row stride ldy) = act(x[rows, k] (row stride ldx) · W + b).
// Rows == 1 takes the GEMV path (AVX-512: reads `w.rows`, skipping the rows
// of W whose input is 0 when `w.finite`; per-call stack scratch only; wider
// layers than kRowBlock accumulate in y itself, so x must not alias y).
// Thread-safe (reads `w` only). REQUIRES: `w` packed for the same ISA.
using GemmFn = void (*)(const float* x, size_t ldx, size_t rows, const PackedWeights& w,
                        const ActivationSpec& act, float* y, size_t ldy);

// The kernel for `isa` (kAvx512Vnni selects the AVX-512 kernel).
// REQUIRES: IsaSupported(isa).
GemmFn SelectGemm(Isa isa);

// Activations the kernels apply in registers; the others are applied by
// FinishActivation after the tile is stored.
bool IsRegisterActivation(Activation kind);
void FinishActivation(const ActivationSpec& act, float* y, size_t ldy, size_t rows, int64_t n);

}  // namespace hotpath::dense::internal

#endif  // HOTPATH_RUNTIME_DENSE_INTERNAL_GEMM_H_
