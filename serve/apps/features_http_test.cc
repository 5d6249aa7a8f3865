// The feature store's HTTP API through its app handler, with a real durable
// store: counts and sums against the events sent, statuses, and errors.
#include "serve/apps/features_http.h"

#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

namespace hotpath {
namespace {

HttpAppResponse Call(HttpApp& app, std::string_view path, std::string_view body) {
  HttpAppResponse out;
  EXPECT_TRUE(app.Handle({"POST", path, "", body}, [&out](HttpAppResponse r) { out = std::move(r); }));
  return out;
}

TEST(FeaturesHttpTest, IngestThenReadMatchesTheEvents) {
  const auto dir = std::filesystem::temp_directory_path() / ("hotpath_features_http_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto defs = features::LoadDefinitionsFile(std::string(HOTPATH_SOURCE_DIR) + "/examples/fraud/features.json");
  ASSERT_TRUE(defs.ok());
  auto shared = std::make_shared<const features::Definitions>(std::move(*defs));
  FakeClock clock(TimePoint(std::chrono::milliseconds(1767225600000)));
  features::DurableFeatureStore::Options so;
  so.store.definitions = shared;
  so.store.clock = &clock;
  so.dir = dir.string();
  so.sync = false;
  auto store = features::DurableFeatureStore::Open(so);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto app = FeaturesHttpApp::Create(shared, store->get());
  ASSERT_TRUE(app.ok());
  const int64_t now = 1767225600000;
  nlohmann::json events = nlohmann::json::array();
  for (int i = 0; i < 5; ++i) {
    events.push_back({{"type", "txn"}, {"user", "u1"}, {"timestamp_ms", now - i * 1000}, {"amount", 10.0 * (i + 1)},
                      {"cnp", i % 2}, {"merchant", "m" + std::to_string(i % 2)}, {"device", "d"}, {"country", "DE"}});
  }
  events.push_back({{"type", "txn"}, {"user", "u1"}});       // malformed: no timestamp or fields
  events.push_back({{"type", "nope"}, {"user", "u1"}});      // unknown source
  auto ingest = nlohmann::json::parse(Call(**app, "/v1/features/events", events.dump()).body);
  EXPECT_EQ(ingest["applied"], 5);
  ASSERT_EQ(ingest["errors"].size(), 2u);
  EXPECT_EQ(ingest["errors"][0]["index"], 5);
  EXPECT_EQ(ingest["errors"][1]["index"], 6);

  auto read = Call(**app, "/v1/features/read",
                   R"({"entities": ["u1", "nobody"], "features": ["user.count.1h", "user.amount_sum.1h", "user.merchants.24h"]})");
  ASSERT_EQ(read.status, 200) << read.body;
  auto v = nlohmann::json::parse(read.body)["values"];
  EXPECT_EQ(v[0][0]["value"], 5);
  EXPECT_EQ(v[0][1]["value"], 150.0);  // 10 + 20 + 30 + 40 + 50
  EXPECT_NEAR(v[0][2]["value"].get<double>(), 2.0, 0.1);  // HyperLogLog of {m0, m1}
  EXPECT_EQ(v[1][0]["status"], "not_found");

  EXPECT_EQ(Call(**app, "/v1/features/read", R"({"entities": ["u1"], "features": ["user.nope.1h"]})").status, 400);
  EXPECT_EQ(Call(**app, "/v1/features/read", "[1]").status, 400);
  EXPECT_EQ(Call(**app, "/v1/features/events", "{}").status, 400);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hotpath
