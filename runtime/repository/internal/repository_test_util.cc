#include "runtime/repository/internal/repository_test_util.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

namespace hotpath::repository_internal {
namespace fs = std::filesystem;

TempRepo::TempRepo() {
  // mkdtemp replaces the six trailing X characters of the template.
  std::string templ = (fs::temp_directory_path() / ("hotpath_repo_" + std::string(6, 'X'))).string();
  char* made = mkdtemp(templ.data());
  EXPECT_NE(made, nullptr);
  path_ = templ;
}

TempRepo::~TempRepo() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void TempRepo::WriteFile(const std::string& relative, const std::string& text) const {
  fs::path p = fs::path(path_) / relative;
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

void TempRepo::WriteConfig(const std::string& model, const nlohmann::json& config) const {
  WriteFile(model + "/config.json", config.dump(2));
}

void TempRepo::Remove(const std::string& relative) const {
  std::error_code ec;
  fs::remove_all(fs::path(path_) / relative, ec);
}

TrainedModel TrainModel(int features, int rounds, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  testing::Dataset d;
  d.rows = 300;
  d.cols = static_cast<size_t>(features);
  d.x.resize(d.rows * d.cols);
  for (float& v : d.x) v = u(rng);
  const float shift = static_cast<float>(seed % 7) * 0.2f - 0.6f;
  for (size_t r = 0; r < d.rows; ++r) {
    const float* x = &d.x[r * d.cols];
    d.label.push_back(x[0] + std::sin(2.0f * x[1 % d.cols]) + shift > 0.0f ? 1.0f : 0.0f);
  }
  auto booster = testing::XGBoostBooster::Train(
      d, {{"objective", "binary:logistic"}, {"max_depth", "4"}, {"eta", "0.3"}, {"seed", "3"}},
      rounds);
  EXPECT_TRUE(booster.ok()) << booster.status().ToString();
  TrainedModel m;
  m.booster = std::make_unique<testing::XGBoostBooster>(std::move(booster).value());
  m.features = features;
  m.num_rows = 64;
  m.rows.resize(m.num_rows * d.cols);
  for (float& v : m.rows) v = u(rng);
  for (size_t i = 0; i < m.rows.size(); i += 11) m.rows[i] = std::nanf("");
  return m;
}

void WriteVersion(const TempRepo& repo, const std::string& name, int64_t version,
                  const TrainedModel& model, const std::string& file) {
  fs::path dir = fs::path(repo.ModelDir(name)) / std::to_string(version);
  fs::create_directories(dir);
  Status st = model.booster->Save((dir / file).string());
  ASSERT_TRUE(st.ok()) << st.ToString();
}

nlohmann::json BasicConfig(int features) {
  return {
      {"backend", "xgboost"},
      {"max_batch_size", 16},
      {"inputs", {{{"name", "features"}, {"datatype", "FP32"}, {"dims", {features}}}}},
      {"outputs", {{{"name", "probability"}, {"datatype", "FP32"}, {"dims", {1}}}}},
      {"warmup", {{"batch_sizes", {1, 16}}, {"random_rows", 8}}},
  };
}

std::vector<float> XGBoostPredict(const TrainedModel& model, testing::XGBoostBooster::Kind kind) {
  auto out = model.booster->Predict(model.rows.data(), model.num_rows,
                                    static_cast<size_t>(model.features), kind);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? *out : std::vector<float>();
}

std::vector<float> EnginePredict(const Model& m, const std::vector<float>& rows, size_t num_rows,
                                 OutputKind kind) {
  std::vector<float> out(num_rows * static_cast<size_t>(m.OutputWidth(kind)));
  Status st = m.Predict(rows.data(), num_rows, kind, out.data());
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

}  // namespace hotpath::repository_internal
