#include "observe/alert_rules.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace hotpath {
namespace {

TEST(AlertRulesTest, BurnRateThresholdsAreFactorTimesBudget) {
  AlertRulesOptions o;
  o.availability_objective = 0.999;  // budget 0.001
  auto y = PrometheusAlertRules(o);
  ASSERT_TRUE(y.ok());
  // 14.4 x 0.001, 6 x 0.001, 3 x 0.001, 1 x 0.001, each on both windows of its pair.
  for (const char* t : {"> 0.0144 and", "> 0.006 and", "> 0.003 and", "> 0.001 and"}) {
    EXPECT_NE(y->find(t), std::string::npos) << t;
  }
  EXPECT_NE(y->find("[1h]"), std::string::npos);
  EXPECT_NE(y->find("[5m]"), std::string::npos);
  EXPECT_NE(y->find("[3d]"), std::string::npos);
  EXPECT_EQ(BurnRateWindows().size(), 4u);
}

TEST(AlertRulesTest, BadOptionsAreNamed) {
  AlertRulesOptions o;
  o.availability_objective = 1.0;
  EXPECT_EQ(PrometheusAlertRules(o).status().message(), "availability_objective must be in (0, 1)");
  o = {};
  o.cores = 0;
  EXPECT_EQ(PrometheusAlertRules(o).status().message(), "cores must be >= 1");
}

// The generated file is what deploy/ ships, and promtool accepts it.
TEST(AlertRulesTest, PromtoolAcceptsTheShippedFile) {
  auto y = PrometheusAlertRules({});
  ASSERT_TRUE(y.ok());
  std::ifstream shipped(std::string(HOTPATH_SOURCE_DIR) + "/deploy/prometheus/hotpath-rules.yml");
  std::stringstream text;
  text << shipped.rdbuf();
  EXPECT_EQ(text.str(), *y) << "regenerate deploy/prometheus/hotpath-rules.yml with `hotpath alerts`";
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) GTEST_SKIP() << "promtool (Debian prometheus) missing";
  const std::string cmd = "promtool check rules " + std::string(HOTPATH_SOURCE_DIR) +
                          "/deploy/prometheus/hotpath-rules.yml > /dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

}  // namespace
}  // namespace hotpath
