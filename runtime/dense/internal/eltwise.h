// Row-wise and elementwise steps of the dense engine (everything but the
// matrix products). Matrices are row-major with explicit row strides.
#ifndef HOTPATH_RUNTIME_DENSE_INTERNAL_ELTWISE_H_
#define HOTPATH_RUNTIME_DENSE_INTERNAL_ELTWISE_H_

#include <cstddef>
#include <cstdint>

#include "runtime/dense/graph.h"

namespace hotpath::dense::internal {

struct MatrixRef {
  float* data;
  size_t ld;  // row stride in floats
};
struct ConstMatrixRef {
  const float* data;
  size_t ld;
};

// y = x * scale + shift per column; scale, shift [width].
void AffineRows(ConstMatrixRef x, size_t rows, int64_t width, const float* scale,
                const float* shift, MatrixRef y);
void ActivationRows(const ActivationSpec& act, ConstMatrixRef x, size_t rows, int64_t width,
                    MatrixRef y);
void BinaryRows(BinaryOp op, ConstMatrixRef a, ConstMatrixRef b, size_t rows, int64_t width,
                MatrixRef y);
// Copies x into columns [col, col + width) of y.
void CopyColumns(ConstMatrixRef x, size_t rows, int64_t width, MatrixRef y, int64_t col);
void SoftmaxRows(ConstMatrixRef x, size_t rows, int64_t width, MatrixRef y);
// MAX divides by the row's largest value (as onnxruntime), L1 by sum |x|, L2
// by sqrt(sum x^2); a zero norm leaves the row unchanged.
void NormalizeRows(NormKind norm, ConstMatrixRef x, size_t rows, int64_t width, MatrixRef y);

}  // namespace hotpath::dense::internal

#endif  // HOTPATH_RUNTIME_DENSE_INTERNAL_ELTWISE_H_
