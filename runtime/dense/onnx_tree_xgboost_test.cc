// XGBoost models trained here by libxgboost (the oracle), written as ONNX
// TreeEnsembleRegressor / TreeEnsembleClassifier models by this test from
// XGBoost's own JSON dump (the way onnxmltools exports them, independently of
// the importer; each split randomly as BRANCH_LT, BRANCH_GTE, BRANCH_LEQ or
// BRANCH_GT), imported into the tree engine and compared with XGBoost's own
// predictions on fresh rows with NaN: classifier margins bit-identical (post
// NONE), probabilities within 1e-6, regression within 1e-5 relative
// (base_values are added after the sum there, before it in XGBoost).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "runtime/dense/dense_model.h"
#include "runtime/dense/onnx_import.h"
#include "runtime/dense/testing/onnx_builder.h"
#include "runtime/tree/testing/xgboost_trainer.h"
#include "runtime/tree/tree_model.h"

namespace hotpath::dense {
namespace {

using hotpath::testing::Dataset;
using hotpath::testing::XGBoostBooster;
using testing::OnnxBuilder;
using testing::SetAttr;
using testing::SetInts;
using testing::TreeNodeSpec;
using testing::TreeWeightSpec;
// Floats parse exactly as XGBoost wrote them.
using Json = nlohmann::basic_json<std::map, std::vector, std::string, bool, std::int64_t,
                                  std::uint64_t, float>;

struct Case {
  std::string name;
  std::string objective;
  int classes;  // 0: regression, 2: binary, > 2: multi:softprob
  int depth;
  int rounds;
  int features;
  double nan_fraction;
};

std::vector<float> RandomRows(const Case& c, size_t rows, std::mt19937_64* rng) {
  std::normal_distribution<float> normal(0.0f, 1.5f);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<float> x(rows * c.features);
  for (float& v : x) v = u(*rng) < c.nan_fraction ? NAN : normal(*rng);
  return x;
}

Dataset MakeTrainingSet(const Case& c, std::mt19937_64* rng) {
  Dataset d;
  d.rows = 1500;
  d.cols = c.features;
  d.x = RandomRows(c, d.rows, rng);
  for (size_t r = 0; r < d.rows; ++r) {
    auto v = [&](int f) {
      const float x = d.x[r * d.cols + f % c.features];
      return std::isnan(x) ? 0.0f : x;
    };
    const float s = 0.8f * v(0) + std::sin(2.0f * v(1)) + 0.5f * v(2) * v(3);
    if (c.classes == 2) {
      d.label.push_back(s > 0.3f ? 1.0f : 0.0f);
    } else if (c.classes > 2) {
      d.label.push_back(static_cast<float>(static_cast<int>(std::fabs(s) * 2.0f) % c.classes));
    } else {
      d.label.push_back(s);
    }
  }
  return d;
}

std::string SavedJson(const XGBoostBooster& booster, const std::string& name) {
  const auto path = std::filesystem::temp_directory_path() / ("hotpath_onnx_xgb_" + name + ".json");
  EXPECT_TRUE(booster.Save(path.string()).ok());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::filesystem::remove(path);
  return text.str();
}

// One XGBoost tree as ONNX nodes (node id = XGBoost's node index) and leaf
// weights for output `target`. XGBoost sends x left iff x < cond, NaN to
// default_left; each split is written in one of four equivalent modes.
void AddTree(const Json& tree, int64_t tree_id, int64_t target, std::mt19937_64* rng,
             std::vector<TreeNodeSpec>* nodes, std::vector<TreeWeightSpec>* weights) {
  const auto& left = tree["left_children"];
  const auto& right = tree["right_children"];
  const auto& cond = tree["split_conditions"];
  const auto& feature = tree["split_indices"];
  const auto& default_left = tree["default_left"];
  for (size_t k = 0; k < left.size(); ++k) {
    const int64_t id = static_cast<int64_t>(k);
    const float c = cond[k].get<float>();
    if (left[k].get<int64_t>() < 0) {
      nodes->push_back({tree_id, id});
      weights->push_back({tree_id, id, target, c});
      continue;
    }
    const int64_t l = left[k].get<int64_t>(), r = right[k].get<int64_t>();
    const int64_t f = feature[k].get<int64_t>();
    const int64_t dl = default_left[k].get<int64_t>() != 0;
    const float below = std::nextafter(c, -std::numeric_limits<float>::infinity());
    switch ((*rng)() % 4) {
      case 0:
        nodes->push_back({tree_id, id, "BRANCH_LT", f, c, l, r, dl});
        break;
      case 1:
        nodes->push_back({tree_id, id, "BRANCH_GTE", f, c, r, l, 1 - dl});
        break;
      case 2:
        nodes->push_back({tree_id, id, "BRANCH_LEQ", f, below, l, r, dl});
        break;
      default:
        nodes->push_back({tree_id, id, "BRANCH_GT", f, below, r, l, 1 - dl});
        break;
    }
  }
}

// The model as onnxmltools writes it: a regressor with base_values
// [base_score], a binary classifier with one class column, base_values
// [logit(base_score)] and LOGISTIC, or a multi-class one with class ids from
// tree_info, base_values [base_score] * K and SOFTMAX; `margins` writes NONE.
std::string ToOnnx(const Json& model, const Case& c, bool margins, std::mt19937_64* rng) {
  const Json& learner = model["learner"];
  const float base_score =
      std::strtof(learner["learner_model_param"]["base_score"].get<std::string>().c_str(), nullptr);
  const Json& booster = learner["gradient_booster"]["model"];
  std::vector<TreeNodeSpec> nodes;
  std::vector<TreeWeightSpec> weights;
  for (size_t t = 0; t < booster["trees"].size(); ++t) {
    const int64_t target = c.classes > 2 ? booster["tree_info"][t].get<int64_t>() : 0;
    AddTree(booster["trees"][t], static_cast<int64_t>(t), target, rng, &nodes, &weights);
  }
  OnnxBuilder b(c.features, 15, 3);
  const bool classifier = c.classes > 0;
  auto* n =
      b.Node(classifier ? "TreeEnsembleClassifier" : "TreeEnsembleRegressor", {"x"}, "ai.onnx.ml");
  n->set_name("xgboost");
  testing::SetTreeAttrs(n, nodes, weights, classifier ? "class_" : "target_");
  if (!classifier) {
    SetAttr(n, "n_targets", int64_t{1});
    SetAttr(n, "base_values", std::vector<float>{base_score});
    b.Output(OnnxBuilder::Out(n));
    return b.Serialize();
  }
  std::vector<int64_t> labels(c.classes);
  for (int k = 0; k < c.classes; ++k) labels[k] = k;
  SetInts(n, "classlabels_int64s", labels);
  const float logit = -std::log(1.0f / base_score - 1.0f);  // XGBoost's own float math
  SetAttr(n, "base_values",
          c.classes == 2 ? std::vector<float>{logit} : std::vector<float>(c.classes, base_score));
  SetAttr(n, "post_transform",
          std::string(margins          ? "NONE"
                      : c.classes == 2 ? "LOGISTIC"
                                       : "SOFTMAX"));
  n->set_output(0, "label");
  n->add_output("probabilities");
  b.Output("label");
  b.Output("probabilities");
  return b.Serialize();
}

std::vector<float> RunOnnx(const std::string& onnx, const std::vector<float>& x, int features) {
  auto g = ImportOnnx(onnx);
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  auto m = DenseModel::Create(*g, {});
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  const size_t rows = x.size() / features;
  std::vector<float> y(rows * (*m)->OutputWidth(OutputKind::kValue));
  EXPECT_TRUE((*m)->Predict(x.data(), rows, OutputKind::kValue, y.data()).ok());
  return y;
}

class OnnxXGBoostTest : public ::testing::TestWithParam<Case> {};

TEST_P(OnnxXGBoostTest, MatchesXGBoost) {
  const Case& c = GetParam();
  std::mt19937_64 rng(std::hash<std::string>()(c.name));
  const Dataset train = MakeTrainingSet(c, &rng);
  std::map<std::string, std::string> params = {{"objective", c.objective},
                                               {"max_depth", std::to_string(c.depth)},
                                               {"eta", "0.3"},
                                               {"nthread", "1"}};
  if (c.classes > 2) params["num_class"] = std::to_string(c.classes);
  auto booster = XGBoostBooster::Train(train, params, c.rounds);
  ASSERT_TRUE(booster.ok()) << booster.status().ToString();
  const std::string json = SavedJson(*booster, c.name);
  const Json model = Json::parse(json);
  const size_t rows = 500;
  const std::vector<float> x = RandomRows(c, rows, &rng);
  auto want = booster->Predict(x.data(), rows, c.features, XGBoostBooster::Kind::kValue);
  auto margin = booster->Predict(x.data(), rows, c.features, XGBoostBooster::Kind::kMargin);
  ASSERT_TRUE(want.ok() && margin.ok());
  const std::string onnx = ToOnnx(model, c, false, &rng);
  const std::vector<float> got = RunOnnx(onnx, x, c.features);
  // The same compiled kernels as the model loaded from XGBoost's file.
  auto graph = ImportOnnx(onnx);
  auto direct = TreeModel::FromBytes(json, c.name, {});
  ASSERT_TRUE(graph.ok() && direct.ok());
  EXPECT_STREQ(graph->nodes.back().trees->kernel_name(), (*direct)->kernel_name());
  if (c.classes == 0) {
    for (size_t r = 0; r < rows; ++r) {
      ASSERT_NEAR(got[r], (*want)[r], 1e-5 * std::max(1.0f, std::fabs((*want)[r]))) << "row " << r;
    }
    return;
  }
  const std::vector<float> raw = RunOnnx(ToOnnx(model, c, true, &rng), x, c.features);
  const size_t k = static_cast<size_t>(c.classes);
  for (size_t r = 0; r < rows; ++r) {
    if (k == 2) {  // [1 - p, p] and [1 - m, m]
      ASSERT_NEAR(got[2 * r + 1], (*want)[r], 1e-6) << "row " << r;
      ASSERT_NEAR(got[2 * r], 1.0f - (*want)[r], 1e-6) << "row " << r;
      ASSERT_EQ(raw[2 * r + 1], (*margin)[r]) << "row " << r;
      continue;
    }
    for (size_t j = 0; j < k; ++j) {
      ASSERT_NEAR(got[r * k + j], (*want)[r * k + j], 1e-6) << "row " << r << " class " << j;
      ASSERT_EQ(raw[r * k + j], (*margin)[r * k + j]) << "row " << r << " class " << j;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Models, OnnxXGBoostTest,
    ::testing::Values(Case{"regression_d6", "reg:squarederror", 0, 6, 60, 12, 0.1},
                      Case{"regression_d10", "reg:squarederror", 0, 10, 30, 20, 0.2},
                      Case{"binary_d6", "binary:logistic", 2, 6, 80, 16, 0.1},
                      Case{"binary_d3_stumpy", "binary:logistic", 2, 3, 200, 6, 0.3},
                      Case{"multiclass3_d4", "multi:softprob", 3, 4, 30, 10, 0.15},
                      Case{"multiclass5_d8", "multi:softprob", 5, 8, 15, 12, 0.05}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

}  // namespace
}  // namespace hotpath::dense
