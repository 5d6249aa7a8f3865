#include "scale/internal/stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace hotpath::scale::internal {
namespace {

TEST(StatsTest, QuantilesMatchHandValues) {
  const std::vector<double> v = {5, 1, 4, 2, 3};
  EXPECT_DOUBLE_EQ(Median(v), 3.0);
  EXPECT_DOUBLE_EQ(Quantile(v, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(Quantile(v, 1.0), 5.0);
  EXPECT_DOUBLE_EQ(Quantile(v, 0.1), 1.4);       // position 0.4 between 1 and 2
  EXPECT_DOUBLE_EQ(MedianAbsDeviation(v), 1.0);  // |v - 3| = {2,2,1,1,0}
  EXPECT_DOUBLE_EQ(Median(std::vector<double>{}), 0.0);
}

TEST(StatsTest, WeightedQuantileUsesWeights) {
  const std::vector<double> v = {10, 20, 30}, w = {1, 1, 98};
  EXPECT_DOUBLE_EQ(WeightedQuantile(v, w, 0.01), 10.0);
  EXPECT_DOUBLE_EQ(WeightedQuantile(v, w, 0.02), 20.0);
  EXPECT_DOUBLE_EQ(WeightedQuantile(v, w, 0.5), 30.0);
  EXPECT_DOUBLE_EQ(WeightedQuantile(v, std::vector<double>{0, 0, 0}, 0.5), 0.0);
}

TEST(StatsTest, BinomialTailMatchesDirectSum) {
  // P(X > 1) for n = 4, p = 0.5: 1 - (1 + 4) / 16.
  EXPECT_NEAR(BinomialUpperTail(4, 0.5, 1), 11.0 / 16.0, 1e-12);
  EXPECT_DOUBLE_EQ(BinomialUpperTail(4, 0.5, 4), 0.0);
  EXPECT_DOUBLE_EQ(BinomialUpperTail(4, 0.0, 0), 0.0);
  EXPECT_DOUBLE_EQ(BinomialUpperTail(4, 0.3, -1), 1.0);
}

}  // namespace
}  // namespace hotpath::scale::internal
