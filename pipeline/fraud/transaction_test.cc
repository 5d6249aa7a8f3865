#include "pipeline/fraud/transaction.h"

#include <gtest/gtest.h>

#include <random>

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
