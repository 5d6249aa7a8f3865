// Mutated ONNX (dense and tree-ensemble models) and .hpd bytes: every one
// ends in a model or an error, and a model that loads also predicts.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "runtime/dense/dense_model.h"
#include "runtime/dense/graph_io.h"
#include "runtime/dense/onnx_import.h"
#include "runtime/dense/testing/onnx_builder.h"

namespace hotpath::dense {
namespace {

using testing::OnnxBuilder;

std::string SampleOnnx() {
  std::mt19937_64 rng(11);
  OnnxBuilder b(6, 13);
  auto* g = b.Node("Gemm", {"x", b.Random({6, 10}, 0.5f, &rng), b.Random({10}, 0.5f, &rng)});
  auto* r = b.Node("Relu", {OnnxBuilder::Out(g)});
  auto* m = b.Node("MatMul", {OnnxBuilder::Out(r), b.Random({10, 2}, 0.5f, &rng)});
  auto* a = b.Node("Add", {OnnxBuilder::Out(m), b.Const({2}, {0.1f, -0.1f})});
  b.Output(OnnxBuilder::Out(b.Node("Softmax", {OnnxBuilder::Out(a)})));
  return b.Serialize();
}

std::string Mutate(std::string s, std::mt19937_64* rng) {
  std::uniform_int_distribution<int> op(0, 3), byte(0, 255);
  const int edits = 1 + static_cast<int>((*rng)() % 4);
  for (int e = 0; e < edits && !s.empty(); ++e) {
    const size_t at = (*rng)() % s.size();
    switch (op(*rng)) {
      case 0:
        s[at] = static_cast<char>(byte(*rng));
        break;
      case 1:
        s.resize(at);
        break;
      case 2:
        s.insert(at, 1, static_cast<char>(byte(*rng)));
        break;
      default:
        s[at] ^= static_cast<char>(1 << ((*rng)() % 8));
        break;
    }
  }
  return s;
}

void LoadAndMaybePredict(const Result<Graph>& g) {
  if (!g.ok()) return;
  auto m = DenseModel::Create(*g, {});
  if (!m.ok()) return;
  std::vector<float> x(3 * (*m)->num_features(), 0.5f),
      y(3 * (*m)->OutputWidth(OutputKind::kValue));
  EXPECT_TRUE((*m)->Predict(x.data(), 3, OutputKind::kValue, y.data()).ok());
}

TEST(FuzzTest, MutatedOnnxNeverCrashes) {
  const std::string good = SampleOnnx();
  ASSERT_TRUE(ImportOnnx(good).ok());
  std::mt19937_64 rng(12);
  int loaded = 0;
  for (int i = 0; i < 20000; ++i) {
    const auto g = ImportOnnx(Mutate(good, &rng));
    loaded += g.ok();
    LoadAndMaybePredict(g);
  }
  RecordProperty("loaded", loaded);
}

// Field-level mutations that keep the protobuf valid, so they reach the
// importer's own checks: dims, op types, inputs, attributes, opsets.
void MutateFields(onnx::ModelProto* m, std::mt19937_64* rng) {
  auto* g = m->mutable_graph();
  std::uniform_int_distribution<int> small(-3, 12);
  const char* ops[] = {"Gemm",    "MatMul",  "Add",      "Relu",
                       "Softmax", "Concat",  "Reshape",  "BatchNormalization",
                       "Clip",    "Flatten", "Identity", "Gelu"};
  switch ((*rng)() % 6) {
    case 0:
      if (g->initializer_size() > 0) {
        auto* t = g->mutable_initializer((*rng)() % g->initializer_size());
        if (t->dims_size() > 0) t->set_dims((*rng)() % t->dims_size(), small(*rng));
      }
      break;
    case 1:
      g->mutable_node((*rng)() % g->node_size())->set_op_type(ops[(*rng)() % 12]);
      break;
    case 2: {
      auto* n = g->mutable_node((*rng)() % g->node_size());
      if (n->input_size() > 0)
        n->set_input((*rng)() % n->input_size(), "v" + std::to_string(small(*rng)));
      break;
    }
    case 3: {
      auto* a = g->mutable_node((*rng)() % g->node_size())->add_attribute();
      a->set_name((*rng)() % 2 ? "axis" : "transB");
      a->set_i(small(*rng));
      break;
    }
    case 4:
      g->mutable_input(0)
          ->mutable_type()
          ->mutable_tensor_type()
          ->mutable_shape()
          ->mutable_dim(1)
          ->set_dim_value(small(*rng));
      break;
    default:
      m->mutable_opset_import(0)->set_version(small(*rng) + 8);
  }
}

TEST(FuzzTest, FieldMutationsNeverCrash) {
  onnx::ModelProto good;
  ASSERT_TRUE(good.ParseFromString(SampleOnnx()));
  std::mt19937_64 rng(14);
  for (int i = 0; i < 5000; ++i) {
    onnx::ModelProto m = good;
    for (int e = 0; e < 1 + static_cast<int>(rng() % 3); ++e) MutateFields(&m, &rng);
    LoadAndMaybePredict(ImportOnnx(m.SerializeAsString()));
  }
}

// Scaler -> TreeEnsembleClassifier (every branch mode) -> ZipMap.
std::string SampleTreeOnnx() {
  OnnxBuilder b(3, 15, 3);
  auto* s = b.Node("Scaler", {"x"}, "ai.onnx.ml");
  testing::SetAttr(s, "scale", std::vector<float>{2.0f});
  auto* t = b.Node("TreeEnsembleClassifier", {OnnxBuilder::Out(s)}, "ai.onnx.ml");
  t->set_output(0, "label");
  t->add_output("probabilities");
  testing::SetTreeAttrs(t,
                        {{0, 0, "BRANCH_LEQ", 0, 0.5f, 1, 2, 1},
                         {0, 1, "BRANCH_EQ", 1, 1.0f, 3, 4, 0},
                         {0, 2, "BRANCH_NEQ", 2, -1.0f, 5, 6, 1},
                         {0, 3},
                         {0, 4},
                         {0, 5},
                         {0, 6},
                         {1, 0, "BRANCH_GT", 2, 0.0f, 1, 2, 0},
                         {1, 1, "BRANCH_LT", 0, 1.0f, 3, 4, 1},
                         {1, 2, "BRANCH_GTE", 1, 0.0f, 3, 4, 0},
                         {1, 3},
                         {1, 4}},
                        {{0, 3, 0, 0.5f},
                         {0, 4, 1, 0.25f},
                         {0, 5, 2, -0.5f},
                         {0, 6, 0, 1.0f},
                         {1, 3, 1, 0.75f},
                         {1, 4, 2, 0.125f}},
                        "class_");
  testing::SetInts(t, "classlabels_int64s", {4, 5, 6});
  testing::SetAttr(t, "post_transform", std::string("SOFTMAX"));
  testing::SetAttr(t, "base_values", std::vector<float>{0.1f, 0.2f, 0.3f});
  auto* z = b.Node("ZipMap", {"probabilities"}, "ai.onnx.ml");
  testing::SetInts(z, "classlabels_int64s", {4, 5, 6});
  b.Output("label");
  b.Output(OnnxBuilder::Out(z));
  return b.Serialize();
}

TEST(FuzzTest, MutatedTreeEnsembleOnnxNeverCrashes) {
  const std::string good = SampleTreeOnnx();
  ASSERT_TRUE(ImportOnnx(good).ok()) << ImportOnnx(good).status().ToString();
  std::mt19937_64 rng(15);
  int loaded = 0;
  for (int i = 0; i < 20000; ++i) {
    const auto g = ImportOnnx(Mutate(good, &rng));
    loaded += g.ok();
    LoadAndMaybePredict(g);
  }
  RecordProperty("loaded", loaded);
}

// Field-level mutations of the tree attributes: ids, features, modes,
// thresholds, weights, lengths, labels, transforms.
void MutateTreeFields(onnx::NodeProto* t, std::mt19937_64* rng) {
  std::uniform_int_distribution<int> small(-2, 8);
  auto* a = t->mutable_attribute((*rng)() % t->attribute_size());
  const float specials[] = {NAN, INFINITY, -INFINITY, 0.0f, 1e30f};
  const char* words[] = {"LEAF", "BRANCH_EQ", "BRANCH_XX", "SOFTMAX_ZERO", "PROBIT", "MAX", ""};
  switch ((*rng)() % 5) {
    case 0:
      if (a->ints_size() > 0) a->set_ints((*rng)() % a->ints_size(), small(*rng));
      break;
    case 1:
      if (a->floats_size() > 0) a->set_floats((*rng)() % a->floats_size(), specials[(*rng)() % 5]);
      break;
    case 2:
      if (a->strings_size() > 0) a->set_strings((*rng)() % a->strings_size(), words[(*rng)() % 7]);
      if (a->has_s()) a->set_s(words[(*rng)() % 7]);
      break;
    case 3:
      if (a->ints_size() > 0) a->mutable_ints()->RemoveLast();
      if (a->floats_size() > 0) a->mutable_floats()->RemoveLast();
      if (a->strings_size() > 0) a->mutable_strings()->RemoveLast();
      break;
    default:
      t->mutable_attribute()->DeleteSubrange(static_cast<int>((*rng)() % t->attribute_size()), 1);
  }
}

TEST(FuzzTest, TreeFieldMutationsNeverCrash) {
  onnx::ModelProto good;
  ASSERT_TRUE(good.ParseFromString(SampleTreeOnnx()));
  std::mt19937_64 rng(16);
  int loaded = 0;
  for (int i = 0; i < 5000; ++i) {
    onnx::ModelProto m = good;
    for (int e = 0; e < 1 + static_cast<int>(rng() % 3); ++e) {
      MutateTreeFields(m.mutable_graph()->mutable_node(1), &rng);
    }
    const auto g = ImportOnnx(m.SerializeAsString());
    loaded += g.ok();
    LoadAndMaybePredict(g);
  }
  RecordProperty("loaded", loaded);
}

TEST(FuzzTest, MutatedHpdNeverCrashes) {
  const auto g = ImportOnnx(SampleOnnx());
  ASSERT_TRUE(g.ok());
  const std::string good = SerializeGraph(*g);
  std::mt19937_64 rng(13);
  for (int i = 0; i < 20000; ++i) LoadAndMaybePredict(ParseGraph(Mutate(good, &rng)));
}

}  // namespace
}  // namespace hotpath::dense
