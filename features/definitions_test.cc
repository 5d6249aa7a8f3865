#include "features/definitions.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

namespace hotpath::features {
namespace {

std::string ReadExample() {
  std::ifstream in(std::string(HOTPATH_FEATURES_TESTDATA) + "/example_definitions.json");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// 1-based line of the first occurrence of `needle` in `text` (the oracle for
// error positions).
int LineOf(const std::string& text, const std::string& needle) {
  std::size_t pos = text.find(needle);
  EXPECT_NE(pos, std::string::npos) << needle;
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + pos, '\n'));
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  std::size_t pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  return text.replace(pos, from.size(), to);
}

TEST(DefinitionsTest, ParsesExample) {
  Result<Definitions> defs =
      LoadDefinitionsFile(std::string(HOTPATH_FEATURES_TESTDATA) + "/example_definitions.json");
  ASSERT_TRUE(defs.ok()) << defs.status().ToString();
  ASSERT_EQ(defs->groups.size(), 2u);
  const FeatureGroupDef& g = defs->groups[0];
  EXPECT_EQ(g.bucket_ms, 60'000);
  EXPECT_EQ(g.allowed_lateness_ms, 600'000);
  EXPECT_EQ(g.ttl_ms, 7 * 86'400'000LL);
  ASSERT_EQ(g.windows.size(), 4u);
  EXPECT_EQ(g.windows[2].length_ms, 86'400'000);
  EXPECT_TRUE(g.windows[3].lifetime());
  EXPECT_EQ(g.aggregations[9].kind, AggKind::kQuantile);
  EXPECT_DOUBLE_EQ(g.aggregations[9].quantile, 0.9);
  EXPECT_EQ(g.aggregations[10].last_n, 3);
  const SourceDef& txn = defs->sources[0];
  EXPECT_EQ(txn.numeric_fields, std::vector<std::string>{"amount"});
  EXPECT_EQ(txn.keyed_fields, std::vector<std::string>{"merchant"});
  EXPECT_EQ(defs->sources[1].timestamp_unit_ms, 1000);
  EXPECT_EQ(defs->entities[1].key_fields.size(), 2u);
  EXPECT_EQ(g.derived[4].op, CompareOp::kGt);
  EXPECT_EQ(g.derived[0].b.window, 2);
}

struct BadCase {
  std::string from, to, path, reason, line_of;
};

TEST(DefinitionsTest, RefusesInvalidWithFileLineAndKey) {
  const std::string good = ReadExample();
  const BadCase cases[] = {
      {"\"kind\": \"stddev\"", "\"kind\": \"median\"", "groups[0].aggregations[5].kind",
       "unknown aggregation kind \"median\"", "\"median\""},
      {"\"source\": \"login\"", "\"source\": \"nope\"", "groups[0].aggregations[11].source",
       "unknown source", "\"nope\""},
      {"\"5m\", \"1h\"", "\"90s\", \"1h\"", "groups[0].windows[0]", "multiple of the bucket",
       "\"90s\""},
      {"\"q\": 0.9", "\"q\": 1.5", "groups[0].aggregations[9].q", "must be in [0, 1]", "1.5"},
      {"\"ttl\": \"7d\"", "\"ttl\": \"7 days\"", "groups[0].ttl", "needs a unit", "7 days"},
      {"\"n\": 3", "\"n\": 3, \"colour\": 1", "groups[0].aggregations[10].colour", "unknown key",
       "colour"},
      {"\"denominator\": \"amount_sum.24h\"", "\"denominator\": \"amount_sum.2d\"",
       "groups[0].derived[0].denominator", "unknown window", "amount_sum.2d"},
      {"\"keys\": [\"user_id\"]", "\"keys\": []", "entities[0].keys", "at least one key",
       "\"keys\": []"},
      {"\"entity\": \"card\",\n      \"bucket\"", "\"entity\": \"cart\",\n      \"bucket\"",
       "groups[1].entity", "unknown entity", "\"cart\""},
      {"{\"name\": \"count\", \"source\": \"card_txn\", \"kind\": \"count\"}",
       "{\"name\": \"count\", \"source\": \"card_txn\", \"kind\": \"count\", \"field\": \"x\"}",
       "groups[1].aggregations[0].field", "count takes no field", "\"x\"}"},
  };
  for (const BadCase& c : cases) {
    std::string text = Replace(good, c.from, c.to);
    Result<Definitions> defs = ParseDefinitions(text, "defs.json");
    ASSERT_FALSE(defs.ok()) << c.to;
    EXPECT_EQ(defs.status().code(), StatusCode::kInvalidArgument);
    const std::string msg = defs.status().message();
    std::string prefix = "defs.json:" + std::to_string(LineOf(text, c.line_of)) + ": " + c.path;
    EXPECT_EQ(msg.rfind(prefix, 0), 0u) << msg << "\nexpected prefix: " << prefix;
    EXPECT_NE(msg.find(c.reason), std::string::npos) << msg;
  }
}

TEST(DefinitionsTest, SyntaxErrorNamesLine) {
  std::string text = Replace(ReadExample(), "\"ttl\": \"7d\",", "\"ttl\": \"7d\",,");
  Result<Definitions> defs = ParseDefinitions(text, "f.json");
  ASSERT_FALSE(defs.ok());
  std::string prefix = "f.json:" + std::to_string(LineOf(text, ",,")) + ": JSON syntax";
  EXPECT_EQ(defs.status().message().rfind(prefix, 0), 0u) << defs.status().message();
}

TEST(DefinitionsTest, MissingFileIsNotFound) {
  EXPECT_EQ(LoadDefinitionsFile("/nonexistent/defs.json").status().code(), StatusCode::kNotFound);
}

TEST(DefinitionsTest, Durations) {
  EXPECT_EQ(*ParseDurationMs("250ms"), 250);
  EXPECT_EQ(*ParseDurationMs("30s"), 30'000);
  EXPECT_EQ(*ParseDurationMs("7d"), 7 * 86'400'000LL);
  for (const char* bad : {"", "m", "5", "5x", "-5m", "0m", "1.5h", "9999999999d", "5 m"}) {
    EXPECT_FALSE(ParseDurationMs(bad).ok()) << bad;
  }
}

// Random garbage and random mutations of a valid file never crash the parser;
// every failure is INVALID_ARGUMENT with a file:line prefix.
TEST(DefinitionsTest, FuzzedInputNeverCrashes) {
  const std::string good = ReadExample();
  std::mt19937_64 rng(7);
  const std::string alphabet = "{}[]\":,.0123456789abcdefmsdhlifetimecountkindname \n\\";
  for (int iter = 0; iter < 3000; ++iter) {
    std::string text = good;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      std::size_t pos = rng() % text.size();
      switch (rng() % 3) {
        case 0:
          text.erase(pos, 1 + rng() % 8);
          break;
        case 1:
          text.insert(pos, 1, alphabet[rng() % alphabet.size()]);
          break;
        default:
          text[pos] = static_cast<char>(rng() % 256);
      }
    }
    if (iter % 3 == 0) {
      text.resize(rng() % 200);
      for (char& c : text) c = alphabet[rng() % alphabet.size()];
    }
    Result<Definitions> defs = ParseDefinitions(text, "fuzz.json");
    if (!defs.ok()) {
      EXPECT_EQ(defs.status().code(), StatusCode::kInvalidArgument);
      EXPECT_EQ(defs.status().message().rfind("fuzz.json:", 0), 0u);
    }
  }
}

}  // namespace
}  // namespace hotpath::features
