#include "optimize/tree_compaction.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>

#include "runtime/tree/testing/xgboost_trainer.h"
#include "runtime/tree/tree_model.h"

namespace hotpath::optimize {
namespace {

using testing::Dataset;
using testing::XGBoostBooster;

constexpr size_t kFeatures = 8;

// Labels drawn from a smooth nonlinear probability of the features.
Dataset Synthetic(size_t rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  Dataset d;
  d.rows = rows;
  d.cols = kFeatures;
  for (size_t r = 0; r < rows; ++r) {
    float z = 0;
    for (size_t c = 0; c < kFeatures; ++c) {
      const float v = n(rng);
      d.x.push_back(v);
      z += (c % 2 ? 0.6f : -0.4f) * v + (c == 0 ? 0.8f * v * v - 0.8f : 0.0f);
    }
    d.label.push_back(u(rng) < 1.0f / (1.0f + std::exp(-z)) ? 1.0f : 0.0f);
  }
  return d;
}

EvalSet Eval(const Dataset& d) { return {d.x, d.label, d.rows}; }

std::string Read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

class TreeCompactionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("hotpath_tree_compaction_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto b = XGBoostBooster::Train(
        Synthetic(3000, 1), {{"objective", "binary:logistic"}, {"max_depth", "3"}, {"eta", "0.1"}},
        kRounds);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    ASSERT_TRUE(b->Save((dir_ / "model.json").string()).ok());
    eval_ = Synthetic(2000, 2);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Our engine's probabilities for an artifact's text.
  std::vector<float> Engine(const std::string& json) {
    auto m = TreeModel::FromBytes(json, "test", {});
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    std::vector<float> out(eval_.rows);
    EXPECT_TRUE((*m)->Predict(eval_.x.data(), eval_.rows, OutputKind::kValue, out.data()).ok());
    return out;
  }

  // libxgboost's probabilities for a saved artifact, first `rounds` rounds (0 = all).
  std::vector<float> Oracle(const std::filesystem::path& path, int rounds) {
    auto b = XGBoostBooster::Load(path.string());
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    auto p =
        b->Predict(eval_.x.data(), eval_.rows, kFeatures, XGBoostBooster::Kind::kValue, {}, rounds);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return *p;
  }

  static constexpr int kRounds = 80;
  std::filesystem::path dir_;
  Dataset eval_;
};

void ExpectClose(const std::vector<float>& a, const std::vector<float>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-6) << "row " << i;
}

TEST_F(TreeCompactionTest, PrefixEqualsXGBoostIterationRange) {
  auto rounds = XGBoostRounds::Parse(Read(dir_ / "model.json"), "model.json");
  ASSERT_TRUE(rounds.ok()) << rounds.status().ToString();
  EXPECT_EQ(rounds->num_rounds(), static_cast<size_t>(kRounds));
  for (int k : {1, 17, kRounds}) {
    std::vector<size_t> keep(k);
    std::iota(keep.begin(), keep.end(), 0);
    auto json = rounds->Subset(keep, 0);
    ASSERT_TRUE(json.ok()) << json.status().ToString();
    const auto path = dir_ / ("prefix" + std::to_string(k) + ".json");
    WriteFile(path, *json);
    const std::vector<float> ours = Engine(*json);
    ExpectClose(ours, Oracle(dir_ / "model.json", k));  // XGBoost on the original, truncated
    ExpectClose(ours, Oracle(path, 0));                 // XGBoost reads our artifact
  }
  EXPECT_EQ(rounds->Subset({3, 2}, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(rounds->Subset({kRounds}, 0).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(TreeCompactionTest, CompactedModelsPassTheGateAndXGBoostAgrees) {
  auto rounds = XGBoostRounds::Parse(Read(dir_ / "model.json"), "model.json");
  ASSERT_TRUE(rounds.ok()) << rounds.status().ToString();
  CompactionOptions o;
  o.gate.max_auc_loss = 0.002;
  auto compacted = CompactTrees(*rounds, Eval(eval_), o);
  ASSERT_TRUE(compacted.ok()) << compacted.status().ToString();
  ASSERT_EQ(compacted->size(), 3u);
  // The gate holds on the confirmation rows (odd), which did not pick the size.
  const auto odd = [](const std::vector<float>& v) {
    std::vector<float> o;
    for (size_t i = 1; i < v.size(); i += 2) o.push_back(v[i]);
    return o;
  };
  const std::vector<float> full = Engine(Read(dir_ / "model.json"));
  const Accuracy base = MeasureAccuracy(odd(full), odd(eval_.label), odd(full));
  for (const CompactedModel& m : *compacted) {
    SCOPED_TRACE(m.name);
    EXPECT_TRUE(m.passed);
    EXPECT_LT(m.rounds, static_cast<size_t>(kRounds));
    const std::vector<float> ours = Engine(m.json);
    const Accuracy a = MeasureAccuracy(odd(ours), odd(eval_.label), odd(full));
    EXPECT_LE(base.auc - a.auc, o.gate.max_auc_loss);
    EXPECT_LE(a.log_loss - base.log_loss, o.gate.max_logloss_increase);
    EXPECT_DOUBLE_EQ(a.auc, m.accuracy.auc);
    const auto path = dir_ / "compacted.json";
    WriteFile(path, m.json);
    ExpectClose(ours, Oracle(path, 0));
    if (m.name.rfind("prefix ", 0) == 0) {
      ExpectClose(ours, Oracle(dir_ / "model.json", static_cast<int>(m.rounds)));
    }
  }
}

TEST_F(TreeCompactionTest, TooStrictGateIsRefused) {
  auto rounds = XGBoostRounds::Parse(Read(dir_ / "model.json"), "model.json");
  ASSERT_TRUE(rounds.ok());
  CompactionOptions o;
  o.gate.max_auc_loss = -0.01;  // a compacted model would have to beat the full one by 0.01 AUC
  auto compacted = CompactTrees(*rounds, Eval(eval_), o);
  ASSERT_TRUE(compacted.ok()) << compacted.status().ToString();
  for (const CompactedModel& m : *compacted) {
    EXPECT_FALSE(m.passed) << m.name;
    EXPECT_EQ(m.rounds, static_cast<size_t>(kRounds / 2));
  }

  // Through Optimize: refused with the numbers, nothing published.
  std::filesystem::create_directories(dir_ / "repo" / "1");
  std::filesystem::copy_file(dir_ / "model.json", dir_ / "repo" / "1" / "model.json");
  OptimizeOptions opt;
  opt.model = dir_ / "repo" / "1";
  opt.output_dir = dir_ / "repo" / "2";
  opt.report_dir = dir_ / "report";
  opt.eval = Eval(eval_);
  opt.gate = o.gate;
  opt.latency_rows = 100;
  const Status refused = Optimize(opt).status();
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("prefix 40/80 rounds: AUC"), std::string::npos)
      << refused.message();
  EXPECT_FALSE(std::filesystem::exists(dir_ / "repo" / "2"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "report" / "report.csv"));

  // With the default gate the smallest passing ensemble is published.
  opt.gate = Gate{};
  opt.strategy = Strategy::kMemory;
  auto report = Optimize(opt);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  auto published = TreeModel::Load((dir_ / "repo" / "2" / "model.json").string(), {});
  ASSERT_TRUE(published.ok()) << published.status().ToString();
  EXPECT_LT((*published)->num_trees(), static_cast<size_t>(kRounds));
  EXPECT_LT(report->variants[report->best].memory_bytes, report->baseline.memory_bytes);

  // A tree ensemble is published as XGBoost JSON: another artifact name is refused up front.
  opt.output_dir = dir_ / "repo" / "3";
  opt.artifact_name = "model.ubj";
  EXPECT_EQ(Optimize(opt).status().code(), StatusCode::kInvalidArgument);
}

TEST(XGBoostRoundsTest, RefusesWhatItCannotCompact) {
  EXPECT_EQ(XGBoostRounds::Parse("{", "m").status().code(), StatusCode::kInvalidArgument);
  const std::string regression = R"({"learner": {"objective": {"name": "reg:squarederror"}}})";
  const Status s = XGBoostRounds::Parse(regression, "m.json").status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("probability output"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace hotpath::optimize
