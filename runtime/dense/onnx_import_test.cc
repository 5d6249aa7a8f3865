// ONNX models built with the protobuf API, imported and run by the engine,
// against the naive double-precision evaluator (testing/reference.cc).
#include "runtime/dense/onnx_import.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include "runtime/dense/dense_model.h"
#include "runtime/dense/testing/onnx_builder.h"

namespace hotpath::dense {
namespace {

using testing::OnnxBuilder;
using testing::SetAttr;

constexpr int64_t kF = 12;  // input features
constexpr int64_t kRows = 37;

// Imports `b`, runs it on fresh random rows with every ISA, and compares with
// the reference: |got - want| <= 1e-5 * max(1, |want|).
void ExpectMatchesReference(const OnnxBuilder& b, uint64_t seed) {
  auto graph = ImportOnnx(b.Serialize());
  ASSERT_TRUE(graph.ok()) << graph.status().ToString();
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> x(kRows * kF);
  for (float& v : x) v = d(rng);
  int64_t width = 0;
  const std::vector<double> want = testing::EvaluateOnnx(b.model(), x, kRows, &width);
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (!IsaSupported(isa)) continue;
    auto m = DenseModel::Create(*graph, {1, isa});
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    ASSERT_EQ((*m)->OutputWidth(OutputKind::kValue), width);
    for (size_t rows : {size_t{1}, size_t{kRows}}) {
      std::vector<float> got(rows * width);
      ASSERT_TRUE((*m)->Predict(x.data(), rows, OutputKind::kValue, got.data()).ok());
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_NEAR(got[i], want[i], 1e-5 * std::max(1.0, std::fabs(want[i])))
            << IsaName(isa) << " element " << i;
      }
    }
  }
}

// x -> Gemm(kF -> h) -> `op` -> output.
void CheckActivationAfterGemm(
    int opset, const std::function<std::string(OnnxBuilder&, const std::string&)>& op) {
  std::mt19937_64 rng(opset);
  OnnxBuilder b(kF, opset);
  auto* gemm = b.Node("Gemm", {"x", b.Random({kF, 20}, 0.4f, &rng), b.Random({20}, 0.5f, &rng)});
  b.Output(op(b, OnnxBuilder::Out(gemm)));
  ExpectMatchesReference(b, opset);
}

TEST(OnnxImportTest, GemmWithEveryActivation) {
  for (int opset : {9, 11, 13, 17}) {
    for (const char* act : {"Relu", "Sigmoid", "Tanh", "LeakyRelu", "Softmax"}) {
      SCOPED_TRACE(act);
      CheckActivationAfterGemm(opset, [&](OnnxBuilder& b, const std::string& in) {
        auto* n = b.Node(act, {in});
        if (std::string(act) == "LeakyRelu") SetAttr(n, "alpha", 0.2f);
        return OnnxBuilder::Out(n);
      });
    }
  }
}

TEST(OnnxImportTest, ClipAsAttributesAndAsInputs) {
  CheckActivationAfterGemm(9, [](OnnxBuilder& b, const std::string& in) {
    auto* n = b.Node("Clip", {in});
    SetAttr(n, "min", -0.3f);
    SetAttr(n, "max", 0.6f);
    return OnnxBuilder::Out(n);
  });
  CheckActivationAfterGemm(13, [](OnnxBuilder& b, const std::string& in) {
    return OnnxBuilder::Out(b.Node("Clip", {in, b.Const({}, {-0.4f}), b.Const({}, {0.5f})}));
  });
}

TEST(OnnxImportTest, GeluExactAndTanhOpset20AndMicrosoft) {
  for (const char* approx : {"none", "tanh"}) {
    CheckActivationAfterGemm(20, [&](OnnxBuilder& b, const std::string& in) {
      auto* n = b.Node("Gelu", {in});
      SetAttr(n, "approximate", std::string(approx));
      return OnnxBuilder::Out(n);
    });
  }
  CheckActivationAfterGemm(17, [](OnnxBuilder& b, const std::string& in) {
    return OnnxBuilder::Out(b.Node("Gelu", {in}, "com.microsoft"));
  });
}

TEST(OnnxImportTest, GemmAttributesTransBAlphaBeta) {
  std::mt19937_64 rng(5);
  OnnxBuilder b(kF, 13);
  auto* g = b.Node("Gemm", {"x", b.Random({9, kF}, 0.4f, &rng), b.Random({1, 9}, 1.0f, &rng)});
  SetAttr(g, "transB", int64_t{1});
  SetAttr(g, "alpha", 0.7f);
  SetAttr(g, "beta", -1.3f);
  b.Output(OnnxBuilder::Out(g));
  ExpectMatchesReference(b, 5);
}

TEST(OnnxImportTest, MatMulAddBatchNormMulDivSubFold) {
  std::mt19937_64 rng(6);
  OnnxBuilder b(kF, 15);
  auto* mm = b.Node("MatMul", {"x", b.Random({kF, 16}, 0.4f, &rng)});
  auto* add = b.Node("Add", {OnnxBuilder::Out(mm), b.Random({16}, 1.0f, &rng)});
  std::vector<float> var(16);
  for (float& v : var) v = 0.5f + std::fabs(std::normal_distribution<float>(0, 1)(rng));
  auto* bn = b.Node("BatchNormalization",
                    {OnnxBuilder::Out(add), b.Random({16}, 1.0f, &rng), b.Random({16}, 1.0f, &rng),
                     b.Random({16}, 1.0f, &rng), b.Const({16}, var)});
  SetAttr(bn, "epsilon", 1e-3f);
  auto* relu = b.Node("Relu", {OnnxBuilder::Out(bn)});
  auto* mul = b.Node("Mul", {b.Const({}, {1.5f}), OnnxBuilder::Out(relu)});
  auto* div = b.Node("Div", {OnnxBuilder::Out(mul), b.Random({1, 16}, 1.0f, &rng)});
  auto* sub = b.Node("Sub", {b.Random({16}, 1.0f, &rng), OnnxBuilder::Out(div)});
  auto* sub2 = b.Node("Sub", {OnnxBuilder::Out(sub), b.Const({}, {0.25f})});
  b.Output(OnnxBuilder::Out(sub2));
  ExpectMatchesReference(b, 6);
  auto graph = ImportOnnx(b.Serialize());
  ASSERT_TRUE(graph.ok());
  EXPECT_EQ(graph->nodes[0].kind, OpKind::kDense);
  EXPECT_EQ(graph->nodes[0].act.kind, Activation::kRelu) << "Add and BN folded, Relu fused";
}

TEST(OnnxImportTest, BinaryBetweenValuesConcatAndShapeOps) {
  std::mt19937_64 rng(7);
  OnnxBuilder b(kF, 14);
  auto* id = b.Node("Identity", {"x"});
  auto* fl = b.Node("Flatten", {OnnxBuilder::Out(id)});
  auto* rs = b.Node("Reshape", {OnnxBuilder::Out(fl), b.ConstInt({2}, {-1, kF})});
  auto* cast = b.Node("Cast", {OnnxBuilder::Out(rs)});
  SetAttr(cast, "to", int64_t{onnx::TensorProto::FLOAT});
  auto* drop = b.Node("Dropout", {OnnxBuilder::Out(cast)});
  auto* g1 = b.Node("Gemm", {OnnxBuilder::Out(drop), b.Random({kF, 8}, 0.4f, &rng)});
  auto* g2 = b.Node("MatMul", {OnnxBuilder::Out(drop), b.Random({kF, 8}, 0.4f, &rng)});
  auto* t = b.Node("Tanh", {OnnxBuilder::Out(g2)});
  std::string acc = OnnxBuilder::Out(g1);
  for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
    const std::string other =
        std::string(op) == "Div"
            ? OnnxBuilder::Out(b.Node("Add", {OnnxBuilder::Out(t), b.Const({}, {2.5f})}))
            : OnnxBuilder::Out(t);
    acc = OnnxBuilder::Out(b.Node(op, {acc, other}));
  }
  auto* cat = b.Node("Concat", {acc, OnnxBuilder::Out(t), "x"});
  SetAttr(cat, "axis", int64_t{1});
  auto* out = b.Node("Gemm", {OnnxBuilder::Out(cat), b.Random({8 + 8 + kF, 3}, 0.3f, &rng)});
  b.Output(OnnxBuilder::Out(b.Node("Sigmoid", {OnnxBuilder::Out(out)})));
  ExpectMatchesReference(b, 7);
}

TEST(OnnxImportTest, StandaloneBatchNormAndMlScalerNormalizer) {
  for (const char* norm : {"MAX", "L1", "L2"}) {
    std::mt19937_64 rng(8);
    OnnxBuilder b(kF, 12, 1);
    auto* sc = b.Node("Scaler", {"x"}, "ai.onnx.ml");
    std::vector<float> off(kF), scale(kF);
    for (int i = 0; i < kF; ++i) off[i] = 0.1f * i, scale[i] = 1.0f + 0.05f * i;
    SetAttr(sc, "offset", off);
    SetAttr(sc, "scale", scale);
    auto* bn = b.Node("BatchNormalization",
                      {OnnxBuilder::Out(sc), b.Random({kF}, 1.0f, &rng), b.Random({kF}, 1.0f, &rng),
                       b.Random({kF}, 1.0f, &rng), b.Const({kF}, std::vector<float>(kF, 2.0f))});
    auto* relu = b.Node("Relu", {OnnxBuilder::Out(bn)});
    auto* nz = b.Node("Normalizer", {OnnxBuilder::Out(relu)}, "ai.onnx.ml");
    SetAttr(nz, "norm", std::string(norm));
    b.Output(OnnxBuilder::Out(nz));
    ExpectMatchesReference(b, 8);
  }
}

TEST(OnnxImportTest, ConstantNodeFeedsAGemm) {
  std::mt19937_64 rng(9);
  OnnxBuilder b(kF, 11);
  auto* c = b.Node("Constant", {});
  auto* t = c->add_attribute();
  t->set_name("value");
  t->set_type(onnx::AttributeProto::TENSOR);
  t->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
  t->mutable_t()->add_dims(kF);
  t->mutable_t()->add_dims(4);
  for (int i = 0; i < kF * 4; ++i) t->mutable_t()->add_float_data(0.01f * i - 0.2f);
  b.Output(OnnxBuilder::Out(b.Node("MatMul", {"x", OnnxBuilder::Out(c)})));
  ExpectMatchesReference(b, 9);
}

TEST(OnnxImportTest, LoadsAVersionFolder) {
  std::mt19937_64 rng(12);
  OnnxBuilder b(kF, 13);
  b.Output(OnnxBuilder::Out(b.Node("Gemm", {"x", b.Random({kF, 2}, 0.5f, &rng)})));
  const auto dir = std::filesystem::temp_directory_path() / "hotpath_dense_version_test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "model.onnx", std::ios::binary) << b.Serialize();
  auto m = LoadDenseModel(dir, {});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)->num_features(), kF);
  EXPECT_EQ((*m)->signature().inputs[0].name, "x");
  std::filesystem::remove_all(dir);
  EXPECT_EQ(LoadDenseModel(dir, {}).status().code(), StatusCode::kNotFound);
}

TEST(OnnxImportTest, RefusalsNameNodeOpAndOpset) {
  std::mt19937_64 rng(10);
  {
    OnnxBuilder b(kF, 13);
    auto* n = b.Node("Conv", {"x"});
    n->set_name("my_conv");
    b.Output(OnnxBuilder::Out(n));
    const Status s = ImportOnnx(b.Serialize()).status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("'my_conv' (Conv, opset 13): unsupported op"), std::string::npos)
        << s.message();
  }
  {
    OnnxBuilder b(kF, 13);
    auto* n = b.Node("Gemm", {"x", b.Random({kF, 3}, 1.0f, &rng)});
    SetAttr(n, "transA", int64_t{1});
    b.Output(OnnxBuilder::Out(n));
    EXPECT_NE(ImportOnnx(b.Serialize()).status().message().find("transA"), std::string::npos);
  }
  {
    OnnxBuilder b(kF, 13);
    auto* n = b.Node("Relu", {"x"});
    SetAttr(n, "bogus", 1.0f);
    b.Output(OnnxBuilder::Out(n));
    EXPECT_NE(ImportOnnx(b.Serialize()).status().message().find("unsupported attribute 'bogus'"),
              std::string::npos);
  }
  {
    OnnxBuilder b(kF, 3);
    b.Output(OnnxBuilder::Out(b.Node("Relu", {"x"})));
    EXPECT_NE(ImportOnnx(b.Serialize()).status().message().find("opset 3"), std::string::npos);
  }
  EXPECT_FALSE(ImportOnnx("definitely not protobuf \xff\xff").ok());
}

}  // namespace
}  // namespace hotpath::dense
