// fp32 dense-layer kernels: y = act(x · W + b) over pre-packed weights.
//
// W [k, n] is packed at load into panels of kPanel columns, each panel stored
// k-major (panel[k][16]), zero-padded to whole panels; the bias is padded the
// same way. One layout serves every ISA. The kernels never allocate.
#ifndef HOTPATH_RUNTIME_DENSE_INTERNAL_GEMM_H_
#define HOTPATH_RUNTIME_DENSE_INTERNAL_GEMM_H_

#include <cstddef>
#include <cstdint>

#include "runtime/dense/cpu.h"
#include "runtime/dense/graph.h"
#include "runtime/dense/internal/aligned.h"

namespace hotpath::dense::internal {

constexpr int64_t kPanel = 16;

struct PackedWeights {
  int64_t k = 0;
  int64_t n = 0;
  int64_t panels = 0;        // ceil(n / kPanel)
  AlignedArray<float> data;  // [panels][k][kPanel]
  AlignedArray<float> bias;  // [panels * kPanel]
};

// Packs row-major `w` [k, n] and `bias` [n].
PackedWeights PackWeights(const float* w, const float* bias, int64_t k, int64_t n);

// y[rows, n] (row stride ldy) = act(x[rows, k] (row stride ldx) · W + b).
// Rows == 1 takes the GEMV path. Thread-safe (reads `w` only).
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
