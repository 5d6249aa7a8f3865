// `hotpath optimize` end to end on small repositories in a temp folder: a
// dense model gets a new version the repository serves, a too-strict gate is
// refused with the numbers, a tree ensemble is compacted.
#include "cli/optimize_command.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "cli/serve_command.h"
#include "optimize/metrics.h"
#include "runtime/dense/dense_model.h"
#include "runtime/dense/graph.h"
#include "runtime/dense/graph_io.h"
#include "runtime/dense/testing/random_mlp.h"
#include "runtime/repository/model_repository.h"
#include "runtime/tree/testing/xgboost_trainer.h"
#include "runtime/tree/tree_model.h"

namespace hotpath::cli {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kFeatures = 16;


// Rows x [rows, kFeatures] N(0, 1).
std::vector<float> Rows(size_t rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> x(rows * kFeatures);
  for (float& v : x) v = d(rng);
  return x;
}

// Labels drawn as Bernoulli(p) of the given probabilities.
std::vector<float> Draw(const std::vector<float>& p, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> y;
  for (float v : p) y.push_back(u(rng) < v ? 1.0f : 0.0f);
  return y;
}

std::vector<float> Predict(const Model& m, const std::vector<float>& x) {
  std::vector<float> out(x.size() / kFeatures);
  EXPECT_TRUE(m.Predict(x.data(), out.size(), OutputKind::kValue, out.data()).ok());
  return out;
}

// label first, then f0..f15; an empty field where x is NaN.
void WriteEvalCsv(const fs::path& path, const std::vector<float>& x, const std::vector<float>& y) {
  std::ofstream out(path);
  out.precision(9);
  out << "label";
  for (int64_t c = 0; c < kFeatures; ++c) out << ",f" << c;
  out << "\n";
  for (size_t r = 0; r < y.size(); ++r) {
    out << y[r];
    for (int64_t c = 0; c < kFeatures; ++c) {
      out << ",";
      if (!std::isnan(x[r * kFeatures + c])) out << x[r * kFeatures + c];
    }
    out << "\n";
  }
}

void WriteConfig(const fs::path& model_dir, const std::string& backend) {
  std::ofstream(model_dir / "config.json")
      << R"({"backend": ")" << backend << R"(", "max_batch_size": 64,
           "inputs": [{"name": "x", "datatype": "FP32", "dims": [16]}],
           "outputs": [{"name": "p", "datatype": "FP32", "dims": [1]}],
           "warmup": {"batch_sizes": [1, 64], "random_rows": 8}})";
}

Result<std::unique_ptr<ModelRepository>> OpenRepository(const fs::path& repo) {
  ModelRepository::Options o;
  o.path = repo.string();
  ASSIGN_OR_RETURN(o.backends, ServingBackends());
  o.log = [](std::string_view) {};
  return ModelRepository::Create(o);
}

class OptimizeCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("hotpath_optimize_command_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // repo/ranker: a dense model as version 1, and eval.csv labelled by it.
  void MakeDenseRepository() {
    const fs::path model_dir = dir_ / "repo" / "ranker";
    fs::create_directories(model_dir / "1");
    WriteConfig(model_dir, "dense");
    const dense::Graph g = dense::testing::RandomMlp({kFeatures, 64, 32, 1}, 7);
    ASSERT_TRUE(dense::WriteGraphFile(g, model_dir / "1" / "model.hpd").ok());
    auto m = dense::DenseModel::Create(g, {});
    ASSERT_TRUE(m.ok());
    x_ = Rows(3000, 8);
    y_ = Draw(Predict(**m, x_), 9);
    WriteEvalCsv(dir_ / "eval.csv", x_, y_);
  }

  OptimizeArgs Args(const std::string& model) {
    OptimizeArgs a;
    a.model = (dir_ / "repo" / model).string();
    a.eval = (dir_ / "eval.csv").string();
    return a;
  }

  fs::path dir_;
  std::vector<float> x_, y_;
  std::ostringstream out_, progress_;
};

TEST_F(OptimizeCommandTest, DenseModelGetsAVersionTheRepositoryServes) {
  MakeDenseRepository();
  OptimizeArgs a = Args("ranker");
  a.strategy = "memory";
  const Status s = RunOptimize(a, out_, progress_);
  ASSERT_TRUE(s.ok()) << s.ToString() << "\n" << progress_.str();
  EXPECT_NE(progress_.str().find("optimize: measuring int8-dynamic"), std::string::npos);
  EXPECT_NE(out_.str().find("new version: "), std::string::npos) << out_.str();
  const fs::path model_dir = dir_ / "repo" / "ranker";
  EXPECT_TRUE(fs::exists(model_dir / "2" / "model.hpd"));
  EXPECT_FALSE(fs::exists(model_dir / ".optimize-staging"));
  for (const char* f : {"report.md", "report.csv", "report.svg"}) {
    EXPECT_TRUE(fs::exists(model_dir / "optimize-report" / f)) << f;
  }

  // A polling repository serves version 2; its accuracy is within the gate.
  auto repo = OpenRepository(dir_ / "repo");
  ASSERT_TRUE(repo.ok()) << repo.status().ToString();
  auto v2 = (*repo)->Get("ranker");
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ((*v2)->version(), 2);
  auto v1 = dense::LoadDenseModel(model_dir / "1", {});
  ASSERT_TRUE(v1.ok());
  const double base_auc = optimize::Auc(Predict(**v1, x_), y_);
  const double new_auc = optimize::Auc(Predict((*v2)->model(), x_), y_);
  EXPECT_LE(base_auc - new_auc, a.max_accuracy_loss);
  EXPECT_LT((*v2)->model().MemoryBytes(), (*v1)->MemoryBytes());
}

TEST_F(OptimizeCommandTest, TooStrictGateIsRefusedWithTheNumbers) {
  MakeDenseRepository();
  OptimizeArgs a = Args("ranker/1");  // a version folder names the source version
  a.max_accuracy_loss = -0.01;
  const Status s = RunOptimize(a, out_, progress_);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find("baseline AUC 0."), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("int8-dynamic: AUC 0."), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("max AUC loss -0.01"), std::string::npos) << s.message();
  EXPECT_FALSE(fs::exists(dir_ / "repo" / "ranker" / "2"));
  EXPECT_FALSE(fs::exists(dir_ / "repo" / "ranker" / ".optimize-staging"));
  EXPECT_TRUE(fs::exists(dir_ / "repo" / "ranker" / "optimize-report" / "report.md"));
}

TEST_F(OptimizeCommandTest, TreeModelIsCompacted) {
  // 60 rounds of XGBoost on rows labelled by a smooth function; eval rows
  // have some missing values, which trees route.
  testing::Dataset train;
  train.rows = 4000;
  train.cols = kFeatures;
  train.x = Rows(train.rows, 11);
  std::vector<float> p;
  for (size_t r = 0; r < train.rows; ++r) {
    const float* row = train.x.data() + r * kFeatures;
    p.push_back(1.0f / (1.0f + std::exp(-(row[0] - 0.7f * row[1] + 0.5f * row[2] * row[3]))));
  }
  train.label = Draw(p, 12);
  auto booster = testing::XGBoostBooster::Train(
      train, {{"objective", "binary:logistic"}, {"max_depth", "4"}, {"eta", "0.1"}}, 60);
  ASSERT_TRUE(booster.ok()) << booster.status().ToString();
  const fs::path model_dir = dir_ / "repo" / "scorer";
  fs::create_directories(model_dir / "1");
  WriteConfig(model_dir, "xgboost");
  ASSERT_TRUE(booster->Save((model_dir / "1" / "model.json").string()).ok());
  x_ = Rows(2000, 13);
  for (size_t i = 0; i < x_.size(); i += 97) x_[i] = NAN;
  auto labels_from =
      booster->Predict(x_.data(), 2000, kFeatures, testing::XGBoostBooster::Kind::kValue);
  ASSERT_TRUE(labels_from.ok());
  y_ = Draw(*labels_from, 14);
  WriteEvalCsv(dir_ / "eval.csv", x_, y_);

  OptimizeArgs a = Args("scorer");
  a.strategy = "latency";
  const Status s = RunOptimize(a, out_, progress_);
  ASSERT_TRUE(s.ok()) << s.ToString() << "\n" << progress_.str();
  EXPECT_NE(progress_.str().find("compaction: prefix "), std::string::npos) << progress_.str();

  auto repo = OpenRepository(dir_ / "repo");
  ASSERT_TRUE(repo.ok()) << repo.status().ToString();
  auto v2 = (*repo)->Get("scorer");
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ((*v2)->version(), 2);
  auto compacted = TreeModel::Load((model_dir / "2" / "model.json").string(), {});
  ASSERT_TRUE(compacted.ok()) << compacted.status().ToString();
  EXPECT_LT((*compacted)->num_trees(), 60u);
  const double base_auc = optimize::Auc(*labels_from, y_);
  EXPECT_LE(base_auc - optimize::Auc(Predict((*v2)->model(), x_), y_), a.max_accuracy_loss);
}

TEST_F(OptimizeCommandTest, EvalFileErrorsNameTheProblem) {
  const fs::path csv = dir_ / "e.csv";
  std::ofstream(csv) << "f0,f1\n1,2\n";
  EXPECT_NE(ReadEvalCsv(csv.string(), "label").status().message().find("column named 'label'"),
            std::string::npos);
  std::ofstream(csv) << "f0,label\n1,0\n2,0.5\n";
  const Status bad = ReadEvalCsv(csv.string(), "label").status();
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("line 3"), std::string::npos) << bad.message();
  std::ofstream(csv) << "target,f0,f1\n1,,2\n0,3,4\n";
  auto e = ReadEvalCsv(csv.string(), "target");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->rows, 2u);
  EXPECT_EQ(e->labels, (std::vector<float>{1, 0}));
  EXPECT_TRUE(std::isnan(e->x[0]));
  EXPECT_EQ(e->x[3], 4.0f);

  // A dense model refuses missing values, naming the row.
  MakeDenseRepository();
  std::vector<float> x = x_;
  x[5 * kFeatures + 2] = NAN;
  WriteEvalCsv(dir_ / "eval.csv", x, y_);
  const Status s = RunOptimize(Args("ranker"), out_, progress_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("eval row 6, feature 3"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace hotpath::cli
