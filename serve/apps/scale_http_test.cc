// The recommendation endpoint against the HPA ratio rule computed by hand.
#include "serve/apps/scale_http.h"

#include <gtest/gtest.h>

#include <cmath>

#include <nlohmann/json.hpp>

namespace hotpath {
namespace {

TEST(ScaleHttpTest, RecommendsTheRatioRuleForSteadyDemand) {
  scale::PolicyConfig policy = scale::PolicyConfig::Kubernetes();  // reactive only: hand-checkable
  scale::ReplicaFacts facts;
  facts.capacity_rps = 100;
  auto app = ScaleHttpApp::Create(policy, facts);
  ASSERT_TRUE(app.ok()) << app.status().ToString();
  // 600 s of steady 1,000 requests/s: the rule wants ceil(1000 / (100 x 0.7)) = 15 replicas.
  for (int t = 0; t < 600; ++t) (*app)->RecordDemand(t, 1000);
  HttpAppResponse out;
  ASSERT_TRUE((*app)->Handle({"GET", "/v1/scale/recommendation", "current=15", ""},
                             [&](HttpAppResponse r) { out = std::move(r); }));
  ASSERT_EQ(out.status, 200) << out.body;
  auto j = nlohmann::json::parse(out.body);
  EXPECT_EQ(j["replicas"], static_cast<int>(std::ceil(1000.0 / (100 * policy.target_utilization))));
  EXPECT_EQ(j["demand_rps"], 1000.0);
  ASSERT_TRUE((*app)->Handle({"GET", "/v1/scale/recommendation", "current=x", ""},
                             [&](HttpAppResponse r) { out = std::move(r); }));
  EXPECT_EQ(out.status, 400);
  EXPECT_FALSE((*app)->Handle({"GET", "/v1/other", "", ""}, [](HttpAppResponse) {}));
}

}  // namespace
}  // namespace hotpath
