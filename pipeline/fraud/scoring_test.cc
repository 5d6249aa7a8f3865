#include "pipeline/fraud/scoring.h"

#include <gtest/gtest.h>

#include <random>

namespace hotpath::fraud {
namespace {

// Average precision by its definition: mean precision at each positive's
// rank, checked on tie-free random scores.
double BruteForceAp(const std::vector<double>& s, const std::vector<int>& y) {
  std::vector<size_t> idx(s.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return s[a] > s[b]; });
  double tp = 0, sum = 0;
  for (size_t k = 0; k < idx.size(); ++k) {
    if (y[idx[k]]) {
      tp += 1;
      sum += tp / static_cast<double>(k + 1);
    }
  }
  return tp ? sum / tp : 0;
}

TEST(ScoringTest, PrAucMatchesDefinition) {
  std::mt19937_64 rng(2);
  std::uniform_real_distribution<double> u(0, 1);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<double> s;
    std::vector<int> y;
    for (int i = 0; i < 200; ++i) {
      y.push_back(u(rng) < 0.1);
      s.push_back(u(rng) + (y.back() ? 0.3 : 0));
    }
    EXPECT_NEAR(PrAuc(s, y), BruteForceAp(s, y), 1e-12);
  }
  EXPECT_DOUBLE_EQ(PrAuc(std::vector<double>{0.9, 0.8, 0.1}, std::vector<int>{1, 1, 0}), 1.0);
  // All scores tied: precision is the base rate.
  EXPECT_DOUBLE_EQ(PrAuc(std::vector<double>{0.5, 0.5, 0.5, 0.5}, std::vector<int>{1, 0, 0, 0}), 0.25);
}

TEST(ScoringTest, CombinedRiskIsNoisyOr) {
  EXPECT_DOUBLE_EQ(CombinedRisk(0.5, 0.5), 0.75);
  EXPECT_DOUBLE_EQ(CombinedRisk(0.3, -1), 0.3);
  EXPECT_DOUBLE_EQ(CombinedRisk(0, 0.2), 0.2);
}

}  // namespace
}  // namespace hotpath::fraud
