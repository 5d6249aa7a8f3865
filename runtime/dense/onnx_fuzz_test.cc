// Mutated ONNX and .hpd bytes: every one ends in a model or an error, and a
// model that loads also predicts.
#include <gtest/gtest.h>

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

TEST(FuzzTest, MutatedHpdNeverCrashes) {
  const auto g = ImportOnnx(SampleOnnx());
  ASSERT_TRUE(g.ok());
  const std::string good = SerializeGraph(*g);
  std::mt19937_64 rng(13);
  for (int i = 0; i < 20000; ++i) LoadAndMaybePredict(ParseGraph(Mutate(good, &rng)));
}

}  // namespace
}  // namespace hotpath::dense
