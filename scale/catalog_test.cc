#include "scale/catalog.h"

#include <gtest/gtest.h>

#include <random>

namespace hotpath::scale {
namespace {

const char* kValid = R"({"currency": "EUR", "instances": [
  {"name": "small", "kind": "cpu", "vcpu": 4, "memory_gib": 8, "on_demand_per_hour": 0.2,
   "spot_per_hour": 0.08, "spot_interruption_rate_per_hour": 0.01},
  {"name": "gpu", "kind": "gpu", "vcpu": 8, "memory_gib": 32, "gpus": 1, "gpu_model": "L4",
   "on_demand_per_hour": 0.8}]})";

TEST(CatalogTest, ParsesAllFields) {
  auto c = InstanceCatalog::Parse(kValid);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->currency(), "EUR");
  ASSERT_EQ(c->instances().size(), 2u);
  auto small = c->Find("small");
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->kind, InstanceKind::kCpu);
  EXPECT_DOUBLE_EQ(small->vcpu, 4);
  EXPECT_DOUBLE_EQ(small->PricePerHour(true), 0.08);
  EXPECT_DOUBLE_EQ(small->PricePerHour(false), 0.2);
  auto gpu = c->Find("gpu");
  ASSERT_TRUE(gpu.ok());
  EXPECT_EQ(gpu->gpus, 1);
  EXPECT_EQ(gpu->gpu_model, "L4");
  EXPECT_FALSE(gpu->has_spot());
  EXPECT_DOUBLE_EQ(gpu->PricePerHour(true), 0.8);  // no spot offer: on-demand
  EXPECT_EQ(c->Find("nope").status().code(), StatusCode::kNotFound);
}

TEST(CatalogTest, ExampleCatalogLoads) {
  auto c =
      InstanceCatalog::Load(std::string(HOTPATH_SOURCE_DIR) + "/examples/catalog/instances.json");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_GE(c->instances().size(), 4u);
  EXPECT_TRUE(c->Find("g5.xlarge").ok());
}

TEST(CatalogTest, MissingFileIsNotFound) {
  EXPECT_EQ(InstanceCatalog::Load("/nonexistent/instances.json").status().code(),
            StatusCode::kNotFound);
}

struct BadCase {
  const char* json;
  const char* names;  // substring the error must contain
};

TEST(CatalogTest, MalformedInputNamesTheField) {
  const BadCase cases[] = {
      {"", "not valid JSON"},
      {"{\"instances\": [", "not valid JSON"},
      {"[]", "expected an object"},
      {"{}", "instances: required field is missing"},
      {"{\"instances\": 3}", "instances: expected a non-empty array"},
      {"{\"instances\": []}", "instances: expected a non-empty array"},
      {"{\"instances\": [7]}", "instances[0]: expected an object"},
      {R"({"instances": [{"kind": "cpu", "vcpu": 1, "memory_gib": 1, "on_demand_per_hour": 1}]})",
       "instances[0].name: required field is missing"},
      {R"({"instances": [{"name": "a", "memory_gib": 1, "on_demand_per_hour": 1}]})",
       "instances[0].vcpu: required field is missing"},
      {R"({"instances": [{"name": "a", "vcpu": "8", "memory_gib": 1, "on_demand_per_hour": 1}]})",
       "instances[0].vcpu: expected a number, got string"},
      {R"({"instances": [{"name": "a", "vcpu": 8, "memory_gib": 1, "on_demand_per_hour": -1}]})",
       "instances[0].on_demand_per_hour: value -1 is outside"},
      {R"({"instances": [{"name": "a", "vcpu": 8, "memory_gib": 1, "on_demand_per_hour": 1,
           "spot_per_hour": 2}]})",
       "instances[0].spot_per_hour"},
      {R"({"instances": [{"name": "a", "vcpu": 8, "memory_gib": 1, "on_demand_per_hour": 1,
           "spot_interruption_rate_per_hour": 3}]})",
       "instances[0].spot_interruption_rate_per_hour"},
      {R"({"instances": [{"name": "a", "kind": "tpu", "vcpu": 8, "memory_gib": 1,
           "on_demand_per_hour": 1}]})",
       "instances[0].kind"},
      {R"({"instances": [{"name": "a", "kind": "gpu", "vcpu": 8, "memory_gib": 1,
           "on_demand_per_hour": 1}]})",
       "instances[0].gpus"},
      {R"({"instances": [{"name": "a", "vcpu": 8, "memory_gib": 1, "gpus": 1.5,
           "on_demand_per_hour": 1}]})",
       "instances[0].gpus: expected an integer"},
      {R"({"instances": [{"name": "a", "vcpu": 8, "memory_gib": 1, "on_demand_per_hour": 1},
                         {"name": "a", "vcpu": 8, "memory_gib": 1, "on_demand_per_hour": 1}]})",
       "instances[1].name: duplicate"},
      {R"({"currency": 5, "instances": []})", "currency: expected a string"},
      {R"({"instances": [{"name": "a", "vcpus": 8, "vcpu": 8, "memory_gib": 1,
           "on_demand_per_hour": 1}]})",
       "instances[0].vcpus: unknown field"},
  };
  for (const BadCase& c : cases) {
    auto r = InstanceCatalog::Parse(c.json);
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.json;
    EXPECT_NE(r.status().message().find(c.names), std::string::npos)
        << "input: " << c.json << "\nerror: " << r.status().message();
  }
}

TEST(CatalogTest, GarbageNeverCrashes) {
  std::mt19937_64 rng(3);
  const std::string valid = kValid;
  for (int i = 0; i < 2000; ++i) {
    std::string s = valid.substr(0, rng() % (valid.size() + 1));  // truncation
    if (i % 2 == 0 && !s.empty()) {
      for (int k = 0; k < 4; ++k) {
        s[rng() % s.size()] ^= static_cast<char>(rng());
      }
    }
    auto r = InstanceCatalog::Parse(s);
    if (!r.ok()) {
      EXPECT_FALSE(r.status().message().empty());
    }
  }
  std::string bytes(512, '\0');
  for (char& b : bytes) {
    b = static_cast<char>(rng());
  }
  EXPECT_FALSE(InstanceCatalog::Parse(bytes).ok());
}

}  // namespace
}  // namespace hotpath::scale
