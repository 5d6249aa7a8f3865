// Transaction: the card-payment event the fraud application decides on, and
// its validation at the boundary (JSON in, typed struct out).
#ifndef HOTPATH_PIPELINE_FRAUD_TRANSACTION_H_
#define HOTPATH_PIPELINE_FRAUD_TRANSACTION_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace hotpath::fraud {

enum class PaymentMethod : uint8_t { kCardPresent, kCardNotPresent, kWallet, kBankTransfer };

std::string_view PaymentMethodName(PaymentMethod m);

struct Transaction {
  std::string id;           // unique per transaction
  std::string user;         // customer / card holder
  double amount = 0;        // in `currency` units, > 0
  std::string currency;     // ISO 4217, one of the supported set
  std::string merchant;     // terminal / merchant id
  int32_t merchant_category = 0;  // ISO 18245 MCC, 0..9999
  PaymentMethod payment_method = PaymentMethod::kCardPresent;
  std::string device;       // device fingerprint; empty when card-present
  std::string country;      // ISO 3166 alpha-2 of the transaction's location
  double lat = 0, lon = 0;  // degrees
  int64_t timestamp_ms = 0; // Unix epoch milliseconds
  std::string metadata;     // free-form JSON object, kept verbatim
  // Ground truth, present only in generated/labeled data.
  int8_t label = -1;        // -1 unknown, 0 legit, 1 fraud
  std::string scenario;     // generator's fraud scenario name, empty if legit
};

// Largest accepted amount (any currency); beyond it the event is refused.
inline constexpr double kMaxAmount = 1e7;

// Parses and validates one JSON transaction. INVALID_ARGUMENT naming the
// field: missing required fields, wrong types, non-positive or absurd amounts,
// unknown currency or payment method, timestamps outside 2000..2100.
Result<Transaction> ParseTransaction(std::string_view json);

// Serialises to one JSON line (no trailing newline); round-trips through
// ParseTransaction.
std::string ToJson(const Transaction& t);

// Whether `code` is a supported ISO 4217 currency.
bool IsSupportedCurrency(std::string_view code);

}  // namespace hotpath::fraud

#endif  // HOTPATH_PIPELINE_FRAUD_TRANSACTION_H_
