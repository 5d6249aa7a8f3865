#include "runtime/repository/model_config.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>

#include <nlohmann/json.hpp>

namespace hotpath {
namespace {

using nlohmann::json;

constexpr char kFile[] = "models/fraud/config.json";

json Valid() {
  return {
      {"backend", "xgboost"},
      {"max_batch_size", 32},
      {"inputs", {{{"name", "features"}, {"datatype", "FP32"}, {"dims", {30}}}}},
      {"outputs", {{{"name", "probability"}, {"datatype", "FP32"}, {"dims", {1}}}}},
  };
}

Result<ModelConfig> Parse(const json& j) { return ParseModelConfig(j.dump(), kFile, "fraud"); }

TEST(ModelConfigTest, FullConfigParses) {
  json j = Valid();
  j["name"] = "fraud";
  j["artifact"] = "model.ubj";
  j["output_kind"] = "margin";
  j["dynamic_batching"] = {{"max_queue_delay_us", 250},   {"preferred_batch_sizes", {8, 16}},
                           {"priority_levels", 3},        {"default_priority_level", 2},
                           {"default_timeout_us", 5000},  {"max_queue_size", 64},
                           {"priority_aging_us", 10},     {"adaptive_p99_target_us", 900}};
  j["instance_count"] = 2;
  j["version_policy"] = {{"specific", {{"versions", {1, 4}}}}};
  j["warmup"] = {{"batch_sizes", {1, 8, 32}}, {"rows_file", "warmup/rows.json"}};
  j["fallback_model"] = "fraud_rules";
  j["circuit_breaker"] = {{"failure_rate_threshold", 0.25}, {"slow_call_rate_threshold", 0.5},
                          {"slow_call_duration_us", 2000},  {"window_size", 50},
                          {"minimum_calls", 10},            {"open_duration_ms", 300},
                          {"half_open_calls", 3}};
  Result<ModelConfig> c = Parse(j);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->name, "fraud");
  EXPECT_EQ(c->backend, "xgboost");
  EXPECT_EQ(c->artifact, "model.ubj");
  EXPECT_EQ(c->output_kind, OutputKind::kMargin);
  EXPECT_EQ(c->max_batch_size, 32);
  ASSERT_EQ(c->inputs.size(), 1u);
  EXPECT_EQ(c->inputs[0].dims, Shape({30}));
  ASSERT_TRUE(c->dynamic_batching.has_value());
  const DynamicBatchingConfig& b = *c->dynamic_batching;
  EXPECT_EQ(b.max_queue_delay_us, 250);
  EXPECT_EQ(b.preferred_batch_sizes, std::vector<int>({8, 16}));
  EXPECT_EQ(b.priority_levels, 3);
  EXPECT_EQ(b.default_priority_level, 2);
  EXPECT_EQ(b.default_timeout_us, 5000);
  EXPECT_EQ(b.max_queue_size, 64);
  EXPECT_EQ(b.priority_aging_us, 10);
  EXPECT_EQ(b.adaptive_p99_target_us, 900);
  EXPECT_EQ(c->instance_count, 2);
  EXPECT_EQ(c->version_policy.kind, VersionPolicy::Kind::kSpecific);
  EXPECT_EQ(c->version_policy.versions, std::vector<int64_t>({1, 4}));
  EXPECT_EQ(c->warmup.batch_sizes, std::vector<int>({1, 8, 32}));
  EXPECT_EQ(c->warmup.rows_file, "warmup/rows.json");
  EXPECT_EQ(c->warmup.random_rows, 0);
  EXPECT_EQ(c->fallback_model, "fraud_rules");
  const CircuitBreakerConfig& cb = c->circuit_breaker;
  EXPECT_TRUE(cb.enabled);
  EXPECT_EQ(cb.failure_rate_threshold, 0.25);
  EXPECT_EQ(cb.slow_call_rate_threshold, 0.5);
  EXPECT_EQ(cb.slow_call_duration_us, 2000);
  EXPECT_EQ(cb.window_size, 50);
  EXPECT_EQ(cb.minimum_calls, 10);
  EXPECT_EQ(cb.open_duration_ms, 300);
  EXPECT_EQ(cb.half_open_calls, 3);
}

TEST(ModelConfigTest, DefaultsApply) {
  Result<ModelConfig> c = Parse(Valid());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->output_kind, OutputKind::kValue);
  EXPECT_FALSE(c->dynamic_batching.has_value());
  EXPECT_EQ(c->instance_count, 1);
  EXPECT_EQ(c->version_policy.kind, VersionPolicy::Kind::kLatest);
  EXPECT_EQ(c->version_policy.num_versions, 1);
  EXPECT_EQ(c->warmup.batch_sizes, std::vector<int>({1, 32}));
  EXPECT_EQ(c->warmup.random_rows, 32);
  EXPECT_TRUE(c->fallback_model.empty());
  EXPECT_TRUE(c->circuit_breaker.enabled);
  EXPECT_EQ(c->circuit_breaker.minimum_calls, 20);

  json j = Valid();
  j["dynamic_batching"] = json::object();
  j["version_policy"] = {{"all", json::object()}};
  c = Parse(j);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  DynamicBatchingConfig defaults;
  EXPECT_EQ(c->dynamic_batching->max_queue_delay_us, defaults.max_queue_delay_us);
  EXPECT_EQ(c->dynamic_batching->max_queue_size, defaults.max_queue_size);
  EXPECT_EQ(c->version_policy.kind, VersionPolicy::Kind::kAll);
}

TEST(ModelConfigTest, ErrorNamesFileKeyAndReason) {
  json j = Valid();
  j["dynamic_batching"] = {{"max_queue_delay_us", -5}};
  Result<ModelConfig> c = Parse(j);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(),
            "models/fraud/config.json: dynamic_batching.max_queue_delay_us: must be >= 0, got -5");
}

struct BadCase {
  std::string what;
  std::function<void(json&)> mutate;
  std::string key;     // expected key path in the message
  std::string reason;  // expected part of the reason
};

std::vector<BadCase> BadCases() {
  return {
      {"missing backend", [](json& j) { j.erase("backend"); }, "backend", "required"},
      {"backend not string", [](json& j) { j["backend"] = 3; }, "backend", "must be a string"},
      {"empty backend", [](json& j) { j["backend"] = ""; }, "backend", "must not be empty"},
      {"unknown key", [](json& j) { j["max_batch"] = 3; }, "max_batch", "unknown key"},
      {"ms instead of us",
       [](json& j) { j["dynamic_batching"] = {{"max_queue_delay_ms", 1}}; },
       "dynamic_batching.max_queue_delay_ms", "unknown key"},
      {"missing max_batch_size", [](json& j) { j.erase("max_batch_size"); }, "max_batch_size",
       "required"},
      {"zero max_batch_size", [](json& j) { j["max_batch_size"] = 0; }, "max_batch_size",
       "must be >= 1, got 0"},
      {"float max_batch_size", [](json& j) { j["max_batch_size"] = 2.5; }, "max_batch_size",
       "must be an integer, got 2.5"},
      {"huge max_batch_size", [](json& j) { j["max_batch_size"] = 18446744073709551615ull; },
       "max_batch_size", "must be <="},
      {"no inputs", [](json& j) { j.erase("inputs"); }, "inputs", "required"},
      {"empty inputs", [](json& j) { j["inputs"] = json::array(); }, "inputs", "non-empty array"},
      {"input without dims", [](json& j) { j["inputs"][0].erase("dims"); }, "inputs[0].dims",
       "required"},
      {"bad datatype", [](json& j) { j["inputs"][0]["datatype"] = "FLOAT"; },
       "inputs[0].datatype", "unknown datatype 'FLOAT'"},
      {"zero dim", [](json& j) { j["inputs"][0]["dims"] = {4, 0}; }, "inputs[0].dims[1]",
       "must be >= 1 or -1, got 0"},
      {"dim below -1", [](json& j) { j["outputs"][0]["dims"] = {-2}; }, "outputs[0].dims[0]",
       "must be >= -1"},
      {"duplicate output", [](json& j) { j["outputs"].push_back(j["outputs"][0]); },
       "outputs[1].name", "duplicate name 'probability'"},
      {"tensor extra key", [](json& j) { j["outputs"][0]["shape"] = {1}; }, "outputs[0].shape",
       "unknown key"},
      {"bad output kind", [](json& j) { j["output_kind"] = "probability"; }, "output_kind",
       "must be one of value, margin, contributions"},
      {"preferred above max",
       [](json& j) { j["dynamic_batching"] = {{"preferred_batch_sizes", {8, 64}}}; },
       "dynamic_batching.preferred_batch_sizes[1]", "must be <= 32, got 64"},
      {"preferred not ascending",
       [](json& j) { j["dynamic_batching"] = {{"preferred_batch_sizes", {8, 4}}}; },
       "dynamic_batching.preferred_batch_sizes[1]", "strictly ascending"},
      {"zero priority levels", [](json& j) { j["dynamic_batching"] = {{"priority_levels", 0}}; },
       "dynamic_batching.priority_levels", "must be >= 1, got 0"},
      {"default priority above levels",
       [](json& j) {
         j["dynamic_batching"] = {{"priority_levels", 2}, {"default_priority_level", 3}};
       },
       "dynamic_batching.default_priority_level", "must be <= priority_levels (2), got 3"},
      {"negative timeout", [](json& j) { j["dynamic_batching"] = {{"default_timeout_us", -1}}; },
       "dynamic_batching.default_timeout_us", "must be >= 0, got -1"},
      {"zero queue size", [](json& j) { j["dynamic_batching"] = {{"max_queue_size", 0}}; },
       "dynamic_batching.max_queue_size", "must be >= 1, got 0"},
      {"batching not object", [](json& j) { j["dynamic_batching"] = true; }, "dynamic_batching",
       "must be an object"},
      {"zero instances", [](json& j) { j["instance_count"] = 0; }, "instance_count",
       "must be >= 1, got 0"},
      {"instances as string", [](json& j) { j["instance_count"] = "2"; }, "instance_count",
       "must be an integer"},
      {"two policies",
       [](json& j) {
         j["version_policy"] = {{"all", json::object()}, {"latest", {{"num_versions", 1}}}};
       },
       "version_policy", "exactly one of latest, specific, all"},
      {"latest zero",
       [](json& j) { j["version_policy"] = {{"latest", {{"num_versions", 0}}}}; },
       "version_policy.latest.num_versions", "must be >= 1, got 0"},
      {"latest without count", [](json& j) { j["version_policy"] = {{"latest", json::object()}}; },
       "version_policy.latest.num_versions", "required"},
      {"specific empty",
       [](json& j) { j["version_policy"] = {{"specific", {{"versions", json::array()}}}}; },
       "version_policy.specific.versions", "must not be empty"},
      {"specific version zero",
       [](json& j) { j["version_policy"] = {{"specific", {{"versions", {0}}}}}; },
       "version_policy.specific.versions[0]", "must be >= 1, got 0"},
      {"unknown policy", [](json& j) { j["version_policy"] = {{"newest", 1}}; },
       "version_policy.newest", "unknown key"},
      {"warmup without sizes", [](json& j) { j["warmup"] = {{"random_rows", 4}}; },
       "warmup.batch_sizes", "required"},
      {"warmup batch above max",
       [](json& j) { j["warmup"] = {{"batch_sizes", {33}}, {"random_rows", 4}}; },
       "warmup.batch_sizes[0]", "must be <= 32, got 33"},
      {"warmup two sources",
       [](json& j) {
         j["warmup"] = {{"batch_sizes", {1}}, {"random_rows", 4}, {"rows_file", "r.json"}};
       },
       "warmup", "exactly one of random_rows, rows_file"},
      {"warmup no source", [](json& j) { j["warmup"] = {{"batch_sizes", {1}}}; }, "warmup",
       "exactly one of random_rows, rows_file"},
      {"warmup file escapes",
       [](json& j) { j["warmup"] = {{"batch_sizes", {1}}, {"rows_file", "../other/rows.json"}}; },
       "warmup.rows_file", "inside the model directory"},
      {"warmup absolute file",
       [](json& j) { j["warmup"] = {{"batch_sizes", {1}}, {"rows_file", "/etc/passwd"}}; },
       "warmup.rows_file", "inside the model directory"},
      {"fallback is self", [](json& j) { j["fallback_model"] = "fraud"; }, "fallback_model",
       "must not be the model itself"},
      {"fallback bad name", [](json& j) { j["fallback_model"] = "a/b"; }, "fallback_model",
       "not a valid model name"},
      {"breaker rate above 1", [](json& j) { j["circuit_breaker"] = {{"failure_rate_threshold", 1.5}}; },
       "circuit_breaker.failure_rate_threshold", "must be a number in (0, 1]"},
      {"breaker rate zero", [](json& j) { j["circuit_breaker"] = {{"slow_call_rate_threshold", 0}}; },
       "circuit_breaker.slow_call_rate_threshold", "must be a number in (0, 1]"},
      {"breaker minimum over window",
       [](json& j) { j["circuit_breaker"] = {{"window_size", 5}, {"minimum_calls", 6}}; },
       "circuit_breaker.minimum_calls", ""},
      {"breaker enabled not bool", [](json& j) { j["circuit_breaker"] = {{"enabled", "yes"}}; },
       "circuit_breaker.enabled", "must be true or false"},
      {"breaker unknown key", [](json& j) { j["circuit_breaker"] = {{"open_duration_s", 5}}; },
       "circuit_breaker.open_duration_s", "unknown key"},
      {"name differs", [](json& j) { j["name"] = "risk"; }, "name",
       "must equal the directory name 'fraud', got 'risk'"},
      {"artifact with path", [](json& j) { j["artifact"] = "../x/model.json"; }, "artifact",
       "file name without '/'"},
  };
}

TEST(ModelConfigTest, BadConfigsNameFileAndKey) {
  for (const BadCase& bad : BadCases()) {
    json j = Valid();
    bad.mutate(j);
    Result<ModelConfig> c = Parse(j);
    ASSERT_FALSE(c.ok()) << bad.what;
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument) << bad.what;
    const std::string prefix = std::string(kFile) + ": " + bad.key + ": ";
    EXPECT_EQ(c.status().message().rfind(prefix, 0), 0u)
        << bad.what << ": " << c.status().message();
    EXPECT_NE(c.status().message().find(bad.reason), std::string::npos)
        << bad.what << ": " << c.status().message();
  }
}

TEST(ModelConfigTest, NotJsonOrNotObject) {
  for (const std::string text : {"", "{", "[1, 2]", "42", "{\"backend\": }", "null"}) {
    Result<ModelConfig> c = ParseModelConfig(text, kFile, "fraud");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.status().message().rfind(std::string(kFile) + ": ", 0), 0u) << text;
  }
  std::string deep(10000, '[');
  EXPECT_NE(ParseModelConfig(deep, kFile, "fraud").status().message().find("nested deeper"),
            std::string::npos);
  EXPECT_FALSE(ParseModelConfig(Valid().dump(), kFile, ".hidden").ok());
}

// A random JSON value of depth <= `depth`.
json RandomValue(std::mt19937_64& rng, int depth) {
  std::uniform_int_distribution<int> kind(0, depth > 0 ? 7 : 5);
  switch (kind(rng)) {
    case 0: return nullptr;
    case 1: return static_cast<int64_t>(rng()) >> (rng() % 64);
    case 2: return std::uniform_real_distribution<double>(-1e6, 1e6)(rng);
    case 3: return rng() % 2 == 0;
    case 4: return std::string(rng() % 4, static_cast<char>('a' + rng() % 26));
    case 5: return rng() % 40;
    case 6: {
      json a = json::array();
      for (int i = rng() % 4; i > 0; --i) a.push_back(RandomValue(rng, depth - 1));
      return a;
    }
    default: {
      json o = json::object();
      for (int i = rng() % 3; i > 0; --i) o[std::to_string(rng() % 5)] = RandomValue(rng, depth - 1);
      return o;
    }
  }
}

// Replaces a random node of `j` (any depth) with a random value, or deletes it.
void Mutate(json& j, std::mt19937_64& rng) {
  json* node = &j;
  while ((node->is_object() || node->is_array()) && !node->empty() && rng() % 3 != 0) {
    auto it = node->begin();
    std::advance(it, static_cast<long>(rng() % node->size()));
    node = &*it;
  }
  *node = RandomValue(rng, 2);
}

void ExpectParsesOrNamesFile(const std::string& text) {
  Result<ModelConfig> c = ParseModelConfig(text, kFile, "fraud");
  if (c.ok()) return;
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message().rfind(std::string(kFile) + ": ", 0), 0u) << c.status().message();
}

TEST(ModelConfigFuzzTest, RandomMutationsNeverCrash) {
  std::mt19937_64 rng(1234);
  json base = Valid();
  base["dynamic_batching"] = {{"preferred_batch_sizes", {4, 8}}, {"priority_levels", 2}};
  base["version_policy"] = {{"specific", {{"versions", {1, 2}}}}};
  base["warmup"] = {{"batch_sizes", {1, 4}}, {"random_rows", 3}};
  for (int i = 0; i < 4000; ++i) {
    json j = base;
    for (int m = 1 + static_cast<int>(rng() % 3); m > 0; --m) Mutate(j, rng);
    ExpectParsesOrNamesFile(j.dump());
  }
}

TEST(ModelConfigFuzzTest, GarbageBytesNeverCrash) {
  std::mt19937_64 rng(99);
  const std::string valid = Valid().dump();
  for (int i = 0; i < 4000; ++i) {
    std::string text = valid;
    for (int m = 1 + static_cast<int>(rng() % 8); m > 0; --m) {
      size_t at = rng() % (text.size() + 1);
      switch (rng() % 3) {
        case 0: text.insert(at, 1, static_cast<char>(rng() % 256)); break;
        case 1: if (at < text.size()) text.erase(at, 1); break;
        default: if (at < text.size()) text[at] = "{}[]\",:0-e.\\"[rng() % 12]; break;
      }
    }
    ExpectParsesOrNamesFile(text);
  }
  for (int i = 0; i < 1000; ++i) {
    std::string text(rng() % 200, '\0');
    for (char& ch : text) ch = static_cast<char>(rng() % 256);
    ExpectParsesOrNamesFile(text);
  }
}

}  // namespace
}  // namespace hotpath
