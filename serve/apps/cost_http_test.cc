// The cost endpoint over a registry with the batchers' metric families:
// usage rates from the counters, the fleet's price from the catalog.
#include "serve/apps/cost_http.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace hotpath {
namespace {

TEST(CostHttpTest, ModelPaysForTheCpuItUses) {
  MetricsRegistry registry;
  auto compute = registry.AddHistogram({"hotpath_sched_compute_duration_seconds", "h", {"model", "version"}},
                                       HistogramBuckets::LatencySeconds());
  auto inferences = registry.AddCounter({"hotpath_sched_inferences_total", "c", {"model", "version"}});
  ASSERT_TRUE(compute.ok() && inferences.ok());
  Histogram* h = *(*compute)->WithLabels({"fraud", "1"});
  Counter* c = *(*inferences)->WithLabels({"fraud", "1"});
  auto catalog = scale::InstanceCatalog::Load(std::string(HOTPATH_SOURCE_DIR) + "/examples/catalog/instances.json");
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  CostHttpApp::Options o;
  o.catalog = *catalog;
  o.instance = "c7i.2xlarge";
  o.replicas = 3;
  o.monthly_budget = 5000;
  auto app = CostHttpApp::Create(o, &registry);
  ASSERT_TRUE(app.ok()) << app.status().ToString();
  // 10 seconds at half a core of compute and 2,000 inferences per second.
  for (int s = 0; s < 10; ++s) {
    for (int i = 0; i < 5; ++i) h->Observe(0.1);
    c->Increment(2000);
    (*app)->Tick();
  }
  HttpAppResponse out;
  ASSERT_TRUE((*app)->Handle({"GET", "/v1/cost", "", ""}, [&](HttpAppResponse r) { out = std::move(r); }));
  auto j = nlohmann::json::parse(out.body);
  const auto type = *catalog->Find("c7i.2xlarge");
  EXPECT_NEAR(j["total_per_hour"].get<double>(), 3 * type.on_demand_per_hour, 1e-9);
  ASSERT_EQ(j["models"].size(), 1u);
  EXPECT_NEAR(j["models"][0]["used_vcpu"].get<double>(), 0.5, 1e-9);
  EXPECT_NEAR(j["models"][0]["inferences_per_s"].get<double>(), 2000, 1e-9);
  const double per_vcpu = scale::SplitPrice(type, false).per_vcpu_hour;
  EXPECT_NEAR(j["models"][0]["per_hour"].get<double>(), 3 * 0.5 * per_vcpu, 1e-9);
  EXPECT_NEAR(j["models"][0]["per_million_inferences"].get<double>(), 3 * 0.5 * per_vcpu / (3 * 2000 * 3600.0) * 1e6,
              1e-9);
  EXPECT_GT(j["budget"]["projected_month_end"].get<double>(), 0);
  EXPECT_NE(registry.ExpositionText().find("hotpath_cost_per_hour"), std::string::npos);
  o.instance = "no-such-type";
  EXPECT_FALSE(CostHttpApp::Create(o, &registry).ok());
}

}  // namespace
}  // namespace hotpath
