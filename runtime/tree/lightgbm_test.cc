// LightGBM models: hand-checked fixtures covering threshold equality, every
// missing type and categorical bitsets, checked against an independent,
// straightforward evaluator written here from LightGBM's documented
// decision rules (double precision, `<=`, child < 0 means leaf ~child).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/tree/tree_model.h"

namespace hotpath {
namespace {

const std::string kDir = std::string(HOTPATH_SOURCE_DIR) + "/runtime/tree/testdata/";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The reference: one map of key -> numbers per tree, evaluated literally.
struct RefTree {
  std::map<std::string, std::vector<double>> v;
  double Eval(const std::vector<double>& x) const {
    if (v.at("leaf_value").size() == 1) return v.at("leaf_value")[0];
    int node = 0;
    for (;;) {
      const int dt = static_cast<int>(v.at("decision_type")[node]);
      double f = x[static_cast<int>(v.at("split_feature")[node])];
      int next;
      if (dt & 1) {  // categorical
        const int cat_idx = static_cast<int>(v.at("threshold")[node]);
        const auto& bounds = v.at("cat_boundaries");
        const auto& bits = v.at("cat_threshold");
        bool left = false;
        if (!std::isnan(f) && static_cast<int>(f) >= 0) {
          const int c = static_cast<int>(f);
          const int word = c / 32, begin = static_cast<int>(bounds[cat_idx]);
          const int n = static_cast<int>(bounds[cat_idx + 1]) - begin;
          left = word < n && ((static_cast<uint32_t>(bits[begin + word]) >> (c % 32)) & 1);
        }
        next = left ? static_cast<int>(v.at("left_child")[node]) : static_cast<int>(v.at("right_child")[node]);
      } else {
        const int missing = (dt >> 2) & 3;
        if (std::isnan(f) && missing != 2) f = 0.0;
        const bool is_missing = (missing == 1 && std::fabs(f) <= 1e-35f) || (missing == 2 && std::isnan(f));
        bool left = is_missing ? (dt & 2) != 0 : f <= v.at("threshold")[node];
        next = static_cast<int>(left ? v.at("left_child")[node] : v.at("right_child")[node]);
      }
      if (next < 0) return v.at("leaf_value")[~next];
      node = next;
    }
  }
};

std::vector<RefTree> ParseReference(const std::string& text) {
  std::vector<RefTree> trees;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Tree=", 0) == 0) trees.emplace_back();
    if (line == "end of trees") break;
    const size_t eq = line.find('=');
    if (trees.empty() || eq == std::string::npos) continue;
    std::istringstream vals(line.substr(eq + 1));
    std::vector<double> nums;
    std::string tok;
    while (vals >> tok) nums.push_back(std::strtod(tok.c_str(), nullptr));
    trees.back().v[line.substr(0, eq)] = nums;
  }
  return trees;
}

std::vector<std::vector<double>> ReferenceMargins(const std::vector<RefTree>& trees, int groups,
                                                  const std::vector<float>& x, int nf) {
  std::vector<std::vector<double>> out;
  for (size_t r = 0; r < x.size() / nf; ++r) {
    std::vector<double> row(x.begin() + r * nf, x.begin() + (r + 1) * nf);
    std::vector<double> m(groups, 0.0);
    for (size_t t = 0; t < trees.size(); ++t) m[t % groups] += trees[t].Eval(row);
    out.push_back(m);
  }
  return out;
}

// Values that sit on and next to every threshold, the zero threshold, NaN,
// and categories in, out of and beyond the bitsets.
std::vector<float> EdgeValues() {
  std::vector<float> v = {0.5f, std::nextafter(0.5f, 1.0f), std::nextafter(0.5f, 0.0f), 0.1f,
                          std::nextafter(0.1f, 0.0f), -1.5f, -0.25f, 2.5f, -0.75f, 0.0f, -0.0f,
                          1e-36f, -1e-36f, 2e-35f, -3e-36f, 1e-45f, NAN, 1.0f, 3.0f, 8.0f, 9.0f,
                          40.0f, 41.0f, 100.0f, -1.0f, 1.7f, 3.2f, -4.0f, 4.0f};
  return v;
}

void CheckAgainstReference(const std::string& file, int rows_wanted) {
  const std::string text = ReadFile(kDir + file);
  auto model = TreeModel::FromBytes(text, file, {});
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const int nf = static_cast<int>((*model)->num_features());
  const int groups = static_cast<int>((*model)->num_groups());
  std::mt19937_64 rng(5);
  const std::vector<float> edges = EdgeValues();
  std::vector<float> x;
  for (int r = 0; r < rows_wanted; ++r) {
    for (int f = 0; f < nf; ++f) x.push_back(edges[rng() % edges.size()]);
  }
  const auto want = ReferenceMargins(ParseReference(text), groups, x, nf);
  std::vector<float> got(rows_wanted * groups);
  ASSERT_TRUE((*model)->Predict(x.data(), rows_wanted, OutputKind::kMargin, got.data()).ok());
  for (int r = 0; r < rows_wanted; ++r) {
    for (int g = 0; g < groups; ++g) {
      ASSERT_NEAR(want[r][g], got[r * groups + g], 1e-6) << file << " row " << r << " group " << g;
    }
  }
}

TEST(LightGBMTest, BinaryFixtureMatchesReference) { CheckAgainstReference("lightgbm_binary.txt", 5000); }
TEST(LightGBMTest, MulticlassFixtureMatchesReference) { CheckAgainstReference("lightgbm_multiclass.txt", 5000); }

TEST(LightGBMTest, HandCheckedRows) {
  auto model = TreeModel::FromBytes(ReadFile(kDir + "lightgbm_binary.txt"), "binary", {});
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  // Tree 0: amount <= 0.5 (missing None) -> velocity <= 0.1 (Zero, default
  // left) | ratio <= -1.5 (NaN, default right). Tree 1: merchant_type in {1,3}
  // -> 0.05, else amount <= -0.25 (NaN, default left). Tree 2: 0.125.
  struct Row { float x[4]; double margin; };
  const Row rows[] = {
      {{0.5f, 0.2f, 0.0f, 1.0f}, -0.2 + 0.05 + 0.125},    // 0.5 <= 0.5 left; 0.2 > 0.1 right
      {{0.5f, 0.1f, 0.0f, 2.0f}, -0.2 - 0.7 + 0.125},     // float 0.1 > double 0.1: right
      {{NAN, 0.0f, 0.0f, 3.0f}, 0.1 + 0.05 + 0.125},      // NaN read as 0 <= 0.5; velocity 0 is missing: left
      {{0.75f, 0.0f, NAN, NAN}, -0.4 - 0.7 + 0.125},      // ratio NaN: default right; category NaN: right
      {{-0.25f, 0.0f, -1.5f, 4.0f}, 0.1 + 0.6 + 0.125},   // -0.25 <= -0.25: left in tree 1
      {{NAN, 1e-36f, 0.0f, -3.0f}, 0.1 + 0.6 + 0.125},    // negative category: right; amount NaN default left
  };
  for (const Row& r : rows) {
    float m;
    ASSERT_TRUE((*model)->Predict(r.x, 1, OutputKind::kMargin, &m).ok());
    EXPECT_NEAR(m, r.margin, 1e-6);
    float p;
    ASSERT_TRUE((*model)->Predict(r.x, 1, OutputKind::kValue, &p).ok());
    EXPECT_NEAR(p, 1.0 / (1.0 + std::exp(-r.margin)), 1e-6);
  }
}

TEST(LightGBMTest, MulticlassSoftmaxSumsToOne) {
  auto model = TreeModel::FromBytes(ReadFile(kDir + "lightgbm_multiclass.txt"), "multi", {});
  ASSERT_TRUE(model.ok());
  const float x[] = {0.3f, -1.0f, 40.0f};
  float m[3], p[3];
  ASSERT_TRUE((*model)->Predict(x, 1, OutputKind::kMargin, m).ok());
  ASSERT_TRUE((*model)->Predict(x, 1, OutputKind::kValue, p).ok());
  double z = std::exp(m[0]) + std::exp(m[1]) + std::exp(m[2]);
  for (int g = 0; g < 3; ++g) EXPECT_NEAR(p[g], std::exp(m[g]) / z, 1e-6);
  // Category 40 is bit 8 of the set's second word (768 = bits 8 and 9): left.
  EXPECT_NEAR(m[1], 1.25 - 0.33, 1e-6);  // tree 4: 0.3 > -3e-36, right
}

TEST(LightGBMTest, ContributionsAddUpToTheMargin) {
  for (const char* file : {"lightgbm_binary.txt", "lightgbm_multiclass.txt"}) {
    auto model = TreeModel::FromBytes(ReadFile(kDir + file), file, {});
    ASSERT_TRUE(model.ok());
    const int nf = static_cast<int>((*model)->num_features());
    const int groups = static_cast<int>((*model)->num_groups());
    std::mt19937_64 rng(9);
    const auto edges = EdgeValues();
    for (int r = 0; r < 200; ++r) {
      std::vector<float> x(nf);
      for (auto& v : x) v = edges[rng() % edges.size()];
      std::vector<float> m(groups), c(groups * (nf + 1));
      ASSERT_TRUE((*model)->Predict(x.data(), 1, OutputKind::kMargin, m.data()).ok());
      for (OutputKind kind : {OutputKind::kContributions, OutputKind::kApproxContributions}) {
        ASSERT_TRUE((*model)->Predict(x.data(), 1, kind, c.data()).ok());
        for (int g = 0; g < groups; ++g) {
          double sum = 0;
          for (int f = 0; f <= nf; ++f) sum += c[g * (nf + 1) + f];
          EXPECT_NEAR(sum, m[g], 1e-5) << file;
        }
      }
    }
  }
}

TEST(LightGBMTest, LinearTreesAreRefused) {
  auto model = TreeModel::FromBytes(ReadFile(kDir + "lightgbm_linear.txt"), "linear.txt", {});
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("tree 1: linear trees are not supported"), std::string::npos)
      << model.status().message();
}

TEST(LightGBMTest, TruncatedFileIsRefused) {
  std::string text = ReadFile(kDir + "lightgbm_binary.txt");
  auto model = TreeModel::FromBytes(text.substr(0, text.find("Tree=2")), "cut.txt", {});
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("end of trees"), std::string::npos);
}

}  // namespace
}  // namespace hotpath
