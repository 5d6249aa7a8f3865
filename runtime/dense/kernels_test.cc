// The fp32 and int8 kernels of every ISA this CPU has, against naive loops.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "runtime/dense/dense_model.h"
#include "runtime/dense/internal/gemm.h"
#include "runtime/dense/internal/qgemm.h"

namespace hotpath::dense {
namespace {

using internal::kPanel;

std::vector<Isa> SupportedIsas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kAvx512Vnni}) {
    if (IsaSupported(isa)) out.push_back(isa);
  }
  return out;
}

std::vector<float> Random(size_t n, std::mt19937_64* rng) {
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& f : v) f = d(*rng);
  return v;
}

TEST(GemmTest, EveryIsaMatchesNaiveDoubleLoops) {
  std::mt19937_64 rng(1);
  const ActivationSpec acts[] = {{Activation::kNone},
                                 {Activation::kRelu},
                                 {Activation::kLeakyRelu, 0.1f},
                                 {Activation::kClip, -0.5f, 0.7f},
                                 {Activation::kSigmoid},
                                 {Activation::kTanh},
                                 {Activation::kGelu},
                                 {Activation::kGeluTanh}};
  for (Isa isa : SupportedIsas()) {
    for (auto [rows, k, n] : {std::tuple{1, 7, 5},
                              {1, 64, 70},
                              {1, 40, 300},
                              {1, 20, 257},
                              {3, 33, 16},
                              {13, 100, 47},
                              {17, 256, 64},
                              {9, 1, 1}}) {
      for (const ActivationSpec& act : acts) {
        const auto x = Random(rows * k, &rng), b = Random(n, &rng);
        auto w = Random(k * n, &rng);  // fan-in scaled, as trained layers are
        for (float& v : w) v /= std::sqrt(static_cast<float>(k));
        const auto packed = internal::PackWeights(w.data(), b.data(), k, n, isa);
        std::vector<float> y(rows * (n + 3), -7.0f);
        internal::SelectGemm(isa)(x.data(), k, rows, packed, act, y.data(), n + 3);
        for (int r = 0; r < rows; ++r) {
          for (int j = 0; j < n; ++j) {
            double s = b[j];
            for (int t = 0; t < k; ++t) s += double{x[r * k + t]} * w[t * n + j];
            const double want = ApplyActivation(act, static_cast<float>(s));
            ASSERT_NEAR(y[r * (n + 3) + j], want, 1e-5 * std::max(1.0, std::fabs(want)))
                << IsaName(isa) << " rows=" << rows << " k=" << k << " n=" << n;
          }
          for (int j = n; j < n + 3; ++j) ASSERT_EQ(y[r * (n + 3) + j], -7.0f) << "wrote past n";
        }
      }
    }
  }
}

// Batch 1 with ReLU-like inputs (the AVX-512 GEMV skips the rows of zero
// inputs): against a naive double GEMV over narrow layers (≤ 256 columns, in
// registers: 256 exactly, 17, 1) and wide ones (whole rows streamed into y:
// 257, 272, 530, 1000 and 1024 columns, tails of 1, 0, 2, 8 and 0 lanes),
// more than one pass of inputs, all-zero and -0.0 inputs.
TEST(GemmTest, Batch1WithZeroInputsMatchesNaiveDoubleGemv) {
  std::mt19937_64 rng(3);
  for (Isa isa : SupportedIsas()) {
    for (auto [k, n] : {std::pair{300, 1000},
                        {1024, 272},
                        {2100, 530},
                        {1024, 1024},
                        {200, 257},
                        {256, 256},
                        {5, 17},
                        {64, 1}}) {
      for (double zeros : {0.5, 0.95, 1.0}) {
        auto x = Random(k, &rng);
        std::bernoulli_distribution zero(zeros);
        for (float& v : x) v = zero(rng) ? (v < 0 ? -0.0f : 0.0f) : v;
        const auto b = Random(n, &rng);
        auto w = Random(k * n, &rng);
        for (float& v : w) v /= std::sqrt(static_cast<float>(k));
        const auto packed = internal::PackWeights(w.data(), b.data(), k, n, isa);
        std::vector<float> y(n + 1, -7.0f);
        internal::SelectGemm(isa)(x.data(), k, 1, packed, {Activation::kRelu}, y.data(), n);
        for (int j = 0; j < n; ++j) {
          double s = b[j];
          for (int t = 0; t < k; ++t) s += double{x[t]} * w[t * n + j];
          const double want = std::max(s, 0.0);
          ASSERT_NEAR(y[j], want, 1e-5 * std::max(1.0, std::fabs(want)))
              << IsaName(isa) << " k=" << k << " n=" << n << " zeros=" << zeros << " j=" << j;
        }
        ASSERT_EQ(y[n], -7.0f) << "wrote past n";
      }
    }
  }
}

// A non-finite weight times a zero input is NaN, as in the naive product: the
// skip of zero inputs must not hide it, in a narrow layer or a wide one.
TEST(GemmTest, Batch1KeepsNanFromZeroTimesInfiniteWeight) {
  for (Isa isa : SupportedIsas()) {
    for (const int n : {20, 300}) {
      const int k = 40;
      std::vector<float> x(k, 1.0f), w(k * n, 0.5f), b(n, 0.0f);
      x[3] = 0.0f;
      w[3 * n + 5] = INFINITY;
      const auto packed = internal::PackWeights(w.data(), b.data(), k, n, isa);
      std::vector<float> y(n);
      internal::SelectGemm(isa)(x.data(), k, 1, packed, {}, y.data(), n);
      for (int j = 0; j < n; ++j) {
        if (j == 5) {
          EXPECT_TRUE(std::isnan(y[j])) << IsaName(isa);
        } else {
          EXPECT_FLOAT_EQ(y[j], 0.5f * (k - 1)) << IsaName(isa) << " n=" << n << " j=" << j;
        }
      }
    }
  }
}

// With unit scales and zero bias the int8 kernels output their int32 sums
// exactly, so every ISA must equal the naive integer product bit for bit,
// including the extremes where vpmaddubsw would saturate without care.
TEST(QGemmTest, EveryIsaEqualsIntegerProductAtTheExtremes) {
  std::mt19937_64 rng(2);
  std::uniform_int_distribution<int> any(-127, 127), pick(0, 3);
  for (Isa isa : SupportedIsas()) {
    for (auto [rows, k, n] : {std::tuple{1, 5, 3}, {1, 128, 80}, {11, 67, 33}, {16, 512, 32}}) {
      std::vector<int8_t> q(k * n);
      std::vector<float> x(rows * k);
      for (auto& v : q)
        v = static_cast<int8_t>(pick(rng) == 0 ? (any(rng) > 0 ? 127 : -127) : any(rng));
      for (auto& v : x)
        v = static_cast<float>(pick(rng) == 0 ? (any(rng) > 0 ? 127 : -127) : any(rng));
      std::vector<float> ones(n, 1.0f), zeros(n, 0.0f);
      const auto packed = internal::PackQWeights(q.data(), ones.data(), zeros.data(), k, n);
      const internal::QKernel kernel = internal::SelectQGemm(isa);
      std::vector<uint8_t> xq(rows * packed.kpad);
      std::vector<float> rs(rows), y(rows * n);
      internal::QuantizeRows(x.data(), k, rows, k, packed.kpad, 1.0f, kernel.offset128, xq.data(),
                             packed.kpad, rs.data());
      kernel.fn(xq.data(), packed.kpad, rs.data(), rows, packed, {}, y.data(), n);
      for (int r = 0; r < rows; ++r) {
        for (int j = 0; j < n; ++j) {
          int64_t s = 0;
          for (int t = 0; t < k; ++t) s += static_cast<int64_t>(x[r * k + t]) * q[t * n + j];
          ASSERT_EQ(y[r * n + j], static_cast<float>(s))
              << IsaName(isa) << " r=" << r << " j=" << j;
        }
      }
    }
  }
}

TEST(QuantizeTest, EveryIsaWritesTheSameBytes) {
  std::mt19937_64 rng(5);
  for (Isa isa : SupportedIsas()) {
    for (float fixed : {0.0f, 0.01f}) {  // dynamic, and a calibrated scale that clips
      for (auto [rows, k] : {std::pair{3, 37}, {2, 16}, {1, 1}}) {
        auto x = Random(rows * k, &rng);
        x[0] = NAN;
        x[k - 1] = 1e30f;
        const int64_t kpad = (k + 3) / 4 * 4;
        const internal::QKernel kernel = internal::SelectQGemm(isa);
        std::vector<uint8_t> want(rows * kpad), got(rows * kpad);
        std::vector<float> ws(rows), gs(rows);
        internal::QuantizeRows(x.data(), k, rows, k, kpad, fixed, kernel.offset128, want.data(),
                               kpad, ws.data());
        kernel.quantize(x.data(), k, rows, k, kpad, fixed, kernel.offset128, got.data(), kpad,
                        gs.data());
        EXPECT_EQ(got, want) << IsaName(isa) << " k=" << k;
        EXPECT_EQ(gs, ws);
      }
    }
  }
}

TEST(QuantizeTest, DynamicRowScaleMapsMaxAbsTo127) {
  const std::vector<float> x = {0.5f, -2.0f, 1.0f, 0.0f, 0.0f, 0.0f};
  std::vector<uint8_t> q(8);
  float rs[2];
  internal::QuantizeRows(x.data(), 3, 2, 3, 4, 0.0f, false, q.data(), 4, rs);
  EXPECT_FLOAT_EQ(rs[0], 2.0f / 127);
  EXPECT_EQ(static_cast<int8_t>(q[1]), -127);
  EXPECT_EQ(static_cast<int8_t>(q[0]), 32);  // round(0.5 / (2/127)) = round(31.75)
  EXPECT_EQ(q[3], 0);                        // padding
  EXPECT_EQ(rs[1], 0.0f);
}

Graph Mlp(const std::vector<int64_t>& widths, std::mt19937_64* rng) {
  Graph g;
  g.widths = {widths[0]};
  for (size_t l = 1; l < widths.size(); ++l) {
    Node n;
    n.kind = OpKind::kDense;
    n.inputs = {static_cast<int>(l) - 1};
    n.output = static_cast<int>(l);
    n.weights = Random(widths[l - 1] * widths[l], rng);
    for (float& w : n.weights) w /= std::sqrt(static_cast<float>(widths[l - 1]));
    n.bias = Random(widths[l], rng);
    n.act.kind = l + 1 < widths.size() ? Activation::kRelu : Activation::kSigmoid;
    g.widths.push_back(widths[l]);
    g.nodes.push_back(std::move(n));
  }
  g.output = static_cast<int>(widths.size()) - 1;
  return g;
}

TEST(DenseModelTest, ThreadsAndIsasAgreeOnLargeBatches) {
  std::mt19937_64 rng(3);
  const Graph g = Mlp({24, 64, 40, 3}, &rng);
  const size_t rows = 1000;
  const auto x = Random(rows * 24, &rng);
  auto base = DenseModel::Create(g, {1, Isa::kScalar});
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  std::vector<float> want(rows * 3);
  ASSERT_TRUE((*base)->Predict(x.data(), rows, OutputKind::kValue, want.data()).ok());
  for (Isa isa : SupportedIsas()) {
    auto m = DenseModel::Create(g, {2, isa});
    ASSERT_TRUE(m.ok());
    std::vector<float> got(rows * 3);
    ASSERT_TRUE((*m)->Predict(x.data(), rows, OutputKind::kValue, got.data()).ok());
    for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-5) << IsaName(isa);
  }
  EXPECT_EQ((*base)->Predict(x.data(), 1, OutputKind::kMargin, want.data()).code(),
            StatusCode::kUnimplemented);
}

TEST(IsaTest, NamesRoundTripAndUnknownIsRefused) {
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kAvx512Vnni}) {
    auto parsed = ParseIsa(IsaName(isa));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, isa);
  }
  EXPECT_NE(ParseIsa("sse9").status().message().find("'sse9'"), std::string::npos);
}

// An int8 copy of `g` (per-column weight scales); `input_scale` 0 = dynamic.
Graph Quantized(Graph g, float input_scale) {
  for (Node& n : g.nodes) {
    const int64_t k = g.widths[n.inputs[0]], cols = g.widths[n.output];
    n.weight_scale.assign(cols, 0.0f);
    for (int64_t i = 0; i < k * cols; ++i) {
      n.weight_scale[i % cols] = std::max(n.weight_scale[i % cols], std::fabs(n.weights[i]) / 127);
    }
    for (int64_t i = 0; i < k * cols; ++i) {
      n.qweights.push_back(
          static_cast<int8_t>(std::nearbyint(n.weights[i] / n.weight_scale[i % cols])));
    }
    n.weights.clear();
    n.kind = OpKind::kQuantDense;
    n.input_scale = input_scale;
  }
  return g;
}

TEST(DenseModelTest, Int8GraphsAgreeAcrossIsasAndThreads) {
  std::mt19937_64 rng(6);
  const Graph g = Mlp({40, 96, 33, 2}, &rng);
  const size_t rows = 300;
  const auto x = Random(rows * 40, &rng);
  for (float input_scale : {0.0f, 0.03f}) {
    const Graph q = Quantized(g, input_scale);
    auto base = DenseModel::Create(q, {1, Isa::kScalar});
    ASSERT_TRUE(base.ok()) << base.status().ToString();
    std::vector<float> want(rows * 2), fp32(rows * 2);
    ASSERT_TRUE((*base)->Predict(x.data(), rows, OutputKind::kValue, want.data()).ok());
    ASSERT_TRUE((*DenseModel::Create(g, {}))
                    ->Predict(x.data(), rows, OutputKind::kValue, fp32.data())
                    .ok());
    for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(want[i], fp32[i], 0.05) << "int8 drifted";
    for (Isa isa : SupportedIsas()) {
      auto m = DenseModel::Create(q, {2, isa});
      ASSERT_TRUE(m.ok());
      for (size_t n : {size_t{1}, rows}) {
        std::vector<float> got(n * 2);
        ASSERT_TRUE((*m)->Predict(x.data(), n, OutputKind::kValue, got.data()).ok());
        for (size_t i = 0; i < got.size(); ++i) {
          ASSERT_NEAR(got[i], want[i], 1e-5 * std::max(1.0f, std::fabs(want[i]))) << IsaName(isa);
        }
      }
    }
  }
}

TEST(DenseModelTest, RefusesMalformedGraphs) {
  std::mt19937_64 rng(4);
  Graph g = Mlp({4, 8, 1}, &rng);
  g.nodes[1].weights.pop_back();
  EXPECT_EQ(DenseModel::Create(g, {}).status().code(), StatusCode::kInvalidArgument);
  g = Mlp({4, 8, 1}, &rng);
  g.nodes[1].inputs = {2};
  EXPECT_EQ(DenseModel::Create(g, {}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hotpath::dense
