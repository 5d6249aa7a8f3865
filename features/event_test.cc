#include "features/event.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

namespace hotpath::features {
namespace {

std::shared_ptr<const Definitions> Example() {
  auto d =
      LoadDefinitionsFile(std::string(HOTPATH_FEATURES_TESTDATA) + "/example_definitions.json");
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return std::make_shared<Definitions>(std::move(d).value());
}

TEST(EventParserTest, ParsesValidEvents) {
  auto parser = std::move(EventParser::Create(Example())).value();
  Result<Event> ev = parser->Parse(
      R"({"type":"txn","user_id":"u7","ts":1700000000123,"amount":12.5,"merchant":"m1","x":[1]})");
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  EXPECT_EQ(ev->source, 0);
  EXPECT_EQ(ev->entity_key, "u7");
  EXPECT_EQ(ev->ts_ms, 1700000000123);
  EXPECT_EQ(ev->numbers, std::vector<double>{12.5});
  EXPECT_EQ(ev->keyed, std::vector<uint64_t>{KeyedValueHash("m1")});
  Result<Event> login = parser->Parse(R"({"type":"login","user_id":42,"at":1700000000})");
  ASSERT_TRUE(login.ok());
  EXPECT_EQ(login->ts_ms, 1700000000000);
  EXPECT_EQ(login->entity_key, "42");
  Result<Event> card = parser->Parse(R"({"type":"card_txn","bin":"411111","last4":"1234","ts":5})");
  ASSERT_TRUE(card.ok());
  std::string_view parts[] = {"411111", "1234"};
  EXPECT_EQ(card->entity_key, EntityKey(parts));
}

TEST(EventParserTest, ErrorsNameTheField) {
  auto parser = std::move(EventParser::Create(Example())).value();
  const std::pair<const char*, const char*> cases[] = {
      {R"({"user_id":"u","ts":1,"amount":1,"merchant":"m"})", "\"type\""},
      {R"({"type":"nope","user_id":"u"})", "unknown event source \"nope\""},
      {R"({"type":"txn","ts":1,"amount":1,"merchant":"m"})", "\"user_id\" is missing"},
      {R"({"type":"txn","user_id":"u","ts":"x","amount":1,"merchant":"m"})",
       "\"ts\" must be a number"},
      {R"({"type":"txn","user_id":"u","ts":-1,"amount":1,"merchant":"m"})", "\"ts\": timestamp"},
      {R"({"type":"txn","user_id":"u","ts":1,"merchant":"m"})", "\"amount\" is missing"},
      {R"({"type":"txn","user_id":"u","ts":1,"amount":true,"merchant":"m"})",
       "\"amount\" must be a number"},
      {R"({"type":"txn","user_id":[1],"ts":1,"amount":1,"merchant":"m"})",
       "\"user_id\" must be a string"},
      {R"([1,2])", "JSON object"},
      {R"({"type":)", "not valid JSON"},
  };
  for (const auto& [text, reason] : cases) {
    Result<Event> ev = parser->Parse(text);
    ASSERT_FALSE(ev.ok()) << text;
    EXPECT_EQ(ev.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(ev.status().message().find(reason), std::string::npos) << ev.status().message();
  }
}

TEST(EventParserTest, BatchKeepsGoodEventsBesideBadOnes) {
  auto parser = std::move(EventParser::Create(Example())).value();
  auto batch = parser->ParseBatch(
      R"([{"type":"txn","user_id":"a","ts":1,"amount":1,"merchant":"m"}, 7,
          {"type":"login","user_id":"a","at":2}])");
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->size(), 3u);
  EXPECT_TRUE((*batch)[0].ok());
  EXPECT_FALSE((*batch)[1].ok());
  EXPECT_TRUE((*batch)[2].ok());
  EXPECT_FALSE(parser->ParseBatch("{}").ok());
}

TEST(EventParserTest, FuzzedInputNeverCrashes) {
  auto parser = std::move(EventParser::Create(Example())).value();
  const std::string seed =
      R"([{"type":"txn","user_id":"u7","ts":1700000000123,"amount":12.5,"merchant":"m1"}])";
  std::mt19937_64 rng(9);
  for (int i = 0; i < 20'000; ++i) {
    std::string text = seed;
    for (int e = 0, n = 1 + static_cast<int>(rng() % 5); e < n; ++e) {
      std::size_t pos = rng() % text.size();
      if (rng() % 2) {
        text[pos] = static_cast<char>(rng() % 256);
      } else {
        text.insert(pos, 1, "{}[]\",:0e-.9tnu\\"[rng() % 16]);
      }
    }
    auto batch = parser->ParseBatch(text);
    auto one = parser->Parse(text.substr(1, text.size() - 2));
    if (batch.ok()) {
      for (const auto& ev : *batch) {
        EXPECT_TRUE(ev.ok() || ev.status().code() == StatusCode::kInvalidArgument);
      }
    }
    EXPECT_TRUE(one.ok() || one.status().code() == StatusCode::kInvalidArgument);
  }
  EXPECT_FALSE(parser->Parse(std::string(100'000, '[')).ok());
}

}  // namespace
}  // namespace hotpath::features
