#include "pipeline/fraud/transaction.h"

#include <array>
#include <cmath>

#include <nlohmann/json.hpp>

#include "core/json_writer.h"

namespace hotpath::fraud {
namespace {

using Json = nlohmann::json;

constexpr std::array<std::string_view, 12> kCurrencies = {
    "USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "SEK", "NOK", "DKK", "PLN", "BRL"};

constexpr std::array<std::string_view, 4> kMethods = {"card_present", "card_not_present", "wallet",
                                                      "bank_transfer"};

// 2000-01-01 .. 2100-01-01 in Unix milliseconds.
constexpr int64_t kMinTimestampMs = 946684800000;
constexpr int64_t kMaxTimestampMs = 4102444800000;

Status RequireString(const Json& j, const char* key, bool required, std::string* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return required ? InvalidArgumentError(std::string("missing field '") + key + "'") : OkStatus();
  }
  if (!it->is_string()) return InvalidArgumentError(std::string("field '") + key + "' must be a string");
  *out = it->get<std::string>();
  if (required && out->empty()) return InvalidArgumentError(std::string("field '") + key + "' is empty");
  if (out->size() > 256) return InvalidArgumentError(std::string("field '") + key + "' is longer than 256 bytes");
  return OkStatus();
}

Status RequireNumber(const Json& j, const char* key, bool required, double* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return required ? InvalidArgumentError(std::string("missing field '") + key + "'") : OkStatus();
  }
  if (!it->is_number()) return InvalidArgumentError(std::string("field '") + key + "' must be a number");
  *out = it->get<double>();
  if (!std::isfinite(*out)) return InvalidArgumentError(std::string("field '") + key + "' is not finite");
  return OkStatus();
}

Status ParseFields(const Json& j, Transaction* t) {
  RETURN_IF_ERROR(RequireString(j, "id", true, &t->id));
  RETURN_IF_ERROR(RequireString(j, "user", true, &t->user));
  RETURN_IF_ERROR(RequireNumber(j, "amount", true, &t->amount));
  if (!(t->amount > 0)) return InvalidArgumentError("field 'amount' must be positive");
  if (t->amount > kMaxAmount) return InvalidArgumentError("field 'amount' is absurdly large (> 1e7)");
  RETURN_IF_ERROR(RequireString(j, "currency", true, &t->currency));
  if (!IsSupportedCurrency(t->currency)) {
    return InvalidArgumentError("field 'currency': unknown currency '" + t->currency + "'");
  }
  RETURN_IF_ERROR(RequireString(j, "merchant", true, &t->merchant));
  double mcc = 0;
  RETURN_IF_ERROR(RequireNumber(j, "merchant_category", false, &mcc));
  if (mcc < 0 || mcc > 9999 || mcc != std::floor(mcc)) {
    return InvalidArgumentError("field 'merchant_category' must be an integer MCC in 0..9999");
  }
  t->merchant_category = static_cast<int32_t>(mcc);
  std::string method = "card_present";
  RETURN_IF_ERROR(RequireString(j, "payment_method", false, &method));
  size_t m = 0;
  while (m < kMethods.size() && kMethods[m] != method) ++m;
  if (m == kMethods.size()) return InvalidArgumentError("field 'payment_method': unknown method '" + method + "'");
  t->payment_method = static_cast<PaymentMethod>(m);
  RETURN_IF_ERROR(RequireString(j, "device", false, &t->device));
  RETURN_IF_ERROR(RequireString(j, "country", false, &t->country));
  RETURN_IF_ERROR(RequireNumber(j, "lat", false, &t->lat));
  RETURN_IF_ERROR(RequireNumber(j, "lon", false, &t->lon));
  if (std::fabs(t->lat) > 90 || std::fabs(t->lon) > 180) return InvalidArgumentError("fields 'lat'/'lon' out of range");
  double ts = 0;
  RETURN_IF_ERROR(RequireNumber(j, "timestamp_ms", true, &ts));
  if (ts < static_cast<double>(kMinTimestampMs) || ts > static_cast<double>(kMaxTimestampMs)) {
    return InvalidArgumentError("field 'timestamp_ms' outside years 2000..2100");
  }
  t->timestamp_ms = static_cast<int64_t>(ts);
  auto md = j.find("metadata");
  if (md != j.end() && !md->is_null()) {
    if (!md->is_object()) return InvalidArgumentError("field 'metadata' must be an object");
    t->metadata = md->dump();
  }
  auto label = j.find("label");
  if (label != j.end() && label->is_number_integer()) t->label = label->get<int>() != 0 ? 1 : 0;
  RETURN_IF_ERROR(RequireString(j, "scenario", false, &t->scenario));
  return OkStatus();
}

}  // namespace

std::string_view PaymentMethodName(PaymentMethod m) { return kMethods[static_cast<size_t>(m)]; }

bool IsSupportedCurrency(std::string_view code) {
  for (std::string_view c : kCurrencies) {
    if (c == code) return true;
  }
  return false;
}

Result<Transaction> ParseTransaction(std::string_view json) {
  Json j = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgumentError("transaction is not valid JSON");
  if (!j.is_object()) return InvalidArgumentError("transaction must be a JSON object");
  Transaction t;
  RETURN_IF_ERROR(ParseFields(j, &t));
  return t;
}

std::string ToJson(const Transaction& t) {
  std::string out;
  out.reserve(256);
  JsonObjectWriter w(&out);
  w.Key("id").String(t.id);
  w.Key("user").String(t.user);
  w.Key("amount").Number(t.amount);
  w.Key("currency").String(t.currency);
  w.Key("merchant").String(t.merchant);
  w.Key("merchant_category").Number(t.merchant_category);
  w.Key("payment_method").String(PaymentMethodName(t.payment_method));
  w.Key("country").String(t.country);
  w.Key("lat").Number(t.lat);
  w.Key("lon").Number(t.lon);
  w.Key("timestamp_ms").Number(t.timestamp_ms);
  if (!t.device.empty()) w.Key("device").String(t.device);
  if (!t.metadata.empty()) w.Key("metadata").Raw(t.metadata);  // an object's text, kept verbatim
  if (t.label >= 0) w.Key("label").Number(static_cast<int>(t.label));
  if (!t.scenario.empty()) w.Key("scenario").String(t.scenario);
  w.Close();
  return out;
}

}  // namespace hotpath::fraud
