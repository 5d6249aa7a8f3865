#include "features/internal/sketches.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace hotpath::features::internal {
namespace {

TEST(HyperLogLogTest, WithinThreeStandardErrors) {
  for (int n : {1, 10, 300, 5'000, 100'000}) {
    HyperLogLog h(12);
    for (int i = 0; i < n; ++i) {
      h.Add(HashBytes("item-" + std::to_string(i)));
      h.Add(HashBytes("item-" + std::to_string(i / 2)));  // duplicates change nothing
    }
    const double bound = 3 * 1.04 / std::sqrt(4096.0) * n + 1;
    EXPECT_NEAR(h.Estimate(), n, bound) << n;
  }
}

TEST(HyperLogLogTest, MergeIsUnionAndSurvivesEncoding) {
  HyperLogLog a(12), b(12);
  for (int i = 0; i < 3'000; ++i) a.Add(HashBytes(std::to_string(i)));
  for (int i = 2'000; i < 2'300; ++i) b.Add(HashBytes(std::to_string(i)));  // b stays sparse
  for (int i = 2'000; i < 6'000; ++i) a.Add(HashBytes("x" + std::to_string(i)));
  HyperLogLog u = b;
  u.Merge(a);
  EXPECT_NEAR(u.Estimate(), 7'000, 3 * 1.04 / 64 * 7'000);
  std::string bytes;
  ByteWriter w(&bytes);
  u.Encode(w);
  HyperLogLog back(12);
  ByteReader r(bytes);
  ASSERT_TRUE(back.Decode(r));
  EXPECT_DOUBLE_EQ(back.Estimate(), u.Estimate());
  HyperLogLog other_precision(10);
  ByteReader r2(bytes);
  EXPECT_FALSE(other_precision.Decode(r2));
}

TEST(DDSketchTest, QuantilesWithinRelativeError) {
  std::mt19937_64 rng(5);
  std::lognormal_distribution<double> lognormal(0, 3);
  for (double alpha : {0.01, 0.05}) {
    DDSketch sk(alpha), left(alpha), right(alpha);
    std::vector<double> xs;
    for (int i = 0; i < 50'000; ++i) {
      double x = lognormal(rng) * (rng() % 4 == 0 ? -1 : 1) * (rng() % 50 == 0 ? 0 : 1);
      xs.push_back(x);
      sk.Add(x);
      (i % 2 ? left : right).Add(x);
    }
    left.Merge(right);
    std::sort(xs.begin(), xs.end());
    for (double q : {0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0}) {
      double want = xs[static_cast<std::size_t>(q * (xs.size() - 1))];
      EXPECT_NEAR(sk.Quantile(q), want, alpha * std::fabs(want) + 1e-9) << q;
      EXPECT_NEAR(left.Quantile(q), want, alpha * std::fabs(want) + 1e-9) << q;
    }
  }
}

TEST(LastNTest, KeepsNewest) {
  LastN last(3), other(3);
  for (int64_t ts : {5, 1, 9, 3, 7}) last.Add(ts, static_cast<double>(ts * 10));
  EXPECT_EQ(last.Values(), (std::vector<double>{90, 70, 50}));
  other.Add(8, 80);
  last.Merge(other);
  EXPECT_EQ(last.Values(), (std::vector<double>{90, 80, 70}));
}

// Decoders meet random bytes without crashing, and mostly refuse them.
TEST(SketchDecodeTest, GarbageNeverCrashes) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 20'000; ++i) {
    std::string bytes(rng() % 64, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() % (i % 2 ? 4 : 256));
    HyperLogLog h(4 + static_cast<int>(rng() % 13));
    DDSketch d(0.01);
    LastN l(1 + static_cast<int>(rng() % 8));
    ByteReader r1(bytes), r2(bytes), r3(bytes);
    if (h.Decode(r1)) h.Estimate();
    if (d.Decode(r2) && d.count() > 0) d.Quantile(0.5);
    if (l.Decode(r3)) l.Values();
  }
}

}  // namespace
}  // namespace hotpath::features::internal
