#include "runtime/dense/internal/eltwise.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace hotpath::dense::internal {

void AffineRows(ConstMatrixRef x, size_t rows, int64_t width, const float* scale,
                const float* shift, MatrixRef y) {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x.data + r * x.ld;
    float* yr = y.data + r * y.ld;
    for (int64_t j = 0; j < width; ++j) yr[j] = xr[j] * scale[j] + shift[j];
  }
}

void ActivationRows(const ActivationSpec& act, ConstMatrixRef x, size_t rows, int64_t width,
                    MatrixRef y) {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x.data + r * x.ld;
    float* yr = y.data + r * y.ld;
    for (int64_t j = 0; j < width; ++j) yr[j] = ApplyActivation(act, xr[j]);
  }
}

namespace {
template <typename Op>
void Binary(ConstMatrixRef a, ConstMatrixRef b, size_t rows, int64_t width, MatrixRef y, Op op) {
  for (size_t r = 0; r < rows; ++r) {
    const float* ar = a.data + r * a.ld;
    const float* br = b.data + r * b.ld;
    float* yr = y.data + r * y.ld;
    for (int64_t j = 0; j < width; ++j) yr[j] = op(ar[j], br[j]);
  }
}
}  // namespace

void BinaryRows(BinaryOp op, ConstMatrixRef a, ConstMatrixRef b, size_t rows, int64_t width,
                MatrixRef y) {
  switch (op) {
    case BinaryOp::kAdd:
      return Binary(a, b, rows, width, y, [](float u, float v) { return u + v; });
    case BinaryOp::kSub:
      return Binary(a, b, rows, width, y, [](float u, float v) { return u - v; });
    case BinaryOp::kMul:
      return Binary(a, b, rows, width, y, [](float u, float v) { return u * v; });
    case BinaryOp::kDiv:
      return Binary(a, b, rows, width, y, [](float u, float v) { return u / v; });
  }
}

void CopyColumns(ConstMatrixRef x, size_t rows, int64_t width, MatrixRef y, int64_t col) {
  for (size_t r = 0; r < rows; ++r) {
    std::memmove(y.data + r * y.ld + col, x.data + r * x.ld, sizeof(float) * width);
  }
}

void SoftmaxRows(ConstMatrixRef x, size_t rows, int64_t width, MatrixRef y) {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x.data + r * x.ld;
    float* yr = y.data + r * y.ld;
    const float m = *std::max_element(xr, xr + width);
    float sum = 0;
    for (int64_t j = 0; j < width; ++j) sum += (yr[j] = std::exp(xr[j] - m));
    const float inv = 1.0f / sum;
    for (int64_t j = 0; j < width; ++j) yr[j] *= inv;
  }
}

namespace {
float RowNorm(NormKind norm, const float* xr, int64_t width) {
  float acc = norm == NormKind::kMax ? -std::numeric_limits<float>::infinity() : 0.0f;
  for (int64_t j = 0; j < width; ++j) {
    switch (norm) {
      case NormKind::kMax:
        acc = std::max(acc, xr[j]);
        break;
      case NormKind::kL1:
        acc += std::fabs(xr[j]);
        break;
      case NormKind::kL2:
        acc += xr[j] * xr[j];
        break;
    }
  }
  return norm == NormKind::kL2 ? std::sqrt(acc) : acc;
}
}  // namespace

void NormalizeRows(NormKind norm, ConstMatrixRef x, size_t rows, int64_t width, MatrixRef y) {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x.data + r * x.ld;
    float* yr = y.data + r * y.ld;
    const float n = RowNorm(norm, xr, width);
    const float inv = n != 0 ? 1.0f / n : 1.0f;
    for (int64_t j = 0; j < width; ++j) yr[j] = xr[j] * inv;
  }
}

}  // namespace hotpath::dense::internal
