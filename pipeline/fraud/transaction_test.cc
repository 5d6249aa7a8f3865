#include "pipeline/fraud/transaction.h"

#include <gtest/gtest.h>

#include <random>

#include <nlohmann/json.hpp>

namespace hotpath::fraud {
namespace {

constexpr const char* kGood =
    R"({"id": "t1", "user": "u1", "amount": 12.5, "currency": "EUR", "merchant": "m1",
        "merchant_category": 5411, "payment_method": "card_not_present", "device": "d1",
        "country": "DE", "lat": 52.5, "lon": 13.4, "timestamp_ms": 1767225600000,
        "metadata": {"channel": "app"}})";

TEST(TransactionTest, ParsesAndRoundTrips) {
  auto t = ParseTransaction(kGood);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->id, "t1");
  EXPECT_EQ(t->amount, 12.5);
  EXPECT_EQ(t->payment_method, PaymentMethod::kCardNotPresent);
  EXPECT_EQ(t->merchant_category, 5411);
  EXPECT_EQ(t->timestamp_ms, 1767225600000);
  auto again = ParseTransaction(ToJson(*t));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(ToJson(*again), ToJson(*t));
}

// ToJson writes valid JSON for awkward text and exact numbers: checked with
// an independent parser (nlohmann) field by field.
TEST(TransactionTest, ToJsonEscapesTextAndKeepsNumbersExact) {
  Transaction t;
  t.id = "quote\" back\\slash \x01 ctl";
  t.user = "Z\u00fcrich \u2713";
  t.amount = 0.1;
  t.currency = "EUR";
  t.merchant = "m\n1";
  t.merchant_category = 5411;
  t.payment_method = PaymentMethod::kWallet;
  t.country = "CH";
  t.lat = -33.86882;
  t.lon = 151.209295;
  t.timestamp_ms = 1767225600123;
  t.metadata = R"({"k":[1,"two"]})";
  const nlohmann::json j = nlohmann::json::parse(ToJson(t));
  EXPECT_EQ(j["id"], t.id);
  EXPECT_EQ(j["user"], t.user);
  EXPECT_EQ(j["merchant"], t.merchant);
  EXPECT_EQ(j["amount"].get<double>(), 0.1);
  EXPECT_EQ(j["lat"].get<double>(), t.lat);
  EXPECT_EQ(j["lon"].get<double>(), t.lon);
  EXPECT_EQ(j["timestamp_ms"].get<int64_t>(), t.timestamp_ms);
  EXPECT_EQ(j["payment_method"], "wallet");
  EXPECT_EQ(j["metadata"]["k"][1], "two");
  EXPECT_FALSE(j.contains("device"));
  EXPECT_FALSE(j.contains("label"));
}

void ExpectError(const std::string& json, const std::string& message) {
  auto t = ParseTransaction(json);
  ASSERT_FALSE(t.ok()) << json;
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(t.status().message(), message);
}

std::string With(const std::string& field, const std::string& value) {
  std::string s = kGood;
  const size_t k = s.find("\"" + field + "\": ");
  const size_t v = k + field.size() + 4;
  const size_t end = s.find_first_of(",}", v);
  return s.substr(0, v) + value + s.substr(end);
}

TEST(TransactionTest, BadFieldsAreNamed) {
  ExpectError(With("amount", "-3"), "field 'amount' must be positive");
  ExpectError(With("amount", "1e12"), "field 'amount' is absurdly large (> 1e7)");
  ExpectError(With("amount", "\"12\""), "field 'amount' must be a number");
  ExpectError(With("currency", "\"XYZ\""), "field 'currency': unknown currency 'XYZ'");
  ExpectError(With("user", "null"), "missing field 'user'");
  ExpectError(With("timestamp_ms", "12"), "field 'timestamp_ms' outside years 2000..2100");
  ExpectError(With("payment_method", "\"cash\""), "field 'payment_method': unknown method 'cash'");
  ExpectError(With("merchant_category", "12.5"), "field 'merchant_category' must be an integer MCC in 0..9999");
  ExpectError("[1,2]", "transaction must be a JSON object");
  ExpectError("{\"id\": ", "transaction is not valid JSON");
}

TEST(TransactionTest, FuzzedInputNeverCrashes) {
  std::mt19937_64 rng(7);
  const std::string base = kGood;
  for (int i = 0; i < 5000; ++i) {
    std::string s = base;
    for (int k = 0; k < 3; ++k) {
      const size_t pos = rng() % s.size();
      if (rng() % 2) {
        s[pos] = static_cast<char>(rng() % 128);
      } else {
        s.erase(pos, rng() % 10);
      }
      if (s.empty()) break;
    }
    auto t = ParseTransaction(s);
    if (!t.ok()) {
      EXPECT_FALSE(t.status().message().empty());
    }
  }
}

}  // namespace
}  // namespace hotpath::fraud
