#include "bench/rules/fraud_events.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <utility>

namespace hotpath::rules::bench {
namespace {

struct Field {
  const char* name;
  Type type;
  Stage stage;
};

constexpr Field kFields[] = {
    {"amount", Type::kNumber, Stage::kPreModel},
    {"currency", Type::kString, Stage::kPreModel},
    {"country", Type::kString, Stage::kPreModel},
    {"ip_country", Type::kString, Stage::kPreModel},
    {"billing_country", Type::kString, Stage::kPreModel},
    {"mcc", Type::kString, Stage::kPreModel},
    {"merchant_id", Type::kString, Stage::kPreModel},
    {"payment_method", Type::kString, Stage::kPreModel},
    {"card_bin", Type::kString, Stage::kPreModel},
    {"email_domain", Type::kString, Stage::kPreModel},
    {"channel", Type::kString, Stage::kPreModel},
    {"ts", Type::kTime, Stage::kPreModel},
    {"account_created", Type::kTime, Stage::kPreModel},
    {"device_new", Type::kBool, Stage::kPreModel},
    {"card_present", Type::kBool, Stage::kPreModel},
    {"is_3ds", Type::kBool, Stage::kPreModel},
    {"txn_count_1h", Type::kNumber, Stage::kPreModel},
    {"txn_count_24h", Type::kNumber, Stage::kPreModel},
    {"amount_sum_1h", Type::kNumber, Stage::kPreModel},
    {"amount_sum_24h", Type::kNumber, Stage::kPreModel},
    {"amount_avg_30d", Type::kNumber, Stage::kPreModel},
    {"amount_max_30d", Type::kNumber, Stage::kPreModel},
    {"distinct_countries_24h", Type::kNumber, Stage::kPreModel},
    {"distinct_cards_24h", Type::kNumber, Stage::kPreModel},
    {"distinct_devices_7d", Type::kNumber, Stage::kPreModel},
    {"failed_logins_1h", Type::kNumber, Stage::kPreModel},
    {"chargebacks_90d", Type::kNumber, Stage::kPreModel},
    {"declines_24h", Type::kNumber, Stage::kPreModel},
    {"km_from_last_txn", Type::kNumber, Stage::kPreModel},
    {"seconds_since_last_txn", Type::kNumber, Stage::kPreModel},
    {"merchant_fraud_rate_30d", Type::kNumber, Stage::kPreModel},
    {"score.xgb", Type::kNumber, Stage::kPostModel},
    {"score.mlp", Type::kNumber, Stage::kPostModel},
};

// Picks from `items` with the given relative weights.
class Weighted {
 public:
  Weighted(std::vector<std::string> items, const std::vector<double>& weights)
      : items_(std::move(items)), dist_(weights.begin(), weights.end()) {}
  const std::string& operator()(std::mt19937_64& rng) { return items_[dist_(rng)]; }

 private:
  std::vector<std::string> items_;
  std::discrete_distribution<size_t> dist_;
};

class EventMaker {
 public:
  EventMaker(const std::shared_ptr<const Schema>& schema, uint64_t seed,
             std::vector<std::string>* storage)
      : schema_(schema), rng_(seed), storage_(storage) {}

  Inputs Make() {
    Inputs in(schema_);
    in_ = &in;
    Transaction();
    Features();
    Scores();
    return in;
  }

 private:
  VarId Id(const char* name) const { return *schema_->Find(name); }
  double U() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  bool Chance(double p) { return U() < p; }
  double Exp(double mean) { return std::exponential_distribution<double>(1 / mean)(rng_); }
  double Poisson(double mean) { return std::poisson_distribution<int>(mean)(rng_); }
  void Str(const char* name, const std::string& value) {
    in_->SetString(Id(name), storage_->emplace_back(value));
  }
  void Num(const char* name, double v) { in_->SetNumber(Id(name), v); }

  void Transaction() {
    static Weighted countries(
        {"US", "GB", "DE", "FR", "CA", "BR", "IN", "NG", "RU", "VN", "ES", "IT"},
        {50, 10, 8, 7, 5, 4, 4, 1.5, 1, 1, 4, 4});
    static Weighted mcc({"5411", "5812", "5541", "5999", "5732", "5311", "4121", "5814", "7995",
                         "6051", "5815", "4829", "5944"},
                        {20, 18, 12, 8, 5, 8, 8, 14, 1, 1, 3, 1, 1});
    static Weighted methods({"card", "wallet", "bank_transfer", "prepaid"}, {80, 10, 5, 5});
    static Weighted domains({"gmail.com", "yahoo.com", "outlook.com", "icloud.com", "corp.example",
                             "mailinator.com", "mail.ru", "1secmail.org"},
                            {45, 15, 15, 12, 9, 2, 1, 1});
    static Weighted channels({"web", "app", "pos"}, {50, 35, 15});
    static Weighted currencies({"USD", "EUR", "GBP", "BRL", "JPY"}, {70, 15, 8, 4, 3});
    double amount = std::exp(std::log(40.0) + 1.3 * std::normal_distribution<double>()(rng_));
    Num("amount", Chance(0.005) ? amount * 50 : std::round(amount * 100) / 100);
    const std::string country = countries(rng_);
    Str("country", country);
    Str("ip_country", Chance(0.9) ? country : countries(rng_));
    Str("billing_country", Chance(0.95) ? country : countries(rng_));
    Str("currency", currencies(rng_));
    Str("mcc", mcc(rng_));
    char id[32];
    std::snprintf(id, sizeof(id), "m_%04d", static_cast<int>(U() * 500));
    Str("merchant_id", id);
    Str("payment_method", methods(rng_));
    std::snprintf(id, sizeof(id), "%06d", static_cast<int>(400000 + U() * 100000));
    Str("card_bin", id);
    Str("email_domain", domains(rng_));
    const std::string channel = channels(rng_);
    Str("channel", channel);
    int64_t ts = 1'700'000'000 + static_cast<int64_t>(U() * 30 * 86400);
    in_->SetTime(Id("ts"), ts);
    double age_days = Chance(0.03) ? U() : Exp(500);
    in_->SetTime(Id("account_created"), ts - static_cast<int64_t>(age_days * 86400));
    in_->SetBool(Id("device_new"), Chance(0.05));
    in_->SetBool(Id("card_present"), channel == "pos");
    in_->SetBool(Id("is_3ds"), Chance(0.6));
  }

  void Features() {
    bool burst = Chance(0.01);
    double c1 = burst ? 25 + Poisson(5) : Poisson(0.5);
    double c24 = c1 + Poisson(3);
    double avg = std::exp(std::log(45.0) + 0.8 * std::normal_distribution<double>()(rng_));
    Num("txn_count_1h", c1);
    Num("txn_count_24h", c24);
    Num("amount_sum_1h", c1 * avg);
    Num("amount_sum_24h", c24 * avg);
    Num("amount_avg_30d", avg);
    Num("amount_max_30d", avg * (2 + 3 * U()));
    Num("distinct_countries_24h", Chance(0.95) ? 1 : 2 + Poisson(1));
    Num("distinct_cards_24h", Chance(0.97) ? 1 : 2 + Poisson(2));
    Num("distinct_devices_7d", 1 + (Chance(0.8) ? 0 : Poisson(1)));
    Num("failed_logins_1h", Chance(0.97) ? 0 : Poisson(3));
    Num("chargebacks_90d", Chance(0.99) ? 0 : 1 + Poisson(1));
    Num("declines_24h", Chance(0.95) ? 0 : Poisson(2));
    Num("km_from_last_txn", Chance(0.02) ? 1000 + Exp(3000) : Exp(20));
    Num("seconds_since_last_txn", burst ? Exp(20) : Exp(20000));
    Num("merchant_fraud_rate_30d", Exp(0.006));
  }

  void Scores() {
    double xgb = Chance(0.02) ? 0.7 + 0.3 * U() : std::pow(U(), 6);
    double mlp = std::clamp(xgb + 0.1 * std::normal_distribution<double>()(rng_), 0.0, 1.0);
    Num("score.xgb", xgb);
    Num("score.mlp", mlp);
  }

  std::shared_ptr<const Schema> schema_;
  std::mt19937_64 rng_;
  std::vector<std::string>* storage_;
  Inputs* in_ = nullptr;
};

}  // namespace

Result<std::shared_ptr<const Schema>> FraudSchema() {
  Schema::Options options;
  for (const Field& f : kFields) options.variables.push_back({f.name, f.type, f.stage});
  return Schema::Create(std::move(options));
}

std::vector<Inputs> GenerateFraudEvents(const std::shared_ptr<const Schema>& schema, size_t count,
                                        uint64_t seed, std::vector<std::string>* storage) {
  storage->clear();
  storage->reserve(count * 16);  // no reallocation: Inputs borrow these strings
  EventMaker maker(schema, seed, storage);
  std::vector<Inputs> events;
  events.reserve(count);
  for (size_t i = 0; i < count; ++i) events.push_back(maker.Make());
  return events;
}

}  // namespace hotpath::rules::bench
