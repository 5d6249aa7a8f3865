// The fraud engine with its real parts: the durable feature store, the
// example rules, an XGBoost model behind a dynamic batcher, and the SQLite
// audit log. Oracles: XGBoost's own prediction on the features the engine
// recorded, the rules as written, and hand-built traffic.
#include "pipeline/fraud/engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <future>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "observe/metrics.h"
#include "pipeline/audit/internal/postgres_server_process.h"
#include "runtime/tree/testing/xgboost_trainer.h"
#include "runtime/tree/tree_model.h"

namespace hotpath::fraud {
namespace {

namespace fs = std::filesystem;
const std::string kSrc = HOTPATH_SOURCE_DIR;

// A hand-checkable companion: sigmoid(0.001 * sum of the row). A NaN in
// its input would make the score NaN, so it also shows the imputation.
class SumModel final : public Model {
 public:
  const ModelSignature& signature() const override { return signature_; }
  int64_t num_features() const override { return kNumModelFeatures; }
  int64_t OutputWidth(OutputKind) const override { return 1; }
  Status Predict(const float* x, size_t rows, OutputKind, float* out) const override {
    caller.store(std::this_thread::get_id());
    for (size_t r = 0; r < rows; ++r) {
      double sum = 0;
      for (size_t c = 0; c < kNumModelFeatures; ++c) sum += x[r * kNumModelFeatures + c];
      out[r] = static_cast<float>(1 / (1 + std::exp(-0.001 * sum)));
    }
    return OkStatus();
  }
  size_t MemoryBytes() const override { return 0; }

  mutable std::atomic<std::thread::id> caller;  // the thread of the latest Predict

 private:
  ModelSignature signature_;
};

class FraudEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("hotpath_engine_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto defs = features::LoadDefinitionsFile(kSrc + "/examples/fraud/features.json");
    ASSERT_TRUE(defs.ok()) << defs.status().ToString();
    defs_ = std::make_shared<const features::Definitions>(std::move(*defs));
    features::DurableFeatureStore::Options so;
    so.store.definitions = defs_;
    so.store.clock = &RealClock();
    so.dir = (dir_ / "features").string();
    so.sync = false;
    auto store = features::DurableFeatureStore::Open(so);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto schema = FraudRulesSchema();
    ASSERT_TRUE(schema.ok());
    auto rules = rules::ReloadableRuleSet::CreateFromFile(*schema, kSrc + "/examples/fraud/fraud.rules");
    ASSERT_TRUE(rules.ok()) << rules.status().ToString();
    rules_ = std::move(*rules);
    TrainModel();
    audit::AuditLog::Options ao;
    ao.location = (dir_ / "audit.db").string();
    auto audit = audit::AuditLog::Open(ao);
    ASSERT_TRUE(audit.ok());
    audit_ = std::move(*audit);
    engine_ = MakeEngine(std::chrono::milliseconds(50));
  }

  void TearDown() override {
    engine_.reset();
    batcher_.reset();
    audit_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  // A model over the 20 fraud columns: fraud when the amount is large and
  // the card is not present. Random rows, so every column is exercised.
  void TrainModel() {
    testing::Dataset d;
    d.rows = 3000;
    d.cols = kNumModelFeatures;
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<float> u(0, 1);
    for (size_t r = 0; r < d.rows; ++r) {
      for (size_t c = 0; c < kNumModelFeatures; ++c) d.x.push_back(c == 0 ? u(rng) * 2000 : u(rng) * 10);
      d.label.push_back(d.x[r * kNumModelFeatures] > 1000 && d.x[r * kNumModelFeatures + 3] > 5);
    }
    auto b = testing::XGBoostBooster::Train(d, {{"objective", "binary:logistic"}, {"max_depth", "4"}}, 40);
    ASSERT_TRUE(b.ok());
    booster_ = std::make_unique<testing::XGBoostBooster>(std::move(*b));
    ASSERT_TRUE(booster_->Save((dir_ / "m.json").string()).ok());
    auto m = TreeModel::Load((dir_ / "m.json").string(), {});
    ASSERT_TRUE(m.ok());
    model_ = std::shared_ptr<const Model>(std::move(*m));
    DynamicBatcher::Options bo;
    bo.model_name = "fraud";
    bo.max_batch_size = 16;
    auto batcher = DynamicBatcher::Create(bo, model_, metrics_);
    ASSERT_TRUE(batcher.ok());
    batcher_ = std::move(*batcher);
  }

  // The fixture's engine; `customize` edits the options before Create.
  std::unique_ptr<FraudEngine> MakeEngine(Nanos model_timeout,
                                          const std::function<void(FraudEngine::Options*)>& customize = {}) {
    FraudEngine::Options o;
    o.definitions = defs_;
    o.store = store_.get();
    o.rules = rules_.get();
    o.model = model_;
    o.batcher = batcher_.get();
    o.audit = audit_.get();
    o.model_timeout = model_timeout;
    if (customize) customize(&o);
    auto e = FraudEngine::Create(o);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? std::move(*e) : nullptr;
  }

  Transaction Txn(const std::string& id, double amount, bool cnp, const std::string& user = "u1") {
    Transaction t;
    t.id = id;
    t.user = user;
    t.amount = amount;
    t.currency = "EUR";
    t.merchant = "m1";
    t.merchant_category = 5411;
    t.payment_method = cnp ? PaymentMethod::kCardNotPresent : PaymentMethod::kCardPresent;
    t.device = cnp ? "d1" : "";
    t.country = "DE";
    t.timestamp_ms = features::WallMillis(RealClock());
    return t;
  }

  void CheckCompanionBlend(bool inline_models);

  std::pair<Status, DecisionRecord> DecideSync(FraudEngine& e, Transaction t) {
    std::promise<std::pair<Status, DecisionRecord>> p;
    e.Decide(std::move(t), [&p](const Status& s, const DecisionRecord& r) { p.set_value({s, r}); });
    return p.get_future().get();
  }

  fs::path dir_;
  MetricsRegistry metrics_;
  std::shared_ptr<const features::Definitions> defs_;
  std::unique_ptr<features::DurableFeatureStore> store_;
  std::unique_ptr<rules::ReloadableRuleSet> rules_;
  std::unique_ptr<testing::XGBoostBooster> booster_;
  std::shared_ptr<const Model> model_;
  std::unique_ptr<DynamicBatcher> batcher_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<FraudEngine> engine_;
};

TEST_F(FraudEngineTest, ModelScoreIsXGBoostsOnTheRecordedFeatures) {
  for (int i = 0; i < 5; ++i) {
    auto [s, rec] = DecideSync(*engine_, Txn("t" + std::to_string(i), 1500 + 10 * i, true, "u" + std::to_string(i % 2)));
    ASSERT_TRUE(s.ok()) << s.ToString();
    auto stored = audit_->Find(rec.txn_id);
    ASSERT_TRUE(stored.ok() && stored->has_value());
    auto detail = nlohmann::json::parse((*stored)->detail_json);
    std::vector<float> row;
    for (const char* c : FraudFeaturizer::ColumnNames()) {
      row.push_back(detail["features"][c].is_null() ? NAN : detail["features"][c].get<float>());
    }
    auto want = booster_->Predict(row.data(), 1, kNumModelFeatures, testing::XGBoostBooster::Kind::kValue);
    ASSERT_TRUE(want.ok());
    EXPECT_NEAR(rec.model_score, (*want)[0], 1e-6);
    EXPECT_EQ((*stored)->decision, std::string(DecisionName(rec.decision)));
    // Features are read before the event: the i-th txn of a user sees i/2 earlier ones.
    const int earlier = i / 2;
    if (earlier == 0) {
      EXPECT_TRUE(detail["features"]["user_count_10m"].is_null());
    } else {
      EXPECT_EQ(detail["features"]["user_count_10m"].get<int>(), earlier);
    }
  }
}

TEST_F(FraudEngineTest, HardRuleBlocksBeforeTheModel) {
  auto [s, rec] = DecideSync(*engine_, Txn("big", 25000, false));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(rec.decision, Decision::kBlock);
  EXPECT_EQ(rec.model_score, -1);
  EXPECT_NE(std::find(rec.reasons.begin(), rec.reasons.end(), "rule:absurd_amount"), rec.reasons.end());
}

TEST_F(FraudEngineTest, BurstOfCardNotPresentIsBlockedOnTheSeventh) {
  for (int i = 0; i < 6; ++i) {
    auto [s, rec] = DecideSync(*engine_, Txn("b" + std::to_string(i), 20, true, "burst"));
    ASSERT_TRUE(s.ok());
    EXPECT_NE(rec.decision, Decision::kBlock) << i;
  }
  auto [s, rec] = DecideSync(*engine_, Txn("b6", 20, true, "burst"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(rec.decision, Decision::kBlock);
  EXPECT_NE(std::find(rec.reasons.begin(), rec.reasons.end(), "rule:card_burst"), rec.reasons.end());
}

TEST_F(FraudEngineTest, DuplicateIdIsRefused) {
  ASSERT_TRUE(DecideSync(*engine_, Txn("dup", 10, false)).first.ok());
  auto [s, rec] = DecideSync(*engine_, Txn("dup", 10, false));
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(s.message().find("duplicate transaction id 'dup'"), std::string::npos);
}

TEST_F(FraudEngineTest, MissedModelDeadlineFallsBackToReview) {
  auto engine = MakeEngine(Nanos(1));
  auto [s, rec] = DecideSync(*engine, Txn("late", 30, false, "patient"));
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(rec.decision, Decision::kReview);
  EXPECT_EQ(rec.model_score, -1);
  EXPECT_NE(std::find(rec.reasons.begin(), rec.reasons.end(), "model_unavailable: DEADLINE_EXCEEDED"), rec.reasons.end());
}

// The gate (serve/'s circuit breaker in the server) decides whether the
// model runs; every admitted call reports its outcome.
TEST_F(FraudEngineTest, ModelGateRefusalDecidesWithoutTheModel) {
  bool open = true;
  std::vector<Status> outcomes;
  auto engine = MakeEngine(std::chrono::milliseconds(50), [&](FraudEngine::Options* o) {
    o->model_gate = [&]() -> Result<FraudEngine::ModelOutcome> {
      if (open) return UnavailableError("model 'fraud' unavailable: circuit breaker open");
      return FraudEngine::ModelOutcome([&](const Status& s) { outcomes.push_back(s); });
    };
  });
  auto [s, rec] = DecideSync(*engine, Txn("gated", 30, false, "calm"));
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(rec.decision, Decision::kReview);
  EXPECT_EQ(rec.model_score, -1);
  EXPECT_NE(std::find(rec.reasons.begin(), rec.reasons.end(), "model_unavailable: circuit_open"),
            rec.reasons.end());
  EXPECT_TRUE(outcomes.empty());

  open = false;
  auto [s2, rec2] = DecideSync(*engine, Txn("admitted", 30, false, "calm"));
  ASSERT_TRUE(s2.ok()) << s2.ToString();
  EXPECT_GE(rec2.model_score, 0);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_TRUE(outcomes[0].ok());
}

// The companion runs beside XGBoost on the imputed row; the model score is
// the weighted blend, each score is recorded, and a companion that cannot
// answer leaves XGBoost's score alone with the reason. Both models run
// through batchers (`inline_models` false) or on the deciding thread.
void FraudEngineTest::CheckCompanionBlend(bool inline_models) {
  auto sum_model = std::make_shared<SumModel>();
  DynamicBatcher::Options bo;
  bo.model_name = "companion";
  bo.max_batch_size = 16;
  auto companion = DynamicBatcher::Create(bo, sum_model, metrics_);
  ASSERT_TRUE(companion.ok());
  bool open = false;
  std::vector<Status> outcomes;
  auto engine = MakeEngine(std::chrono::milliseconds(50), [&](FraudEngine::Options* o) {
    if (inline_models) {
      o->batcher = nullptr;
      o->companion.model = sum_model;
    } else {
      o->companion.batcher = companion->get();
    }
    o->companion.version = "7";
    o->companion.weight = 0.25;
    o->metrics = &metrics_;
    o->companion.gate = [&]() -> Result<FraudEngine::ModelOutcome> {
      if (open) return UnavailableError("model 'companion' unavailable: circuit breaker open");
      return FraudEngine::ModelOutcome([&](const Status& s) { outcomes.push_back(s); });
    };
  });
  ASSERT_NE(engine, nullptr);
  for (int i = 0; i < 3; ++i) {
    auto [s, rec] = DecideSync(*engine, Txn("c" + std::to_string(i), 1200 + 100 * i, true, "blend"));
    ASSERT_TRUE(s.ok()) << s.ToString();
    auto stored = audit_->Find(rec.txn_id);
    ASSERT_TRUE(stored.ok() && stored->has_value());
    auto detail = nlohmann::json::parse((*stored)->detail_json);
    std::vector<float> row;
    double sum = 0;
    bool missing = false;
    for (const char* c : FraudFeaturizer::ColumnNames()) {
      const bool null = detail["features"][c].is_null();
      missing |= null;
      row.push_back(null ? NAN : detail["features"][c].get<float>());
      sum += null ? 0 : detail["features"][c].get<float>();
    }
    if (i == 0) {
      EXPECT_TRUE(missing);  // a new user: the imputation matters
    }
    auto xgb = booster_->Predict(row.data(), 1, kNumModelFeatures, testing::XGBoostBooster::Kind::kValue);
    ASSERT_TRUE(xgb.ok());
    const double mlp = static_cast<float>(1 / (1 + std::exp(-0.001 * sum)));
    EXPECT_NEAR(rec.primary_score, (*xgb)[0], 1e-6);
    EXPECT_NEAR(rec.companion_score, mlp, 1e-6);
    EXPECT_NEAR(rec.model_score, 0.75 * (*xgb)[0] + 0.25 * mlp, 1e-6);
    EXPECT_EQ(rec.companion_version, "7");
    EXPECT_NEAR(detail["companion_score"].get<double>(), mlp, 1e-6);
    EXPECT_EQ(sum_model->caller.load() == std::this_thread::get_id(), inline_models);
  }
  ASSERT_EQ(outcomes.size(), 3u);  // every admitted call reported its outcome
  for (const Status& s : outcomes) EXPECT_TRUE(s.ok()) << s.ToString();
  open = true;
  auto [s, rec] = DecideSync(*engine, Txn("c-open", 1500, true, "blend"));
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(rec.companion_score, -1);
  EXPECT_EQ(rec.model_score, rec.primary_score);
  EXPECT_NE(std::find(rec.reasons.begin(), rec.reasons.end(), "companion_unavailable: circuit_open"),
            rec.reasons.end());
  // Every decision counted once by outcome; inline models timed per call
  // (the companion's gated call is not).
  uint64_t decided = 0;
  for (const auto& [decision, n] : CounterTotals(metrics_, "hotpath_fraud_decisions_total")) decided += n;
  EXPECT_EQ(decided, 4u);
  const std::string text = metrics_.ExpositionText();
  EXPECT_EQ(text.find("hotpath_fraud_model_duration_seconds_count{model=\"companion\",version=\"7\"} 3") !=
                std::string::npos,
            inline_models)
      << text;
  engine.reset();
}

TEST_F(FraudEngineTest, CompanionModelIsBlendedIn) { CheckCompanionBlend(false); }

TEST_F(FraudEngineTest, InlineModelsRunOnTheDecidingThread) { CheckCompanionBlend(true); }

TEST_F(FraudEngineTest, TooLateEventIsRefusedWithTheReason) {
  Transaction t = Txn("old", 10, false);
  t.timestamp_ms -= 3'600'000;  // an hour late; allowed lateness is 10 minutes
  auto [s, rec] = DecideSync(*engine_, t);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'old'"), std::string::npos) << s.message();
}

// The audit trail on a PostgreSQL server that goes away: the decision is an
// explicit UNAVAILABLE naming the server (never an unrecorded OK), and once
// the server is back the client's retry of that id is decided and recorded.
TEST_F(FraudEngineTest, AuditServerOutageIsAnErrorAndTheRetryIsRecorded) {
  if (audit::internal::PostgresServerProcess::FindBinDir().empty()) GTEST_SKIP() << "PostgreSQL is not installed";
  audit::internal::PostgresServerProcess server({});
  ASSERT_TRUE(server.Start().ok());
  ASSERT_TRUE(server.CreateDatabase("fraud").ok());
  audit::AuditLog::Options ao;
  ao.location = server.Url("fraud");
  ao.reconnect_interval = std::chrono::milliseconds(20);
  engine_.reset();
  auto audit = audit::AuditLog::Open(ao);
  ASSERT_TRUE(audit.ok()) << audit.status().ToString();
  audit_ = std::move(*audit);
  engine_ = MakeEngine(std::chrono::milliseconds(50));
  ASSERT_TRUE(DecideSync(*engine_, Txn("before", 10, false)).first.ok());

  server.Stop();
  const Transaction during = Txn("during", 10, false);
  auto [s, rec] = DecideSync(*engine_, during);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("127.0.0.1:" + std::to_string(server.port())), std::string::npos) << s.message();
  // The same id with other content is not a retry.
  Transaction changed = during;
  changed.amount = 11;
  auto [s2, rec2] = DecideSync(*engine_, changed);
  EXPECT_EQ(s2.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(s2.message().find("different content"), std::string::npos) << s2.message();

  ASSERT_TRUE(server.Start().ok());
  Status retry = UnavailableError("not tried");
  int attempts = 0;
  for (; attempts < 100 && retry.code() == StatusCode::kUnavailable; ++attempts) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    retry = DecideSync(*engine_, during).first;
  }
  ASSERT_TRUE(retry.ok()) << retry.ToString();
  auto stored = audit_->Find("during");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ(DecideSync(*engine_, during).first.code(), StatusCode::kAlreadyExists);
  // However many attempts it took, the event counts once: the recorded
  // decision read what the first attempt read ("before"), and the user's
  // next transaction sees "before" and "during".
  EXPECT_EQ(nlohmann::json::parse((*stored)->detail_json)["features"]["user_count_10m"].get<int>(), 1);
  ASSERT_TRUE(DecideSync(*engine_, Txn("after", 10, false)).first.ok());
  auto after = audit_->Find("after");
  ASSERT_TRUE(after.ok() && after->has_value());
  EXPECT_EQ(nlohmann::json::parse((*after)->detail_json)["features"]["user_count_10m"].get<int>(), 2)
      << attempts + 1 << " attempts of 'during'";
}

}  // namespace
}  // namespace hotpath::fraud
