#include "scale/internal/stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace hotpath::scale::internal {

double Quantile(std::span<const double> v, double q) {
  if (v.empty()) {
    return 0.0;
  }
  std::vector<double> s(v.begin(), v.end());
  std::sort(s.begin(), s.end());
  const double pos = std::clamp(q, 0.0, 1.0) * static_cast<double>(s.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, s.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return s[lo] + frac * (s[hi] - s[lo]);
}

double Median(std::span<const double> v) { return Quantile(v, 0.5); }

double MedianAbsDeviation(std::span<const double> v) {
  const double m = Median(v);
  std::vector<double> dev;
  dev.reserve(v.size());
  for (double x : v) {
    dev.push_back(std::abs(x - m));
  }
  return Median(dev);
}

double WeightedQuantile(std::span<const double> values, std::span<const double> weights, double q) {
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  if (total <= 0.0 || values.size() != weights.size()) {
    return 0.0;
  }
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] < values[b]; });
  double cum = 0.0;
  for (size_t i : order) {
    cum += weights[i];
    if (cum >= q * total) {
      return values[i];
    }
  }
  return values[order.back()];
}

double BinomialUpperTail(int n, double p, int k) {
  if (k < 0) {
    return 1.0;
  }
  if (k >= n || p <= 0.0) {
    return 0.0;
  }
  if (p >= 1.0) {
    return 1.0;
  }
  // Sum P(X <= k) in log space for stability, then complement.
  double cdf = 0.0;
  for (int i = 0; i <= k; ++i) {
    const double log_term = std::lgamma(n + 1.0) - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0) +
                            i * std::log(p) + (n - i) * std::log1p(-p);
    cdf += std::exp(log_term);
  }
  return std::max(0.0, 1.0 - cdf);
}

}  // namespace hotpath::scale::internal
