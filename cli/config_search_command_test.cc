// `hotpath plan configs` over a real repository: the recommendation is one
// of the grid's measured configs and a valid config.json for the model; an
// impossible bound is refused with the reason.
#include "cli/config_search_command.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "runtime/tree/testing/xgboost_trainer.h"

namespace hotpath::cli {
namespace {

namespace fs = std::filesystem;

TEST(ConfigSearchTest, RecommendsAMeasuredGridPoint) {
  const fs::path repo = fs::temp_directory_path() / ("hotpath_cfg_" + std::to_string(::getpid()));
  fs::remove_all(repo);
  fs::create_directories(repo / "m" / "1");
  testing::Dataset d;
  d.rows = 200;
  d.cols = 3;
  for (size_t i = 0; i < 600; ++i) d.x.push_back(static_cast<float>(i % 11) - 5);
  for (size_t r = 0; r < 200; ++r) d.label.push_back(d.x[r * 3] > 0);
  auto b = testing::XGBoostBooster::Train(d, {{"objective", "binary:logistic"}}, 5);
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(b->Save((repo / "m" / "1" / "model.json").string()).ok());
  std::ofstream(repo / "m" / "config.json") << R"({"backend": "xgboost", "max_batch_size": 4,
    "inputs": [{"name": "x", "datatype": "FP32", "dims": [3]}],
    "outputs": [{"name": "y", "datatype": "FP32", "dims": [1]}]})";
  ConfigSearchArgs a;
  a.repository = repo.string();
  a.model = "m";
  a.p99_us = 1e9;
  a.instance_counts = {1};
  a.max_batch_sizes = {1, 4};
  a.queue_delays_us = {50};
  a.concurrency = 2;
  a.duration_ms = 150;
  std::ostringstream out, progress;
  Status s = RunConfigSearch(a, out, progress);
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto j = nlohmann::json::parse(out.str());
  const int max_batch = j["recommended"]["max_batch_size"];
  EXPECT_TRUE(max_batch == 1 || max_batch == 4);
  EXPECT_EQ(j["config"]["max_batch_size"], max_batch);
  EXPECT_EQ(j["config"]["inputs"][0]["name"], "x");
  EXPECT_GT(j["throughput_rps"].get<double>(), 0);
  a.p99_us = 0.001;  // nothing answers in a nanosecond
  std::ostringstream none;
  EXPECT_EQ(RunConfigSearch(a, none, progress).code(), StatusCode::kFailedPrecondition);
  fs::remove_all(repo);
}

}  // namespace
}  // namespace hotpath::cli
