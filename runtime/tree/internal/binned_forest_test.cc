// The binned single-row kernel on hand-built ensembles, checked against a
// plain walk of the IR written here (x < threshold goes left, NaN goes to
// the default child, leaves summed in float in tree order) and against
// hand-computed values: a value equal to a threshold, -0 against 0, NaN to
// either default, padded shallow leaves, byte bins up to 255 cuts and word
// bins beyond, and the models that must keep the other kernels (65536 cuts,
// 65 features, depth 7).
#include "runtime/tree/internal/binned_forest.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "runtime/tree/tree_model.h"

namespace hotpath::tree_internal {
namespace {

bool HasVbmi() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vbmi");
}

// Appends a split node (children filled in by the caller) and returns its id.
int32_t AddSplit(Tree* t, uint32_t feature, float threshold, bool default_left) {
  Node n;
  n.feature = feature;
  n.threshold = threshold;
  n.default_left = default_left;
  n.left = n.right = 0;  // set by Link
  t->nodes.push_back(n);
  return static_cast<int32_t>(t->nodes.size() - 1);
}

int32_t AddLeaf(Tree* t, float value) {
  Node n;
  n.leaf_value = value;
  t->nodes.push_back(n);
  return static_cast<int32_t>(t->nodes.size() - 1);
}

void Link(Tree* t, int32_t parent, int32_t left, int32_t right) {
  t->nodes[parent].left = left;
  t->nodes[parent].right = right;
}

// A random tree of exactly `depth` levels on its leftmost path and random
// shallower leaves elsewhere; thresholds drawn from `cuts[feature]`.
int32_t RandomSubtree(Tree* t, int depth, bool force, const std::vector<std::vector<float>>& cuts,
                      std::mt19937_64* rng) {
  std::uniform_int_distribution<int> coin(0, 3);
  if (depth == 0 || (!force && coin(*rng) == 0)) {
    return AddLeaf(t, std::uniform_real_distribution<float>(-1.0f, 1.0f)(*rng));
  }
  const uint32_t f = static_cast<uint32_t>((*rng)() % cuts.size());
  const float thr = cuts[f][(*rng)() % cuts[f].size()];
  const int32_t id = AddSplit(t, f, thr, coin(*rng) < 2);
  const int32_t l = RandomSubtree(t, depth - 1, force, cuts, rng);
  const int32_t r = RandomSubtree(t, depth - 1, false, cuts, rng);
  Link(t, id, l, r);
  return id;
}

Ensemble MakeEnsemble(int features, int groups) {
  Ensemble e;
  e.format = "test";
  e.num_features = features;
  e.num_groups = groups;
  e.base_margin.assign(groups, 0.25f);
  return e;
}

// The reference: a walk of the IR and a float sum in tree order.
std::vector<float> ReferenceMargins(const Ensemble& e, const float* x) {
  std::vector<float> m = e.base_margin;
  for (const Tree& t : e.trees) {
    int32_t i = 0;
    while (!t.nodes[i].is_leaf()) {
      const Node& n = t.nodes[i];
      const float v = x[n.feature];
      const bool left = std::isnan(v) ? n.default_left : v < n.threshold;
      i = left ? n.left : n.right;
    }
    m[t.group] += t.nodes[i].leaf_value;
  }
  return m;
}

std::unique_ptr<TreeModel> Compile(const Ensemble& e, bool allow_simd = true) {
  TreeModel::Options o;
  o.allow_simd = allow_simd;
  auto m = TreeModel::FromEnsemble(e, o);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? std::move(m).value() : nullptr;
}

// Every row of x, one Predict call each, bit-identical to the reference.
void ExpectMatchesReference(const Ensemble& e, const std::vector<float>& x) {
  auto m = Compile(e);
  ASSERT_NE(m, nullptr);
  const size_t nf = static_cast<size_t>(e.num_features), groups = static_cast<size_t>(e.num_groups);
  std::vector<float> out(groups);
  for (size_t r = 0; r < x.size() / nf; ++r) {
    ASSERT_TRUE(m->Predict(&x[r * nf], 1, OutputKind::kMargin, out.data()).ok());
    const std::vector<float> want = ReferenceMargins(e, &x[r * nf]);
    ASSERT_EQ(0, std::memcmp(want.data(), out.data(), groups * sizeof(float)))
        << "row " << r << " group 0: want " << want[0] << " got " << out[0];
  }
}

class BinnedForestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HasVbmi()) GTEST_SKIP() << "no AVX-512 VBMI on this CPU";
  }
};

TEST_F(BinnedForestTest, ThresholdEqualityAndSignedZeroGoRightNanTakesTheDefault) {
  Ensemble e = MakeEnsemble(2, 1);
  Tree t;  // f0 < 1.5 ? (f1 < 0 ? 1 : 2) : (f1 < -0 ? 4 : 8), NaN: left at f0, right at f1
  const int32_t root = AddSplit(&t, 0, 1.5f, true);
  const int32_t a = AddSplit(&t, 1, 0.0f, false);
  const int32_t b = AddSplit(&t, 1, -0.0f, false);
  Link(&t, root, a, b);
  Link(&t, a, AddLeaf(&t, 1.0f), AddLeaf(&t, 2.0f));
  Link(&t, b, AddLeaf(&t, 4.0f), AddLeaf(&t, 8.0f));
  e.trees.push_back(t);
  ASSERT_NE(BinnedForest::Create(e), nullptr);
  auto m = Compile(e);
  ASSERT_STREQ(m->kernel_name(), "avx512-binned8");
  const float below = std::nextafter(1.5f, 0.0f), tiny = std::numeric_limits<float>::denorm_min();
  const float nan = std::numeric_limits<float>::quiet_NaN(),
              inf = std::numeric_limits<float>::infinity();
  struct Row {
    float f0, f1, margin;
  };
  const Row rows[] = {
      {1.5f, -1.0f, 4.25f},                         // equal to the threshold: right
      {below, -1.0f, 1.25f}, {1.5f, -0.0f, 8.25f},  // -0 is not < 0
      {0.0f, 0.0f, 2.25f},   {0.0f, -tiny, 1.25f}, {2.0f, -tiny, 4.25f},
      {nan, -1.0f, 1.25f},                        // NaN at f0: default left
      {0.0f, nan, 2.25f},    {2.0f, nan, 8.25f},  // NaN at f1: default right
      {nan, nan, 2.25f},     {inf, -inf, 4.25f},   {-inf, inf, 2.25f},
  };
  for (const Row& r : rows) {
    const float x[2] = {r.f0, r.f1};
    float out;
    ASSERT_TRUE(m->Predict(x, 1, OutputKind::kMargin, &out).ok());
    EXPECT_EQ(out, r.margin) << "x = (" << r.f0 << ", " << r.f1 << ")";
  }
}

TEST_F(BinnedForestTest, ShallowLeavesArePaddedToDepthSix) {
  Ensemble e = MakeEnsemble(3, 1);
  Tree stump;  // a single leaf: every padded node leads to it
  AddLeaf(&stump, 0.5f);
  e.trees.push_back(stump);
  Tree chain;  // a leaf at every depth 1..6 on the right, one path to depth 6
  int32_t parent = AddSplit(&chain, 0, 0.0f, true);
  const int32_t first = parent;
  for (int d = 1; d < 6; ++d) {
    const int32_t next =
        AddSplit(&chain, static_cast<uint32_t>(d % 3), static_cast<float>(d), d % 2 == 0);
    Link(&chain, parent, next, AddLeaf(&chain, static_cast<float>(d)));
    parent = next;
  }
  Link(&chain, parent, AddLeaf(&chain, -1.0f), AddLeaf(&chain, 6.0f));
  ASSERT_EQ(first, 0);
  e.trees.push_back(chain);
  std::vector<float> x;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float values[] = {-1.0f, 0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, nan};
  for (float a : values) {
    for (float b : values) {
      for (float c : values) x.insert(x.end(), {a, b, c});
    }
  }
  ExpectMatchesReference(e, x);
}

TEST_F(BinnedForestTest, RandomForestsWithGroupsAndNansMatchTheReference) {
  std::mt19937_64 rng(5);
  for (int cuts_per_feature : {40, 300}) {  // byte bins, word bins
    for (int features : {1, 7, 16, 33, 64}) {
      for (int groups : {1, 3}) {
        Ensemble e = MakeEnsemble(features, groups);
        std::vector<std::vector<float>> cuts(features);
        std::normal_distribution<float> normal(0.0f, 1.0f);
        for (auto& c : cuts) {
          for (int k = 0; k < cuts_per_feature; ++k) c.push_back(normal(rng));
        }
        for (int i = 0; i < 90; ++i) {
          Tree t;
          t.group = i % groups;
          RandomSubtree(&t, 1 + i % 6, true, cuts, &rng);
          e.trees.push_back(t);
        }
        for (int k = 0; k < cuts_per_feature; ++k) {  // every cut of the last feature
          Tree t;
          t.group = k % groups;
          const int32_t s = AddSplit(&t, features - 1, cuts[features - 1][k], k % 2 == 0);
          Link(&t, s, AddLeaf(&t, normal(rng)), AddLeaf(&t, normal(rng)));
          e.trees.push_back(t);
        }
        std::vector<float> x;
        for (int r = 0; r < 300; ++r) {
          for (int f = 0; f < features; ++f) {
            const int kind = static_cast<int>(rng() % 10);
            x.push_back(kind == 0   ? NAN
                        : kind == 1 ? cuts[f][rng() % cuts[f].size()]
                                    : normal(rng));
          }
        }
        SCOPED_TRACE("cuts " + std::to_string(cuts_per_feature) + " features " +
                     std::to_string(features) + " groups " + std::to_string(groups));
        auto binned = BinnedForest::Create(e);
        ASSERT_NE(binned, nullptr);
        EXPECT_EQ(binned->wide(), cuts_per_feature > kMaxByteCuts);
        ExpectMatchesReference(e, x);
      }
    }
  }
}

// One feature split at `cuts` distinct thresholds 0, 1, ..., cuts - 1 (a
// chain of trees, one split each, so every cut is used).
Ensemble ManyCuts(int cuts) {
  Ensemble e = MakeEnsemble(2, 1);
  for (int k = 0; k < cuts; ++k) {
    Tree t;
    const int32_t s = AddSplit(&t, 0, static_cast<float>(k), k % 2 == 0);
    Link(&t, s, AddLeaf(&t, 1.0f / static_cast<float>(k + 3)),
         AddLeaf(&t, static_cast<float>(k % 7)));
    e.trees.push_back(t);
  }
  return e;
}

// Rows at, just below and just above cuts -1, 0, step, 2 step, ... and the
// last two of ManyCuts(cuts), then NaN and two extremes (feature 1 is 0).
std::vector<float> RowsAroundCuts(int cuts, int step) {
  std::vector<float> x;
  for (int k = -1; k <= cuts; k = (k + step >= cuts - 1 && k < cuts - 1) ? cuts - 1 : k + step) {
    const float c = static_cast<float>(k);
    for (float v : {c, std::nextafter(c, -1e9f), std::nextafter(c, 1e9f)})
      x.insert(x.end(), {v, 0.0f});
  }
  const float nan = std::numeric_limits<float>::quiet_NaN();
  x.insert(x.end(), {nan, 0.0f, 1e30f, 0.0f, -1e30f, 0.0f});
  return x;
}

TEST_F(BinnedForestTest, UpTo255CutsTakeByteBinsMoreTakeWordBins) {
  struct Shape {
    int cuts, step;
    bool wide;
  };
  // 255 and 256 cuts: two search levels; 3000: three; 4100: four.
  for (const Shape& s : {Shape{kMaxByteCuts, 1, false}, Shape{kMaxByteCuts + 1, 1, true},
                         Shape{3000, 7, true}, Shape{4100, 13, true}}) {
    SCOPED_TRACE(s.cuts);
    const Ensemble e = ManyCuts(s.cuts);
    auto binned = BinnedForest::Create(e);
    ASSERT_NE(binned, nullptr);
    EXPECT_EQ(binned->wide(), s.wide);
    EXPECT_STREQ(Compile(e)->kernel_name(), s.wide ? "avx512-binned16" : "avx512-binned8");
    ExpectMatchesReference(e, RowsAroundCuts(s.cuts, s.step));
  }
}

TEST_F(BinnedForestTest, ModelsOutsideItsShapeKeepTheOtherKernels) {
  const Ensemble many_cuts = ManyCuts(kMaxBinnedCuts + 1);
  EXPECT_EQ(BinnedForest::Create(many_cuts), nullptr);
  auto m = Compile(many_cuts);
  EXPECT_STREQ(m->kernel_name(), "avx512");
  auto scalar = Compile(many_cuts, /*allow_simd=*/false);
  EXPECT_STREQ(scalar->kernel_name(), "scalar");
  for (float v : {-1.0f, 0.0f, 127.0f, 255.0f, 255.5f, 300.0f}) {
    const float x[2] = {v, 0.0f};
    float a, b;
    ASSERT_TRUE(m->Predict(x, 1, OutputKind::kMargin, &a).ok());
    ASSERT_TRUE(scalar->Predict(x, 1, OutputKind::kMargin, &b).ok());
    EXPECT_EQ(0, std::memcmp(&a, &b, sizeof(float))) << v;
    EXPECT_EQ(a, ReferenceMargins(many_cuts, x)[0]) << v;
  }

  Ensemble wide = MakeEnsemble(kMaxBinnedFeatures + 1, 1);
  Tree t;
  const int32_t s = AddSplit(&t, kMaxBinnedFeatures, 0.0f, true);
  Link(&t, s, AddLeaf(&t, 1.0f), AddLeaf(&t, 2.0f));
  wide.trees.push_back(t);
  EXPECT_EQ(BinnedForest::Create(wide), nullptr);
  wide.num_features = kMaxBinnedFeatures;
  wide.trees[0].nodes[0].feature = kMaxBinnedFeatures - 1;
  EXPECT_NE(BinnedForest::Create(wide), nullptr);

  Ensemble deep = MakeEnsemble(4, 1);
  std::mt19937_64 rng(3);
  Tree d;
  RandomSubtree(&d, kBinnedDepth + 1, true, {{0.0f, 1.0f}, {2.0f}, {3.0f}, {-1.0f}}, &rng);
  deep.trees.push_back(d);
  EXPECT_EQ(BinnedForest::Create(deep), nullptr);
}

}  // namespace
}  // namespace hotpath::tree_internal
