// `hotpath predict` end to end against XGBoost's own predictions: the
// printed %.9g values read back to exactly XGBoost's floats.
#include "cli/predict_command.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "runtime/tree/testing/xgboost_trainer.h"

namespace hotpath::cli {
namespace {

using hotpath::testing::Dataset;
using hotpath::testing::XGBoostBooster;

class PredictCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("hotpath_cli_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::mt19937_64 rng(4);
    std::normal_distribution<float> n(0, 1);
    data_.rows = 500;
    data_.cols = 5;
    for (size_t i = 0; i < data_.rows * data_.cols; ++i) data_.x.push_back(i % 7 == 0 ? NAN : n(rng));
    for (size_t r = 0; r < data_.rows; ++r) data_.label.push_back(r % 3 == 0);
    auto b = XGBoostBooster::Train(data_, {{"objective", "binary:logistic"}, {"max_depth", "4"}}, 20);
    ASSERT_TRUE(b.ok());
    booster_ = std::make_unique<XGBoostBooster>(std::move(b).value());
    ASSERT_TRUE(booster_->Save((dir_ / "m.json").string()).ok());
    std::ofstream csv(dir_ / "rows.csv");
    csv << "f0,f1,f2,f3,f4\n";
    std::ofstream jsonl(dir_ / "rows.jsonl");
    for (size_t r = 0; r < 50; ++r) {
      for (size_t c = 0; c < 5; ++c) {
        const float v = data_.x[r * 5 + c];
        char buf[32];
        std::snprintf(buf, sizeof(buf), "%.9g", v);
        csv << (c ? "," : "") << (std::isnan(v) ? "" : buf);
        jsonl << (c ? ", " : "[") << (std::isnan(v) ? "null" : buf);
      }
      csv << "\n";
      jsonl << "]\n";
    }
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::vector<float> Run(PredictArgs args) {
    std::ostringstream out;
    Status s = RunPredict(args, out);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::vector<float> v;
    std::istringstream in(out.str());
    std::string line, field;
    while (std::getline(in, line)) {
      std::istringstream l(line);
      while (std::getline(l, field, ',')) v.push_back(std::strtof(field.c_str(), nullptr));
    }
    return v;
  }

  std::filesystem::path dir_;
  Dataset data_;
  std::unique_ptr<XGBoostBooster> booster_;
};

TEST_F(PredictCommandTest, OutputsEqualXGBoostForCsvAndJsonLines) {
  for (const char* input : {"rows.csv", "rows.jsonl"}) {
    for (auto kind : {XGBoostBooster::Kind::kValue, XGBoostBooster::Kind::kMargin,
                      XGBoostBooster::Kind::kContributions}) {
      PredictArgs args{(dir_ / "m.json").string(), (dir_ / input).string()};
      args.margin = kind == XGBoostBooster::Kind::kMargin;
      args.contribs = kind == XGBoostBooster::Kind::kContributions;
      std::vector<float> got = Run(args);
      auto want = booster_->Predict(data_.x.data(), 50, 5, kind);
      ASSERT_TRUE(want.ok());
      ASSERT_EQ(got.size(), want->size()) << input;
      const double tol = kind == XGBoostBooster::Kind::kMargin ? 0.0 : 1e-5;
      for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], (*want)[i], tol) << input << " " << i;
    }
  }
}

TEST_F(PredictCommandTest, BadRowNamesFileAndLine) {
  std::ofstream(dir_ / "bad.csv") << "1,2,3,4,5\n1,2,oops,4,5\n";
  std::ostringstream out;
  Status s = RunPredict({(dir_ / "m.json").string(), (dir_ / "bad.csv").string()}, out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("bad.csv: line 2, column 3: 'oops' is not a number"), std::string::npos)
      << s.message();
}

}  // namespace
}  // namespace hotpath::cli
