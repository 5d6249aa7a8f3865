#include "pipeline/fraud/generator.h"

#include <gtest/gtest.h>

#include <map>

namespace hotpath::fraud {
namespace {

std::vector<Transaction> Generate(uint64_t seed, int n) {
  TransactionGenerator::Options o;
  o.seed = seed;
  o.customers = 500;
  o.terminals = 100;
  o.fraud_rate = 0.02;
  TransactionGenerator g(o);
  std::vector<Transaction> v;
  for (int i = 0; i < n; ++i) v.push_back(g.Next());
  return v;
}

TEST(GeneratorTest, DeterministicPerSeed) {
  auto a = Generate(3, 2000), b = Generate(3, 2000), c = Generate(4, 2000);
  for (int i = 0; i < 2000; ++i) EXPECT_EQ(ToJson(a[i]), ToJson(b[i]));
  int same = 0;
  for (int i = 0; i < 2000; ++i) same += ToJson(a[i]) == ToJson(c[i]);
  EXPECT_LT(same, 10);
}

TEST(GeneratorTest, EventsAreValidOrderedAndLabeled) {
  auto v = Generate(1, 100000);
  std::map<std::string, int> scenarios;
  int fraud = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    ASSERT_TRUE(ParseTransaction(ToJson(v[i])).ok()) << ToJson(v[i]);
    if (i > 0) {
      ASSERT_GE(v[i].timestamp_ms, v[i - 1].timestamp_ms);
    }
    ASSERT_TRUE(v[i].label == 0 || v[i].label == 1);
    EXPECT_EQ(v[i].label == 1, !v[i].scenario.empty());
    fraud += v[i].label;
    scenarios[v[i].scenario]++;
  }
  for (const char* s : {"amount_outlier", "compromised_terminal", "card_burst", "account_takeover"}) {
    EXPECT_GT(scenarios[s], 10) << s;
  }
  const double rate = static_cast<double>(fraud) / v.size();
  EXPECT_GT(rate, 0.005);
  EXPECT_LT(rate, 0.2);
}

TEST(GeneratorTest, DailyRhythmHasQuietNights) {
  // Counts by hour of day over two simulated weeks follow Intensity().
  TransactionGenerator::Options o;
  o.mean_events_per_s = 0.5;
  TransactionGenerator g(o);
  std::vector<int> by_hour(24);
  for (int i = 0; i < 200000; ++i) by_hour[(g.Next().timestamp_ms / 3600000) % 24]++;
  EXPECT_GT(by_hour[19], 3 * by_hour[3]);
  EXPECT_GT(by_hour[12], 2 * by_hour[3]);
}

}  // namespace
}  // namespace hotpath::fraud
