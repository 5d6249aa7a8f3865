// Small order statistics shared by the forecaster, the anomaly detector and
// the spot-share rule. Pure functions; thread-compatible.
#ifndef HOTPATH_SCALE_INTERNAL_STATS_H_
#define HOTPATH_SCALE_INTERNAL_STATS_H_

#include <span>
#include <vector>

namespace hotpath::scale::internal {

// Median of `v`; 0 for an empty span.
double Median(std::span<const double> v);

// Median absolute deviation around the median, unscaled; 0 for an empty span.
double MedianAbsDeviation(std::span<const double> v);

// Linear-interpolated quantile (type 7, as R's default) for q in [0, 1];
// 0 for an empty span.
double Quantile(std::span<const double> v, double q);

// Weighted quantile: the smallest value whose cumulative weight reaches
// q × total weight. Values and weights have equal length; 0 when the total
// weight is not positive.
double WeightedQuantile(std::span<const double> values, std::span<const double> weights, double q);

// P(X > k) for X ~ Binomial(n, p). Exact summation; n up to a few thousand.
double BinomialUpperTail(int n, double p, int k);

}  // namespace hotpath::scale::internal

#endif  // HOTPATH_SCALE_INTERNAL_STATS_H_
