// Bad artifacts are refused at load with an error naming the problem; no
// input, however mangled, crashes the loaders.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "runtime/tree/tree_model.h"

namespace hotpath {
namespace {

// A hand-written two-level XGBoost JSON model (3 nodes: root + 2 leaves).
std::string TinyXGBoost(const std::string& left = "1", const std::string& feature = "0",
                        const std::string& cond = "0.5", const std::string& objective = "binary:logistic") {
  return R"({"learner": {"learner_model_param": {"base_score": "5E-1", "num_class": "0", "num_feature": "2", "num_target": "1"},
  "objective": {"name": ")" + objective + R"("},
  "gradient_booster": {"name": "gbtree", "model": {"gbtree_model_param": {"num_trees": "1"}, "tree_info": [0],
   "trees": [{"tree_param": {"num_nodes": "3"}, "left_children": [)" + left + R"(, -1, -1], "right_children": [2, -1, -1],
     "split_indices": [)" + feature + R"(, 0, 0], "split_conditions": [)" + cond + R"(, -0.25, 0.75],
     "default_left": [1, 0, 0], "sum_hessian": [10, 4, 6]}]}}}})";
}

TEST(ArtifactTest, TinyModelLoadsAndPredictsByHand) {
  auto m = TreeModel::FromBytes(TinyXGBoost(), "tiny", {});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const float x[] = {0.4f, 0.0f, 0.5f, 0.0f, NAN, 0.0f};
  float out[3];
  ASSERT_TRUE((*m)->Predict(x, 3, OutputKind::kMargin, out).ok());
  EXPECT_EQ(out[0], -0.25f);  // 0.4 < 0.5: left
  EXPECT_EQ(out[1], 0.75f);   // 0.5 is not < 0.5: right
  EXPECT_EQ(out[2], -0.25f);  // missing: default left
  ASSERT_TRUE((*m)->Predict(x, 1, OutputKind::kValue, out).ok());
  EXPECT_FLOAT_EQ(out[0], 1.0f / (1.0f + std::exp(0.25f)));
}

void ExpectRefused(const std::string& bytes, const std::string& needle) {
  auto m = TreeModel::FromBytes(bytes, "bad.json", {});
  ASSERT_FALSE(m.ok()) << "accepted: " << needle;
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find(needle), std::string::npos) << m.status().message();
  EXPECT_NE(m.status().message().find("bad.json"), std::string::npos);
}

TEST(ArtifactTest, BadArtifactsAreRefusedWithTheTreeAndNode) {
  ExpectRefused(TinyXGBoost().substr(0, 200), "truncated");
  ExpectRefused(TinyXGBoost("1", "0", "0.5", "reg:unknown"), "unsupported objective 'reg:unknown'");
  ExpectRefused(TinyXGBoost("1", "7"), "tree 0 node 0: feature index 7 out of range");
  ExpectRefused(TinyXGBoost("0"), "tree 0 node 0: child 0 is reached twice");
  ExpectRefused(TinyXGBoost("1", "0", "NaN"), "tree 0 node 0: threshold is NaN");
  ExpectRefused(TinyXGBoost("5"), "tree 0 node 0: child index out of range");
}

TEST(ArtifactTest, MissingFileIsNotFound) {
  auto m = TreeModel::Load("/nonexistent/model.json", {});
  EXPECT_EQ(m.status().code(), StatusCode::kNotFound);
}

// Random mutations of valid artifacts (bytes flipped, cut, duplicated) must
// yield a model or an error, never a crash; run under ASan in the sanitizer build.
TEST(ArtifactTest, FuzzedArtifactsNeverCrash) {
  std::mt19937_64 rng(3);
  const std::string seeds[] = {TinyXGBoost(), std::string("tree\nversion=v3\nnum_class=1\n"
      "num_tree_per_iteration=1\nlabel_index=0\nmax_feature_idx=1\nobjective=binary sigmoid:1\n\n"
      "Tree=0\nnum_leaves=2\nnum_cat=0\nsplit_feature=1\nthreshold=0.5\ndecision_type=2\n"
      "left_child=-1\nright_child=-2\nleaf_value=0.1 0.2\n\nend of trees\n")};
  const std::string alphabet = "{}[]\":,-0123456789eE.tnNaf \n=";
  int accepted = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string s = seeds[i % 2];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits && !s.empty(); ++k) {
      const size_t pos = rng() % s.size();
      switch (rng() % 4) {
        case 0: s[pos] = alphabet[rng() % alphabet.size()]; break;
        case 1: s.erase(pos, 1 + rng() % 8); break;
        case 2: s.insert(pos, s.substr(rng() % s.size(), rng() % 16)); break;
        case 3: s.resize(pos); break;
      }
    }
    auto m = TreeModel::FromBytes(s, "fuzz", {});
    if (m.ok()) {
      ++accepted;
      std::vector<float> x((*m)->num_features(), 0.5f);
      std::vector<float> out((*m)->OutputWidth(OutputKind::kContributions));
      for (OutputKind k : {OutputKind::kValue, OutputKind::kMargin, OutputKind::kContributions}) {
        EXPECT_TRUE((*m)->Predict(x.data(), 1, k, out.data()).ok());
      }
    } else {
      EXPECT_FALSE(m.status().message().empty());
    }
  }
  EXPECT_GT(accepted, 0);  // some mutations (e.g. of numbers) stay valid models
}

}  // namespace
}  // namespace hotpath
