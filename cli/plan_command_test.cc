// `hotpath plan simulate` wiring: the summary it prints is the simulator's,
// and the timeline files are written.
#include "cli/plan_command.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace hotpath::cli {
namespace {

TEST(PlanCommandTest, SimulatesAndWritesTimeline) {
  const std::string src = HOTPATH_SOURCE_DIR;
  const auto out = std::filesystem::temp_directory_path() / ("hotpath_plan_" + std::to_string(::getpid()));
  PlanSimulateArgs a;
  a.trace = src + "/examples/planning/diurnal_week.csv";
  a.policy = src + "/examples/planning/policy_hotpath.json";
  a.catalog = src + "/examples/catalog/instances.json";
  a.capacity_rps = 150;
  a.history_s = 2 * 86400;
  a.out_dir = out.string();
  std::ostringstream text;
  Status s = RunPlanSimulate(a, text);
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto j = nlohmann::json::parse(text.str());
  EXPECT_EQ(j["policy"], "hotpath");
  EXPECT_EQ(j["minutes"], 5 * 24 * 60);  // the week minus two days of history
  EXPECT_GT(j["cost"].get<double>(), 0);
  // The CSV timeline has one row per simulated minute after its header.
  std::ifstream csv(out / "timeline.csv");
  size_t lines = 0;
  std::string line;
  while (std::getline(csv, line)) ++lines;
  EXPECT_EQ(lines, 5u * 24 * 60 + 1);
  EXPECT_TRUE(std::filesystem::file_size(out / "timeline.svg") > 1000);
  std::filesystem::remove_all(out);
}

TEST(PlanCommandTest, BadPolicyFileNamesTheProblem) {
  PlanSimulateArgs a;
  a.trace = std::string(HOTPATH_SOURCE_DIR) + "/examples/planning/diurnal_week.csv";
  a.policy = "/nonexistent/policy.json";
  std::ostringstream text;
  Status s = RunPlanSimulate(a, text);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent/policy.json"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace hotpath::cli
