#include "optimize/optimize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>

#include "optimize/metrics.h"
#include "optimize/transforms.h"
#include "runtime/dense/dense_model.h"
#include "runtime/dense/graph_io.h"
#include "runtime/dense/testing/onnx_builder.h"
#include "runtime/dense/testing/random_mlp.h"

namespace hotpath::optimize {
namespace {

using dense::Graph;

std::vector<float> Score(const Graph& g, const std::vector<float>& x, size_t rows) {
  auto m = dense::DenseModel::Create(g, {});
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  std::vector<float> y(rows * (*m)->OutputWidth(OutputKind::kValue));
  EXPECT_TRUE((*m)->Predict(x.data(), rows, OutputKind::kValue, y.data()).ok());
  return y;
}

EvalSet TeacherLabelled(const Graph& teacher, size_t rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  EvalSet e;
  e.rows = rows;
  e.x.resize(rows * teacher.widths[0]);
  for (float& v : e.x) v = d(rng);
  for (float p : Score(teacher, e.x, rows)) e.labels.push_back(u(rng) < p ? 1.0f : 0.0f);
  return e;
}

TEST(MetricsTest, AucEqualsPairwiseCount) {
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<int> s(0, 20), l(0, 1);
  std::vector<float> scores(300), labels(300);
  for (size_t i = 0; i < 300; ++i) scores[i] = s(rng) / 20.0f, labels[i] = l(rng);
  double wins = 0, pairs = 0;
  for (size_t i = 0; i < 300; ++i) {
    for (size_t j = 0; j < 300; ++j) {
      if (labels[i] == 1 && labels[j] == 0) {
        pairs += 1;
        wins += scores[i] > scores[j] ? 1.0 : scores[i] == scores[j] ? 0.5 : 0.0;
      }
    }
  }
  EXPECT_NEAR(Auc(scores, labels), wins / pairs, 1e-12);
  EXPECT_NEAR(LogLoss({0.25f}, {1.0f}), -std::log(0.25), 1e-7);
}

TEST(TransformsTest, Int8StaysCloseToFp32) {
  const Graph g = dense::testing::RandomMlp({32, 128, 64, 1}, 2);
  const EvalSet e = TeacherLabelled(g, 500, 3);
  const auto base = Score(g, e.x, e.rows);
  for (bool calibrated : {false, true}) {
    auto q = QuantizeInt8(g, {calibrated, e.x.data(), e.rows});
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(q->nodes[0].kind, dense::OpKind::kQuantDense);
    EXPECT_LT(MaxAbsDiff(Score(*q, e.x, e.rows), base), 0.03) << calibrated;
  }
}

TEST(TransformsTest, StructuredPruningDropsUselessNeuronsExactly) {
  Graph g = dense::testing::RandomMlp({16, 64, 1}, 4);
  for (int64_t j = 32; j < 64; ++j) g.nodes[1].weights[j] = 0.0f;  // half the neurons are unread
  const EvalSet e = TeacherLabelled(g, 200, 5);
  auto p = PruneNeurons(g, 0.5);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->widths[1], 32);
  EXPECT_LT(dense::GraphBytes(*p), dense::GraphBytes(g));
  EXPECT_LT(MaxAbsDiff(Score(*p, e.x, e.rows), Score(g, e.x, e.rows)), 1e-6);
  auto m = PruneMagnitude(g, 0.5);
  ASSERT_TRUE(m.ok());
  size_t zeros = 0;
  for (float w : m->nodes[0].weights) zeros += w == 0.0f;
  EXPECT_EQ(zeros, m->nodes[0].weights.size() / 2);
}

TEST(OptimizeTest, PublishesAPassingVariantOrRefusesWithNumbers) {
  const Graph g = dense::testing::RandomMlp({32, 128, 64, 1}, 6);
  const auto dir = std::filesystem::temp_directory_path() / "hotpath_optimize_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "1");
  ASSERT_TRUE(dense::WriteGraphFile(g, dir / "1" / "model.hpd").ok());
  OptimizeOptions o;
  o.model = dir / "1";
  o.output_dir = dir / "2";
  o.report_dir = dir / "report";
  o.eval = TeacherLabelled(g, 2000, 7);
  o.strategy = Strategy::kMemory;
  auto r = Optimize(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_GE(r->best, 0);
  EXPECT_TRUE(r->variants[r->best].passed);
  EXPECT_LE(r->baseline.accuracy.auc - r->variants[r->best].accuracy.auc, o.gate.max_auc_loss);
  auto published = dense::LoadDenseModel(dir / "2", {});
  ASSERT_TRUE(published.ok()) << published.status().ToString();
  EXPECT_TRUE(std::filesystem::exists(dir / "report" / "report.svg"));
  EXPECT_TRUE(std::filesystem::exists(dir / "report" / "report.csv"));

  o.output_dir = dir / "3";
  o.gate.max_auc_loss = -1;  // nothing can pass
  const Status refused = Optimize(o).status();
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("int8-dynamic: AUC"), std::string::npos) << refused.message();
  EXPECT_FALSE(std::filesystem::exists(dir / "3"));
  std::filesystem::remove_all(dir);
}

// An ONNX tree ensemble has no dense layers to quantise or prune and no
// .hpd form: refused up front, naming the node, before anything is measured.
TEST(OptimizeTest, RefusesAnOnnxTreeEnsemble) {
  dense::testing::OnnxBuilder b(2, 15, 3);
  auto* n = b.Node("TreeEnsembleRegressor", {"x"}, "ai.onnx.ml");
  n->set_name("trees");
  dense::testing::SetTreeAttrs(n, {{0, 0, "BRANCH_LEQ", 0, 0.5f, 1, 2}, {0, 1}, {0, 2}},
                               {{0, 1, 0, -1.0f}, {0, 2, 0, 1.0f}}, "target_");
  dense::testing::SetAttr(n, "n_targets", int64_t{1});
  n->set_output(0, "y");
  b.Output("y");
  const auto dir = std::filesystem::temp_directory_path() / "hotpath_optimize_onnx_trees";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "model.onnx", std::ios::binary) << b.Serialize();
  ASSERT_TRUE(dense::LoadDenseModel(dir / "model.onnx", {}).ok());  // it serves fine
  OptimizeOptions o;
  o.model = dir / "model.onnx";
  o.output_dir = dir / "out";
  o.report_dir = dir / "report";
  o.eval.x = {0.0f, 0.0f, 1.0f, 1.0f};
  o.eval.labels = {0, 1};
  o.eval.rows = 2;
  const Status s = Optimize(o).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("node 'trees' is an ONNX tree ensemble"), std::string::npos) << s.message();
  EXPECT_FALSE(std::filesystem::exists(dir / "out"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hotpath::optimize
