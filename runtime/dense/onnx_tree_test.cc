// ONNX TreeEnsembleRegressor / TreeEnsembleClassifier models built with the
// protobuf API, imported into the tree engine and checked against hand-worked
// expectations (every branch mode at and around its threshold, NaN, infinite
// and double thresholds, AVERAGE, base_values, every post_transform, the
// binary case, labels and ZipMap) and against the naive reference evaluator
// (testing/reference.cc) on random trees; bad artifacts are refused by name.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <tuple>

#include "runtime/dense/dense_model.h"
#include "runtime/dense/graph_io.h"
#include "runtime/dense/onnx_import.h"
#include "runtime/dense/testing/onnx_builder.h"

namespace hotpath::dense {
namespace {

using testing::OnnxBuilder;
using testing::SetAttr;
using testing::SetInts;
using testing::SetStrings;
using testing::TreeNodeSpec;
using testing::TreeWeightSpec;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr const char* kRegressor = "TreeEnsembleRegressor";
constexpr const char* kClassifier = "TreeEnsembleClassifier";

struct Trees {
  std::vector<TreeNodeSpec> nodes;
  std::vector<TreeWeightSpec> weights;
};

// Adds a tree ensemble node named "trees" reading `in`. A classifier's
// outputs are "label" and "probabilities".
onnx::NodeProto* AddTrees(OnnxBuilder& b, const std::string& in, const std::string& op,
                          const Trees& t) {
  auto* n = b.Node(op, {in}, "ai.onnx.ml");
  n->set_name("trees");
  const bool classifier = op == kClassifier;
  testing::SetTreeAttrs(n, t.nodes, t.weights, classifier ? "class_" : "target_");
  if (classifier) {
    n->set_output(0, "label");
    n->add_output("probabilities");
  }
  return n;
}

// Adds a regressor reading "x" with n_targets = targets and graph output "y".
onnx::NodeProto* AddRegressor(OnnxBuilder& b, const Trees& t, int64_t targets) {
  auto* n = AddTrees(b, "x", kRegressor, t);
  SetAttr(n, "n_targets", targets);
  n->set_output(0, "y");
  b.Output("y");
  return n;
}

// A regressor over `features` columns.
OnnxBuilder Regressor(const Trees& t, int64_t features, int64_t targets, int ml_opset = 3) {
  OnnxBuilder b(features, 15, ml_opset);
  AddRegressor(b, t, targets);
  return b;
}

void Drop(onnx::NodeProto* n, const std::string& name) {
  auto* attrs = n->mutable_attribute();
  for (int i = attrs->size(); i-- > 0;) {
    if (attrs->Get(i).name() == name) attrs->DeleteSubrange(i, 1);
  }
}

Result<std::unique_ptr<DenseModel>> Load(const OnnxBuilder& b, int threads = 1) {
  ASSIGN_OR_RETURN(const Graph g, ImportOnnx(b.Serialize()));
  return DenseModel::Create(g, {threads, std::nullopt});
}

std::vector<float> Predict(const DenseModel& m, const std::vector<float>& x) {
  const size_t rows = x.size() / m.num_features();
  std::vector<float> y(rows * m.OutputWidth(OutputKind::kValue));
  EXPECT_TRUE(m.Predict(x.data(), rows, OutputKind::kValue, y.data()).ok());
  return y;
}

// Runs `rows` one at a time and tiled to 300 rows (past the 128-row chunks
// and the 64-row SIMD blocks); each must give `want` [rows, width].
void ExpectOutputs(const OnnxBuilder& b, const std::vector<float>& x,
                   const std::vector<float>& want, float tol = 0) {
  auto m = Load(b);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const size_t f = (*m)->num_features(), w = (*m)->OutputWidth(OutputKind::kValue);
  const size_t rows = x.size() / f;
  ASSERT_EQ(want.size(), rows * w);
  std::vector<float> tiled;
  for (size_t r = 0; r < 300; ++r)
    tiled.insert(tiled.end(), &x[(r % rows) * f], &x[(r % rows) * f] + f);
  const std::vector<float> all = Predict(**m, tiled);
  for (size_t r = 0; r < rows; ++r) {
    const std::vector<float> one = Predict(**m, std::vector<float>(&x[r * f], &x[r * f] + f));
    for (size_t j = 0; j < w; ++j) {
      EXPECT_NEAR(one[j], want[r * w + j], tol) << "row " << r << " column " << j;
      for (size_t k = r; k < 300; k += rows) EXPECT_EQ(all[k * w + j], one[j]) << "tiled row " << k;
    }
  }
}

// A one-split tree on feature 0: leaf 1 (value 1) when the split holds, leaf
// 2 (value 2) otherwise.
Trees Stump(const std::string& mode, float threshold, int64_t missing_true) {
  return {{{0, 0, mode, 0, threshold, 1, 2, missing_true}, {0, 1}, {0, 2}},
          {{0, 1, 0, 1.0f}, {0, 2, 0, 2.0f}}};
}

std::vector<float> Expected(const std::string& truth) {
  std::vector<float> v;
  for (char c : truth) v.push_back(c == 'T' ? 1.0f : 2.0f);
  return v;
}

TEST(OnnxTreeTest, EveryBranchModeAtItsThreshold) {
  const float t = 0.5f;
  const std::vector<float> x = {
      std::nextafter(t, -kInf), t, std::nextafter(t, kInf), -kInf, kInf, kNan};
  // Which rows take the true branch: below, at, above, -inf, +inf; then NaN
  // follows missing_value_tracks_true.
  const std::pair<const char*, const char*> modes[] = {
      {"BRANCH_LEQ", "TTFTF"}, {"BRANCH_LT", "TFFTF"}, {"BRANCH_GTE", "FTTFT"},
      {"BRANCH_GT", "FFTFT"},  {"BRANCH_EQ", "FTFFF"}, {"BRANCH_NEQ", "TFTTT"}};
  for (const auto& [mode, truth] : modes) {
    for (int64_t missing : {0, 1}) {
      SCOPED_TRACE(std::string(mode) + " missing_true=" + std::to_string(missing));
      ExpectOutputs(Regressor(Stump(mode, t, missing), 1, 1), x,
                    Expected(std::string(truth) + (missing ? "T" : "F")));
    }
  }
}

TEST(OnnxTreeTest, InfiniteThresholds) {
  const std::vector<float> x = {-kInf, -1.0f, 0.0f, 1.0f, kInf};
  const std::tuple<const char*, float, const char*> cases[] = {
      {"BRANCH_LEQ", kInf, "TTTTT"},  {"BRANCH_LT", kInf, "TTTTF"},
      {"BRANCH_GTE", kInf, "FFFFT"},  {"BRANCH_GT", kInf, "FFFFF"},
      {"BRANCH_EQ", kInf, "FFFFT"},   {"BRANCH_NEQ", kInf, "TTTTF"},
      {"BRANCH_LEQ", -kInf, "TFFFF"}, {"BRANCH_LT", -kInf, "FFFFF"},
      {"BRANCH_GTE", -kInf, "TTTTT"}, {"BRANCH_GT", -kInf, "FTTTT"},
      {"BRANCH_EQ", -kInf, "TFFFF"},  {"BRANCH_NEQ", -kInf, "FTTTT"}};
  for (const auto& [mode, t, truth] : cases) {
    SCOPED_TRACE(std::string(mode) + " " + std::to_string(t));
    ExpectOutputs(Regressor(Stump(mode, t, 0), 1, 1), x, Expected(truth));
  }
}

// nodes_values_as_tensor in double: the float input is compared with the
// double threshold exactly (0.1f is above the double 0.1).
TEST(OnnxTreeTest, DoubleThresholdsCompareExactly) {
  const float above = 0.1f, below = std::nextafter(0.1f, 0.0f);
  const std::pair<const char*, const char*> modes[] = {
      {"BRANCH_LEQ", "FT"}, {"BRANCH_GT", "TF"}, {"BRANCH_EQ", "FF"}, {"BRANCH_NEQ", "TT"}};
  for (const auto& [mode, truth] : modes) {
    SCOPED_TRACE(mode);
    OnnxBuilder b(1, 15, 3);
    auto* n = AddRegressor(b, Stump(mode, 0, 0), 1);
    Drop(n, "nodes_values");
    auto* a = n->add_attribute();
    a->set_name("nodes_values_as_tensor");
    a->set_type(onnx::AttributeProto::TENSOR);
    a->mutable_t()->set_data_type(onnx::TensorProto::DOUBLE);
    a->mutable_t()->add_dims(3);
    for (double d : {0.1, 0.0, 0.0}) a->mutable_t()->add_double_data(d);
    ExpectOutputs(b, {above, below}, Expected(truth));
  }
}

// BRANCH_EQ/NEQ become two engine splits with the other subtree copied;
// nested ones copy copies.
TEST(OnnxTreeTest, NestedEqualitySplits) {
  Trees t;
  t.nodes = {{0, 0, "BRANCH_EQ", 0, 1.0f, 1, 2, 1},
             {0, 1},
             {0, 2, "BRANCH_EQ", 1, 2.0f, 3, 4, 0},
             {0, 3},
             {0, 4, "BRANCH_NEQ", 0, 3.0f, 5, 6, 1},
             {0, 5},
             {0, 6}};
  t.weights = {{0, 1, 0, 10}, {0, 3, 0, 20}, {0, 5, 0, 30}, {0, 6, 0, 40}};
  const std::vector<float> x = {1, 5, 0,    2,    0,    0, 3, 0, kNan,
                                0, 0, kNan, kNan, kNan, 3, 2, 1, kNan};
  // (1, *) -> 10; (x0 != 1, 2) -> 20; x0 != 3 -> 30; x0 == 3 -> 40; NaN x0
  // takes the true branch at the root; NaN x1 the false one, then x0 decides.
  ExpectOutputs(Regressor(t, 2, 1), x, {10, 20, 30, 40, 10, 30, 10, 20, 10});
}

// Two targets, three trees (ids out of order): tree 7 gives both targets,
// tree 2 only target 0, tree 5 target 1 twice on one leaf.
Trees ThreeTrees() {
  Trees t;
  t.nodes = {{7, 0, "BRANCH_LEQ", 0, 0.0f, 1, 2},
             {7, 1},
             {7, 2},
             {2, 9, "BRANCH_GT", 1, 1.0f, 4, 3},
             {2, 3},
             {2, 4},
             {5, 0}};
  t.weights = {{7, 1, 0, 1.0f}, {7, 1, 1, -1.0f}, {7, 2, 0, 2.0f},  {7, 2, 1, -2.0f},
               {2, 3, 0, 0.5f}, {2, 4, 0, 4.0f},  {5, 0, 1, 0.25f}, {5, 0, 1, 0.5f}};
  return t;
}

TEST(OnnxTreeTest, SumAverageAndBaseValues) {
  const std::vector<float> x = {-1, 0, 1, 2};  // rows (x0, x1)
  // Tree sums: row 0: target 0 = 1 + 0.5, target 1 = -1 + 0.75; row 1: 2 + 4, -2 + 0.75.
  for (const char* aggregate : {"SUM", "AVERAGE"}) {
    SCOPED_TRACE(aggregate);
    OnnxBuilder b(2, 15, 3);
    auto* n = AddRegressor(b, ThreeTrees(), 2);
    SetAttr(n, "aggregate_function", std::string(aggregate));
    SetAttr(n, "base_values", std::vector<float>{10.0f, 100.0f});
    const float k = std::string(aggregate) == "SUM" ? 1.0f : 1.0f / 3.0f;
    ExpectOutputs(b, x, {1.5f * k + 10, -0.25f * k + 100, 6.0f * k + 10, -1.25f * k + 100}, 1e-5f);
  }
}

TEST(OnnxTreeTest, EveryPostTransform) {
  // One single-leaf tree: margins [0, 1, -2] (PROBIT: [0.5, 0.8, 0.1]).
  const std::tuple<const char*, std::vector<float>, std::vector<float>> cases[] = {
      {"NONE", {0, 1, -2}, {0, 1, -2}},
      {"LOGISTIC", {0, 1, -2}, {0.5f, 0.7310585786f, 0.1192029220f}},
      {"SOFTMAX", {0, 1, -2}, {0.2594964603f, 0.7053845127f, 0.0351190270f}},
      {"SOFTMAX_ZERO", {0, 1, -2}, {0.0f, 0.9525741268f, 0.0474258732f}},
      {"PROBIT", {0.5f, 0.8f, 0.1f}, {0.0f, 0.8417559396f, -1.2817128991f}}};
  for (const auto& [post, margins, want] : cases) {
    SCOPED_TRACE(post);
    Trees t{{{0, 0}}, {}};
    for (int64_t o = 0; o < 3; ++o) t.weights.push_back({0, 0, o, margins[o]});
    OnnxBuilder b(1, 15, 3);
    SetAttr(AddRegressor(b, t, 3), "post_transform", std::string(post));
    ExpectOutputs(b, {0.0f}, want, 1e-6f);
  }
}

// One class weight column: two outputs, base_values start the sum.
TEST(OnnxTreeTest, BinaryClassifierAsTheOnnxReference) {
  Trees t = Stump("BRANCH_LT", 0.0f, 0);
  t.weights = {{0, 1, 0, 0.55f}, {0, 2, 0, -0.15f}};  // s = 0.25 + w: 0.8 (x < 0) or 0.1
  const std::pair<const char*, std::vector<float>> cases[] = {
      {"NONE", {0.2f, 0.8f, 0.9f, 0.1f}},
      {"LOGISTIC", {0.3100255189f, 0.6899744811f, 0.4750208125f, 0.5249791875f}},
      {"SOFTMAX", {0.1679816149f, 0.8320183851f, 0.4501660027f, 0.5498339973f}},
      {"SOFTMAX_ZERO", {0.1679816149f, 0.8320183851f, 0.4501660027f, 0.5498339973f}},
      {"PROBIT", {-0.8417559396f, 0.8417559396f, 1.2817128991f, -1.2817128991f}}};
  for (const auto& [post, want] : cases) {
    for (bool one_label : {false, true}) {
      SCOPED_TRACE(std::string(post) + (one_label ? " one label" : " two labels"));
      OnnxBuilder b(1, 15, 1);
      auto* n = AddTrees(b, "x", kClassifier, t);
      SetInts(n, "classlabels_int64s",
              one_label ? std::vector<int64_t>{1} : std::vector<int64_t>{0, 1});
      SetAttr(n, "base_values", std::vector<float>{0.25f});
      SetAttr(n, "post_transform", std::string(post));
      b.Output("label");
      b.Output("probabilities");
      ExpectOutputs(b, {-1.0f, 1.0f}, want, 2e-6f);
    }
  }
}

// String labels, base_values per class, SOFTMAX, then ZipMap: the
// probabilities tensor is served; the label output is not.
TEST(OnnxTreeTest, MulticlassWithZipMapAndIdentityLabel) {
  Trees t;
  t.nodes = {{0, 0, "BRANCH_GTE", 0, 0.0f, 1, 2}, {0, 1}, {0, 2}, {1, 0}};
  t.weights = {{0, 1, 0, 1.0f}, {0, 1, 2, 0.5f}, {0, 2, 1, 2.0f}, {1, 0, 2, 1.0f}};
  OnnxBuilder b(1, 15, 1);
  auto* n = AddTrees(b, "x", kClassifier, t);
  SetStrings(n, "classlabels_strings", {"a", "b", "c"});
  SetAttr(n, "base_values", std::vector<float>{0.0f, -1.0f, 0.5f});
  SetAttr(n, "post_transform", std::string("SOFTMAX"));
  auto* z = b.Node("ZipMap", {"probabilities"}, "ai.onnx.ml");
  SetStrings(z, "classlabels_strings", {"a", "b", "c"});
  z->set_output(0, "output_probability");
  b.Node("Identity", {"label"})->set_output(0, "output_label");
  b.Output("output_label");
  b.Output("output_probability");
  auto g = ImportOnnx(b.Serialize());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->output_name, "output_probability");
  // Margins: x >= 0: [1, -1, 2]; x < 0: [0, 1, 1.5].
  ExpectOutputs(
      b, {1.0f, -1.0f},
      {0.2594964603f, 0.0351190270f, 0.7053845127f, 0.1219516523f, 0.3314989604f, 0.5465493873f},
      1e-6f);
}

// Normalizer (MAX) in front: the trees split the normalised values.
TEST(OnnxTreeTest, NormalizerFeedsTheTrees) {
  OnnxBuilder b(2, 15, 1);
  auto* norm = b.Node("Normalizer", {"x"}, "ai.onnx.ml");
  SetAttr(norm, "norm", std::string("MAX"));
  auto* n = AddTrees(b, OnnxBuilder::Out(norm), kClassifier, Stump("BRANCH_LEQ", 0.5f, 0));
  SetInts(n, "classlabels_int64s", {0, 1});
  b.Output("probabilities");
  // (2, 4) -> (0.5, 1): x0 <= 0.5, s = 1; (3, 4) -> (0.75, 1): s = 2. NONE: [1 - s, s].
  ExpectOutputs(b, {2, 4, 3, 4}, {0, 1, -1, 2});
}

// ---- Random trees against the reference evaluator.

// Grid values (multiples of 1/4) are exact in float and double, so rows meet
// thresholds exactly and every mode's boundary is exercised.
float Grid(std::mt19937_64* rng) {
  return static_cast<float>(static_cast<int>((*rng)() % 17) - 8) / 4;
}

// Grows one random tree depth-first (root first); leaves weigh a random
// subset of the outputs with multiples of 1/64 (sums are exact).
int64_t Grow(Trees* t, int64_t tree, int depth, int features, int outputs, int64_t* next,
             std::mt19937_64* rng) {
  static const char* kModes[] = {"BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE",
                                 "BRANCH_GT",  "BRANCH_EQ", "BRANCH_NEQ"};
  const int64_t id = 3 * (*next)++ + 1;
  const size_t at = t->nodes.size();
  t->nodes.push_back({tree, id});
  if (depth == 0 || (*rng)() % 6 == 0) {
    for (int o = 0; o < outputs; ++o) {
      if ((*rng)() % 3 == 0) continue;
      t->weights.push_back(
          {tree, id, o, static_cast<float>(static_cast<int>((*rng)() % 129) - 64) / 64});
    }
    return id;
  }
  const int64_t yes = Grow(t, tree, depth - 1, features, outputs, next, rng);
  const int64_t no = Grow(t, tree, depth - 1, features, outputs, next, rng);
  t->nodes[at] = {tree,
                  id,
                  kModes[(*rng)() % 6],
                  static_cast<int64_t>((*rng)() % features),
                  Grid(rng),
                  yes,
                  no,
                  static_cast<int64_t>((*rng)() % 2)};
  return id;
}

Trees RandomTrees(int trees, int depth, int features, int outputs, std::mt19937_64* rng) {
  Trees t;
  int64_t next = 0;
  for (int i = 0; i < trees; ++i)
    Grow(&t, (i * 7 + 3) % trees, depth, features, outputs, &next, rng);
  return t;
}

void ExpectMatchesReference(const OnnxBuilder& b, const std::string& output, int features,
                            std::mt19937_64* rng) {
  auto m = Load(b, 2);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const int64_t rows = 300;
  std::vector<float> x(rows * features);
  for (float& v : x) v = (*rng)() % 10 == 0 ? kNan : Grid(rng);
  int64_t width = 0;
  const std::vector<double> want = testing::EvaluateOnnx(b.model(), x, rows, &width, output);
  ASSERT_EQ(width, (*m)->OutputWidth(OutputKind::kValue));
  const std::vector<float> got = Predict(**m, x);
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << "element " << i;
    } else {
      ASSERT_NEAR(got[i], want[i], 1e-5 * std::max(1.0, std::fabs(want[i]))) << "element " << i;
    }
  }
}

TEST(OnnxTreeTest, RandomRegressorsMatchTheReference) {
  std::mt19937_64 rng(21);
  for (const char* aggregate : {"SUM", "AVERAGE"}) {
    for (int targets : {1, 3}) {
      for (const char* post : {"NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO", "PROBIT"}) {
        SCOPED_TRACE(std::string(aggregate) + " " + post + " targets " + std::to_string(targets));
        OnnxBuilder b(4, 15, 3);
        // Scaler (exact on the grid) -> trees.
        auto* s = b.Node("Scaler", {"x"}, "ai.onnx.ml");
        SetAttr(s, "offset", std::vector<float>{0.5f});
        SetAttr(s, "scale", std::vector<float>{2.0f});
        auto* n = AddTrees(b, OnnxBuilder::Out(s), kRegressor, RandomTrees(6, 5, 4, targets, &rng));
        SetAttr(n, "n_targets", int64_t{targets});
        SetAttr(n, "aggregate_function", std::string(aggregate));
        SetAttr(n, "post_transform", std::string(post));
        SetAttr(n, "base_values", std::vector<float>(targets, 0.25f));
        b.Output(OnnxBuilder::Out(n));
        ExpectMatchesReference(b, "", 4, &rng);
      }
    }
  }
}

TEST(OnnxTreeTest, RandomClassifiersMatchTheReference) {
  std::mt19937_64 rng(22);
  for (int classes : {2, 4}) {
    for (bool one_column : {true, false}) {
      if (one_column && classes > 2) continue;
      for (const char* post : {"NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO", "PROBIT"}) {
        SCOPED_TRACE(std::string(post) + " classes " + std::to_string(classes));
        OnnxBuilder b(3, 15, 1);
        auto* n =
            AddTrees(b, "x", kClassifier, RandomTrees(5, 6, 3, one_column ? 1 : classes, &rng));
        std::vector<int64_t> labels(classes);
        for (int c = 0; c < classes; ++c) labels[c] = 10 + c;
        SetInts(n, "classlabels_int64s", labels);
        SetAttr(n, "post_transform", std::string(post));
        SetAttr(n, "base_values", std::vector<float>(classes, -0.125f));
        auto* z = b.Node("ZipMap", {"probabilities"}, "ai.onnx.ml");
        SetInts(z, "classlabels_int64s", labels);
        b.Output("label");
        b.Output(OnnxBuilder::Out(z));
        ExpectMatchesReference(b, OnnxBuilder::Out(z), 3, &rng);
      }
    }
  }
}

// ---- Refusals.

// A valid regressor ("trees", ml opset 3) for the mutations below.
OnnxBuilder ValidRegressor(const std::function<void(Trees*)>& edit_trees,
                           const std::function<void(onnx::NodeProto*)>& edit_node,
                           int ml_opset = 3) {
  Trees t;
  t.nodes = {{0, 0, "BRANCH_LEQ", 1, 0.5f, 1, 2},
             {0, 1},
             {0, 2, "BRANCH_EQ", 0, 1.0f, 3, 4},
             {0, 3},
             {0, 4}};
  t.weights = {{0, 1, 0, 1.0f}, {0, 3, 0, 2.0f}, {0, 4, 0, 3.0f}};
  edit_trees(&t);
  OnnxBuilder b(2, 15, ml_opset);
  edit_node(AddRegressor(b, t, 1));
  return b;
}

void ExpectRefused(const OnnxBuilder& b, const std::string& what, int ml_opset = 3) {
  const auto g = ImportOnnx(b.Serialize());
  ASSERT_FALSE(g.ok()) << what;
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument);
  const std::string prefix = "ONNX node 'trees' (ai.onnx.ml.TreeEnsemble";
  EXPECT_NE(g.status().message().find(prefix), std::string::npos) << g.status().message();
  EXPECT_NE(g.status().message().find(", opset " + std::to_string(ml_opset) + "): "),
            std::string::npos)
      << g.status().message();
  EXPECT_NE(g.status().message().find(what), std::string::npos) << g.status().message();
}

TEST(OnnxTreeTest, RefusesBadArtifactsNamingTheNode) {
  const auto keep = [](auto*) {};
  ASSERT_TRUE(ImportOnnx(ValidRegressor(keep, keep).Serialize()).ok());
  const std::pair<std::function<void(Trees*)>, const char*> tree_edits[] = {
      {[](Trees* t) { t->nodes[2].false_id = 0; }, "cycle"},
      {[](Trees* t) { t->nodes[2].true_id = 2; }, "cycle"},
      {[](Trees* t) { t->nodes[0].true_id = 9; }, "true node id 9 does not exist"},
      {[](Trees* t) { t->nodes[2].feature = 2; }, "feature id 2 out of range"},
      {[](Trees* t) { t->nodes[0].value = kNan; }, "threshold is NaN"},
      {[](Trees* t) { t->nodes[0].mode = "BRANCH_XX"; }, "'BRANCH_XX' is not a known mode"},
      {[](Trees* t) { t->nodes[3].id = 1; }, "appears twice"},
      {[](Trees* t) { t->weights[0].id = 2; }, "not a LEAF"},
      {[](Trees* t) { t->weights[0].id = 7; }, "does not exist"},
      {[](Trees* t) { t->weights[1].target = 1; }, "is for output 1"},
      {[](Trees* t) { t->weights[1].weight = kInf; }, "not a finite float"}};
  for (const auto& [edit, what] : tree_edits) ExpectRefused(ValidRegressor(edit, keep), what);
  const std::pair<std::function<void(onnx::NodeProto*)>, const char*> node_edits[] = {
      {[](onnx::NodeProto* n) { SetAttr(n, "aggregate_function", std::string("MIN")); },
       "MIN is not supported"},
      {[](onnx::NodeProto* n) { SetAttr(n, "aggregate_function", std::string("MEDIAN")); },
       "unknown aggregate_function"},
      {[](onnx::NodeProto* n) { SetAttr(n, "post_transform", std::string("EXP")); },
       "unknown post_transform"},
      {[](onnx::NodeProto* n) {
         SetAttr(n, "base_values", std::vector<float>{1, 2});
       },
       "base_values has 2 values"},
      {[](onnx::NodeProto* n) {
         Drop(n, "nodes_featureids");
         SetInts(n, "nodes_featureids", {0});
       },
       "nodes_featureids has 1 values"},
      {[](onnx::NodeProto* n) {
         SetAttr(n, "nodes_hitrates_as_tensor", 1.0f);
         SetAttr(n, "colour", 1.0f);
       },
       "unsupported attribute 'colour'"},
      {[](onnx::NodeProto* n) { Drop(n, "target_weights"); }, "target_weights has 0 values"},
      {[](onnx::NodeProto* n) { n->add_input("x"); }, "has 2 inputs"}};
  for (const auto& [edit, what] : node_edits) ExpectRefused(ValidRegressor(keep, edit), what);
  ExpectRefused(ValidRegressor(keep, keep, 5), "opsets 1-4", 5);
}

TEST(OnnxTreeTest, RefusesAmbiguousClassifiersAndRunawayEqualities) {
  OnnxBuilder b(1, 15, 1);
  Trees t = Stump("BRANCH_LT", 0.0f, 0);
  for (auto& w : t.weights) w.target = 1;  // one column, but for class 1
  SetInts(AddTrees(b, "x", kClassifier, t), "classlabels_int64s", {0, 1});
  b.Output("probabilities");
  ExpectRefused(b, "the binary case needs class 0", 1);
  // 40 nested BRANCH_EQ on 40 features, each copying its false subtree:
  // 2^40 nodes.
  Trees chain;
  for (int64_t i = 0; i < 40; ++i)
    chain.nodes.push_back({0, i, "BRANCH_EQ", i, 1.0f, 100 + i, i + 1});
  for (int64_t i = 0; i < 40; ++i) chain.nodes.push_back({0, 100 + i});
  chain.nodes.push_back({0, 40});
  ExpectRefused(Regressor(chain, 40, 1), "expand it beyond");
}

// A one-vs-rest chain on one feature (how categorical splits are exported):
// the copies' splits are decided by the splits above them, so the tree grows
// linearly, not 2^40.
TEST(OnnxTreeTest, EqualityChainOnOneFeatureStaysSmall) {
  Trees chain;
  for (int64_t i = 0; i < 40; ++i) {
    const float category = static_cast<float>((i * 17) % 40);  // not in order
    chain.nodes.push_back({0, i, "BRANCH_EQ", 0, category, 100 + i, i + 1, i % 2});
    chain.nodes.push_back({0, 100 + i});
    chain.weights.push_back({0, 100 + i, 0, category});
  }
  chain.nodes.push_back({0, 40});
  chain.weights.push_back({0, 40, 0, -1.0f});
  std::vector<float> x, want;
  for (int c = 0; c < 40; ++c) {
    x.push_back(static_cast<float>(c));
    want.push_back(static_cast<float>(c));
  }
  // Between or beyond the categories: the last leaf; NaN: node 0 tracks false,
  // node 1 (category 17) tracks true.
  x.insert(x.end(), {2.5f, -3.0f, 40.0f, kNan});
  want.insert(want.end(), {-1.0f, -1.0f, -1.0f, 17.0f});
  ExpectOutputs(Regressor(chain, 1, 1), x, want);
}

// The repository's `onnx` backend loads a version folder's model.onnx; tree
// ensembles have no .hpd form.
TEST(OnnxTreeTest, LoadsFromAVersionFolderButHasNoHpdForm) {
  const auto dir = std::filesystem::temp_directory_path() / "hotpath_onnx_tree_test" / "1";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "model.onnx", std::ios::binary) << Regressor(ThreeTrees(), 2, 2).Serialize();
  auto m = LoadDenseModel(dir, {});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(Predict(**m, {1, 2}), (std::vector<float>{6.0f, -1.25f}));
  EXPECT_GT((*m)->MemoryBytes(), 0u);
  auto g = LoadGraph(dir);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(WriteGraphFile(*g, dir / "model.hpd").code(), StatusCode::kInvalidArgument);
  std::filesystem::remove_all(dir.parent_path());
}

}  // namespace
}  // namespace hotpath::dense
