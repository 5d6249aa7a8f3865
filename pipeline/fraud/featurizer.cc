#include "pipeline/fraud/featurizer.h"

#include <cmath>

namespace hotpath::fraud {
namespace {

// Feature references read per entity, in row order after the event fields.
const std::vector<std::string> kUserRefs = {
    "user.count.10m",      "user.count.1h",        "user.count.24h",     "user.amount_sum.1h",
    "user.amount_sum.24h", "user.amount_mean.7d",  "user.amount_max.7d", "user.merchants.24h",
    "user.devices.7d",     "user.countries.7d",    "user.cnp.1h",        "user.since_last"};
const std::vector<std::string> kMerchantRefs = {"merchant.count.1h", "merchant.count.24h",
                                                "merchant.amount_mean.24h"};

const std::array<const char*, kNumModelFeatures> kColumns = {
    "amount",          "log_amount",       "hour",                "card_not_present",
    "user_count_10m",  "user_count_1h",    "user_count_24h",      "user_amount_sum_1h",
    "user_amount_sum_24h", "user_amount_mean_7d", "user_amount_max_7d", "amount_to_mean_7d",
    "user_merchants_24h", "user_devices_7d", "user_countries_7d",  "user_cnp_1h",
    "user_since_last_s", "merchant_count_1h", "merchant_count_24h", "merchant_amount_mean_24h"};

float ValueOf(const features::FeatureValue& v) {
  return v.status == features::ValueStatus::kPresent ? static_cast<float>(v.value) : NAN;
}

}  // namespace

const std::array<const char*, kNumModelFeatures>& FraudFeaturizer::ColumnNames() { return kColumns; }

Result<FraudFeaturizer::SourceMap> FraudFeaturizer::MapSource(const features::Definitions& defs,
                                                              const char* name) {
  SourceMap m;
  m.source = defs.FindSource(name);
  if (m.source < 0) return InvalidArgumentError(std::string("fraud features: no source '") + name + "'");
  const features::SourceDef& s = defs.sources[m.source];
  auto field = [&](const std::string& f) -> Result<Field> {
    if (f == "amount") return Field::kAmount;
    if (f == "cnp") return Field::kCnp;
    if (f == "merchant") return Field::kMerchant;
    if (f == "device") return Field::kDevice;
    if (f == "country") return Field::kCountry;
    return InvalidArgumentError("fraud features: source '" + s.name + "' reads field '" + f +
                                "', which transactions do not have");
  };
  for (const auto& f : s.numeric_fields) {
    ASSIGN_OR_RETURN(Field x, field(f));
    m.numeric.push_back(x);
  }
  for (const auto& f : s.keyed_fields) {
    ASSIGN_OR_RETURN(Field x, field(f));
    m.keyed.push_back(x);
  }
  return m;
}

Result<std::unique_ptr<FraudFeaturizer>> FraudFeaturizer::Create(
    std::shared_ptr<const features::Definitions> defs) {
  std::unique_ptr<FraudFeaturizer> f(new FraudFeaturizer());
  ASSIGN_OR_RETURN(f->user_source_, MapSource(*defs, "txn"));
  ASSIGN_OR_RETURN(f->merchant_source_, MapSource(*defs, "merchant_txn"));
  ASSIGN_OR_RETURN(features::FeatureSelector user, features::FeatureSelector::Create(*defs, kUserRefs));
  ASSIGN_OR_RETURN(features::FeatureSelector merchant, features::FeatureSelector::Create(*defs, kMerchantRefs));
  f->user_ = std::make_unique<features::FeatureSelector>(std::move(user));
  f->merchant_ = std::make_unique<features::FeatureSelector>(std::move(merchant));
  f->defs_ = std::move(defs);
  return f;
}

void FraudFeaturizer::AddEvent(const SourceMap& m, const std::string& key, const Transaction& t,
                               std::vector<features::Event>* out) const {
  features::Event e;
  e.source = m.source;
  e.entity_key = key;
  e.ts_ms = t.timestamp_ms;
  for (Field f : m.numeric) {
    e.numbers.push_back(f == Field::kAmount ? t.amount
                                            : (t.payment_method == PaymentMethod::kCardNotPresent ? 1.0 : 0.0));
  }
  for (Field f : m.keyed) {
    const std::string& v = f == Field::kMerchant ? t.merchant : f == Field::kDevice ? t.device : t.country;
    e.keyed.push_back(features::KeyedValueHash(v));
  }
  out->push_back(std::move(e));
}

void FraudFeaturizer::Events(const Transaction& t, std::vector<features::Event>* out) const {
  AddEvent(user_source_, t.user, t, out);
  AddEvent(merchant_source_, t.merchant, t, out);
}

Status FraudFeaturizer::Row(const Transaction& t, const features::FeatureStore& store, float* row) const {
  thread_local std::vector<features::FeatureValue> user, merchant;
  const std::string keys[] = {t.user, t.merchant};
  RETURN_IF_ERROR(store.Read(std::span(keys, 1), *user_, {}, &user));
  RETURN_IF_ERROR(store.Read(std::span(keys + 1, 1), *merchant_, {}, &merchant));
  const int64_t hour = (t.timestamp_ms / 3'600'000) % 24;
  row[0] = static_cast<float>(t.amount);
  row[1] = static_cast<float>(std::log1p(t.amount));
  row[2] = static_cast<float>(hour);
  row[3] = t.payment_method == PaymentMethod::kCardNotPresent ? 1.0f : 0.0f;
  for (size_t i = 0; i < 7; ++i) row[4 + i] = ValueOf(user[i]);  // counts, sums, mean, max
  row[11] = std::isnan(row[9]) || row[9] <= 0 ? NAN : row[0] / row[9];
  for (size_t i = 7; i < kUserRefs.size(); ++i) row[5 + i] = ValueOf(user[i]);
  for (size_t i = 0; i < kMerchantRefs.size(); ++i) row[17 + i] = ValueOf(merchant[i]);
  return OkStatus();
}

}  // namespace hotpath::fraud
