// The fraud application's training recipe, run by the set-up (nothing is
// downloaded):
//  1. generate labeled traffic (pipeline/fraud/generator.h);
//  2. replay it in time order through the same feature store and featurizer
//     that serve online, reading each row *before* its event is applied
//     (point-in-time correct: no label leakage, no training/serving skew);
//  3. train XGBoost on the earlier 70% of the period, evaluate on the later
//     30%: PR-AUC of the rules alone, the model alone, and both combined;
//  4. write a model repository OUT/models/fraud_xgb/1 and OUT/report.json.
//
//   make_fraud_example SRC_EXAMPLES_FRAUD OUT_DIR [EVENTS]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/clock.h"
#include "features/definitions.h"
#include "features/feature_store.h"
#include "pipeline/fraud/featurizer.h"
#include "pipeline/fraud/generator.h"
#include "pipeline/fraud/scoring.h"
#include "rules/rule_set.h"
#include "runtime/tree/testing/xgboost_trainer.h"

namespace {

using namespace hotpath;           // NOLINT: example program
using namespace hotpath::fraud;    // NOLINT

int Die(const Status& s) {
  std::fprintf(stderr, "make_fraud_example: %s\n", s.ToString().c_str());
  return 1;
}

struct Rows {
  std::vector<float> x;      // [n, kNumModelFeatures]
  std::vector<int> label;
  std::vector<double> rules_risk;
  std::vector<Transaction> txns;
};

Status Replay(const std::string& src, int64_t events, Rows* rows) {
  ASSIGN_OR_RETURN(features::Definitions defs, features::LoadDefinitionsFile(src + "/features.json"));
  auto shared = std::make_shared<const features::Definitions>(std::move(defs));
  TransactionGenerator::Options go;
  go.seed = 2026;
  go.mean_events_per_s = 2.0;  // 400k events span about 2.3 simulated days
  go.customers = 4000;
  go.terminals = 800;
  TransactionGenerator gen(go);
  FakeClock clock(TimePoint(std::chrono::milliseconds(go.start_ms)));
  features::FeatureStore::Options so;
  so.definitions = shared;
  so.clock = &clock;
  ASSIGN_OR_RETURN(auto store, features::FeatureStore::Create(so));
  ASSIGN_OR_RETURN(auto featurizer, FraudFeaturizer::Create(shared));
  ASSIGN_OR_RETURN(auto schema, FraudRulesSchema());
  ASSIGN_OR_RETURN(auto rules, rules::RuleSet::CreateFromFile(schema, src + "/fraud.rules"));
  rules::Inputs in(schema);
  rules::Verdict verdict;
  std::vector<features::Event> evs;
  float row[kNumModelFeatures];
  for (int64_t i = 0; i < events; ++i) {
    Transaction t = gen.Next();
    const auto now = clock.Now().time_since_epoch();
    clock.Advance(std::chrono::milliseconds(t.timestamp_ms) - std::chrono::duration_cast<std::chrono::milliseconds>(now));
    RETURN_IF_ERROR(featurizer->Row(t, *store, row));
    FillRuleInputs(t, row, &in);
    verdict.Clear();
    rules->Evaluate(in, rules::Phase::kPreModel, &verdict);
    rows->rules_risk.push_back(verdict.action() == rules::Action::kBlock ? 1.0 : RulesRisk(verdict));
    evs.clear();
    featurizer->Events(t, &evs);
    features::IngestReport r = store->Ingest(evs);
    if (!r.errors.empty()) return InternalError("replay: an event was refused: " + r.errors[0].second.ToString());
    rows->x.insert(rows->x.end(), row, row + kNumModelFeatures);
    rows->label.push_back(t.label);
    rows->txns.push_back(std::move(t));
    if ((i + 1) % 100000 == 0) std::fprintf(stderr, "make_fraud_example: replayed %lld events\n", static_cast<long long>(i + 1));
  }
  return OkStatus();
}

Status WriteRepository(const std::filesystem::path& out, const testing::XGBoostBooster& booster) {
  const auto dir = out / "models" / "fraud_xgb";
  std::filesystem::create_directories(dir / "1");
  RETURN_IF_ERROR(booster.Save((dir / "1" / "model.json").string()));
  std::ofstream(dir / "config.json") << R"({
  "backend": "xgboost",
  "max_batch_size": 64,
  "inputs": [{"name": "features", "datatype": "FP32", "dims": [)" << kNumModelFeatures << R"(]}],
  "outputs": [{"name": "fraud_probability", "datatype": "FP32", "dims": [1]}],
  "dynamic_batching": {"max_queue_delay_us": 100, "max_queue_size": 4096, "default_timeout_us": 20000},
  "instance_count": 1
}
)";
  return OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: make_fraud_example SRC_EXAMPLES_FRAUD OUT_DIR [EVENTS]\n");
    return 2;
  }
  const std::string src = argv[1];
  const std::filesystem::path out = argv[2];
  const int64_t events = argc > 3 ? std::atoll(argv[3]) : 400000;
  Rows rows;
  if (Status s = Replay(src, events, &rows); !s.ok()) return Die(s);
  const size_t n = rows.label.size(), split = n * 7 / 10;
  testing::Dataset train;
  train.rows = split;
  train.cols = kNumModelFeatures;
  train.x.assign(rows.x.begin(), rows.x.begin() + split * kNumModelFeatures);
  for (size_t i = 0; i < split; ++i) train.label.push_back(static_cast<float>(rows.label[i]));
  std::fprintf(stderr, "make_fraud_example: training XGBoost on %zu rows (%zu held out)\n", split, n - split);
  auto booster = testing::XGBoostBooster::Train(
      train, {{"objective", "binary:logistic"}, {"max_depth", "6"}, {"eta", "0.1"}, {"tree_method", "hist"},
              {"eval_metric", "aucpr"}}, 150);
  if (!booster.ok()) return Die(booster.status());
  auto scores = booster->Predict(rows.x.data() + split * kNumModelFeatures, n - split, kNumModelFeatures,
                                 testing::XGBoostBooster::Kind::kValue);
  if (!scores.ok()) return Die(scores.status());
  std::vector<double> rules_only(rows.rules_risk.begin() + split, rows.rules_risk.end());
  std::vector<double> model_only(scores->begin(), scores->end()), both;
  std::vector<int> labels(rows.label.begin() + split, rows.label.end());
  for (size_t i = 0; i < labels.size(); ++i) both.push_back(CombinedRisk(std::min(rules_only[i], 0.95), model_only[i]));
  if (Status s = WriteRepository(out, *booster); !s.ok()) return Die(s);
  std::filesystem::copy_file(src + "/features.json", out / "features.json", std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(src + "/fraud.rules", out / "fraud.rules", std::filesystem::copy_options::overwrite_existing);
  char report[512];
  std::snprintf(report, sizeof(report),
                "{\"events\": %zu, \"train_rows\": %zu, \"test_rows\": %zu, \"test_fraud_rate\": %.4f, "
                "\"pr_auc_rules\": %.4f, \"pr_auc_model\": %.4f, \"pr_auc_both\": %.4f}\n",
                n, split, n - split,
                static_cast<double>(std::count(labels.begin(), labels.end(), 1)) / labels.size(),
                PrAuc(rules_only, labels), PrAuc(model_only, labels), PrAuc(both, labels));
  std::ofstream(out / "report.json") << report;
  std::fprintf(stderr, "make_fraud_example: %s", report);
  return 0;
}
