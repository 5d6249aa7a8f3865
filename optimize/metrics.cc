#include "optimize/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace hotpath::optimize {

double Auc(const std::vector<float>& scores, const std::vector<float>& labels) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  double rank_sum = 0, pos = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) ++j;
    const double mid_rank = 0.5 * (i + 1 + j);  // average 1-based rank of the tie group
    for (size_t t = i; t < j; ++t) {
      if (labels[order[t]] > 0.5f) rank_sum += mid_rank, ++pos;
    }
    i = j;
  }
  const double neg = static_cast<double>(scores.size()) - pos;
  if (pos == 0 || neg == 0) return 0.5;
  return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

double LogLoss(const std::vector<float>& scores, const std::vector<float>& labels) {
  double s = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    const double p = std::clamp(static_cast<double>(scores[i]), 1e-7, 1 - 1e-7);
    s -= labels[i] > 0.5f ? std::log(p) : std::log(1 - p);
  }
  return scores.empty() ? 0 : s / static_cast<double>(scores.size());
}

double MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    m = std::max(m, std::fabs(double{a[i]} - b[i]));
  return m;
}

Accuracy MeasureAccuracy(const std::vector<float>& scores, const std::vector<float>& labels,
                         const std::vector<float>& reference) {
  return {Auc(scores, labels), LogLoss(scores, labels), MaxAbsDiff(scores, reference)};
}

}  // namespace hotpath::optimize
