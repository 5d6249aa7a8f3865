#include "runtime/dense/internal/tree_head.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "runtime/dense/internal/eltwise.h"

namespace hotpath::dense::internal {
namespace {

float Logistic(float m) {
  const float v = 1.0f / (1.0f + std::exp(-std::fabs(m)));
  return m < 0 ? 1.0f - v : v;
}

// sqrt(2) * erfinv(2p - 1) with Winitzki's erfinv (a = 0.147), in double.
float Probit(float p) {
  constexpr double kA = 0.147;
  const double y = 2.0 * p - 1.0;
  const double x = (1.0 - y) * (1.0 + y);
  if (x == 0.0) return 0.0f;
  const double log = std::log(x);
  const double v = 2.0 / (std::numbers::pi * kA) + 0.5 * log;
  const double v3 = -v + std::sqrt(v * v - log / kA);
  return static_cast<float>(std::numbers::sqrt2 * std::copysign(std::sqrt(v3), y));
}

void SoftmaxZero(float* v, int64_t width) {
  const float mx = *std::max_element(v, v + width);
  const float scale_zero = std::exp(-mx);
  float sum = 0.0f;
  for (int64_t j = 0; j < width; ++j) {
    v[j] = std::fabs(v[j]) > 1e-7f ? std::exp(v[j] - mx) : v[j] * scale_zero;
    sum += v[j];
  }
  for (int64_t j = 0; j < width; ++j) v[j] = sum == 0.0f ? 0.5f : v[j] / sum;
}

// [rows, 1] scores s to [rows, 2] rows (1 - s, s) or (-s, s), from the last
// row down so that no score is overwritten before it is read.
void ExpandBinary(size_t rows, bool one_minus, float* y) {
  for (size_t r = rows; r-- > 0;) {
    const float s = y[r];
    y[2 * r] = one_minus ? 1.0f - s : -s;
    y[2 * r + 1] = s;
  }
}

}  // namespace

void ApplyTreeHead(const TreeHead& head, size_t rows, int64_t margins, int64_t width, float* y) {
  if (!head.bias.empty()) {
    for (size_t r = 0; r < rows; ++r) {
      for (int64_t j = 0; j < margins; ++j) y[r * margins + j] += head.bias[j];
    }
  }
  if (head.binary) {
    ExpandBinary(rows, head.post == TreePost::kNone || head.post == TreePost::kProbit, y);
  }
  const size_t n = rows * static_cast<size_t>(width);
  switch (head.post) {
    case TreePost::kNone:
      break;
    case TreePost::kLogistic:
      for (size_t i = 0; i < n; ++i) y[i] = Logistic(y[i]);
      break;
    case TreePost::kProbit:
      for (size_t i = 0; i < n; ++i) y[i] = Probit(y[i]);
      break;
    case TreePost::kSoftmax:
      SoftmaxRows({y, static_cast<size_t>(width)}, rows, width, {y, static_cast<size_t>(width)});
      break;
    case TreePost::kSoftmaxZero:
      for (size_t r = 0; r < rows; ++r) SoftmaxZero(y + r * width, width);
      break;
  }
}

}  // namespace hotpath::dense::internal
