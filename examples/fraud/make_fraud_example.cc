// The fraud application's training recipe, run by the set-up (nothing is
// downloaded):
//  1. generate labeled traffic (pipeline/fraud/generator.h);
//  2. replay it in time order through the same feature store and featurizer
//     that serve online, reading each row *before* its event is applied
//     (point-in-time correct: no label leakage, no training/serving skew);
//  3. train XGBoost and a small MLP (LibTorch; 20-32-16-1, inputs through
//     ImputeMissing and standardised, the standardisation folded into the
//     first layer) on the earlier 70% of the period, evaluate on the later
//     30%: PR-AUC of the rules alone, each model alone, the two models
//     blended, and rules + models;
//  4. write a model repository OUT/models/{fraud_xgb,fraud_mlp}/1 (the MLP as
//     the native dense engine's model.hpd, checked against LibTorch's own
//     outputs) and OUT/report.json.
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

#include <torch/torch.h>

#include "core/clock.h"
#include "features/definitions.h"
#include "features/feature_store.h"
#include "pipeline/fraud/featurizer.h"
#include "pipeline/fraud/generator.h"
#include "pipeline/fraud/scoring.h"
#include "rules/rule_set.h"
#include "runtime/dense/dense_model.h"
#include "runtime/dense/graph_io.h"
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

// The blend the server uses (FraudEngine::Options::companion.weight).
constexpr double kMlpWeight = 0.3;

// A dense layer of the exported graph from a torch Linear's weight [out, in]
// and bias [out]: the engine stores weights [in, out] row-major.
dense::Node DenseNode(const std::string& name, const torch::Tensor& w, const torch::Tensor& b, int in, int out,
                      dense::Activation act) {
  dense::Node n;
  n.kind = dense::OpKind::kDense;
  n.name = name;
  n.inputs = {in};
  n.output = out;
  n.act.kind = act;
  torch::Tensor wt = w.t().contiguous();
  n.weights.assign(wt.data_ptr<float>(), wt.data_ptr<float>() + wt.numel());
  torch::Tensor bc = b.contiguous();
  n.bias.assign(bc.data_ptr<float>(), bc.data_ptr<float>() + bc.numel());
  return n;
}

// Trains the MLP on rows [0, split) and returns its graph (standardisation
// folded in) and its probabilities on rows [split, n).
Result<dense::Graph> TrainMlp(const Rows& rows, size_t split, std::vector<double>* test_scores) {
  torch::manual_seed(2026);
  const int64_t n = static_cast<int64_t>(rows.label.size()), d = kNumModelFeatures;
  std::vector<float> x(rows.x);
  for (int64_t i = 0; i < n; ++i) ImputeMissing(std::span<float>(&x[i * d], d));
  const torch::Tensor all = torch::from_blob(x.data(), {n, d}, torch::kFloat32);
  const torch::Tensor train = all.slice(0, 0, split);
  const torch::Tensor mean = train.mean(0), sd = train.std(0).clamp_min(1e-6);
  std::vector<float> y(rows.label.begin(), rows.label.begin() + split);
  const torch::Tensor labels = torch::from_blob(y.data(), {static_cast<int64_t>(split), 1}, torch::kFloat32);
  torch::nn::Linear l1(d, 32), l2(32, 16), l3(16, 1);
  torch::nn::Sequential net(l1, torch::nn::ReLU(), l2, torch::nn::ReLU(), l3);
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(2e-3));
  const torch::Tensor z = (train - mean) / sd;
  constexpr int kEpochs = 6;
  constexpr int64_t kBatch = 512;
  for (int epoch = 0; epoch < kEpochs; ++epoch) {
    const torch::Tensor perm = torch::randperm(static_cast<int64_t>(split));
    double total = 0;
    int64_t batches = 0;
    for (int64_t b = 0; b < static_cast<int64_t>(split); b += kBatch, ++batches) {
      const torch::Tensor idx = perm.slice(0, b, std::min<int64_t>(b + kBatch, split));
      torch::Tensor loss = torch::binary_cross_entropy_with_logits(net->forward(z.index_select(0, idx)),
                                                                   labels.index_select(0, idx));
      opt.zero_grad();
      loss.backward();
      opt.step();
      total += loss.item<double>();
    }
    std::fprintf(stderr, "make_fraud_example: MLP epoch %d/%d, mean log loss %.5f\n", epoch + 1, kEpochs,
                 total / batches);
  }
  torch::NoGradGuard no_grad;
  const torch::Tensor p = torch::sigmoid(net->forward((all.slice(0, split, n) - mean) / sd)).view({-1}).contiguous();
  test_scores->assign(p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
  // Fold (x - mean) / sd into the first layer: W' = W / sd, b' = b - W' mean.
  const torch::Tensor w1 = l1->weight / sd.unsqueeze(0);
  const torch::Tensor b1 = l1->bias - torch::mv(w1, mean);
  dense::Graph g;
  g.widths = {d, 32, 16, 1};
  g.input_name = "features";
  g.output_name = "fraud_probability";
  g.nodes.push_back(DenseNode("fc1", w1, b1, 0, 1, dense::Activation::kRelu));
  g.nodes.push_back(DenseNode("fc2", l2->weight, l2->bias, 1, 2, dense::Activation::kRelu));
  g.nodes.push_back(DenseNode("fc3", l3->weight, l3->bias, 2, 3, dense::Activation::kSigmoid));
  g.output = 3;
  RETURN_IF_ERROR(dense::ValidateGraph(g));
  return g;
}

// The repository config of a fraud model in `dir`: the 20-column row in, one
// probability out. No dynamic_batching block: both models cost about a
// microsecond a row, less than a hand-off to a batcher thread and back, so
// the fraud route runs them inline (KServe requests run one by one).
void WriteConfig(const std::filesystem::path& dir, const std::string& backend) {
  std::ofstream(dir / "config.json") << R"({
  "backend": ")" << backend << R"(",
  "max_batch_size": 64,
  "inputs": [{"name": "features", "datatype": "FP32", "dims": [)" << kNumModelFeatures << R"(]}],
  "outputs": [{"name": "fraud_probability", "datatype": "FP32", "dims": [1]}],
  "instance_count": 1
}
)";
}

// Writes the MLP as models/fraud_mlp/1/model.hpd, loads it back with the
// dense engine and checks it against LibTorch's probabilities.
Status WriteMlp(const std::filesystem::path& out, const dense::Graph& g, const Rows& rows, size_t split,
                const std::vector<double>& torch_scores) {
  const auto dir = out / "models" / "fraud_mlp";
  std::filesystem::create_directories(dir / "1");
  RETURN_IF_ERROR(dense::WriteGraphFile(g, dir / "1" / "model.hpd"));
  WriteConfig(dir, "dense");
  ASSIGN_OR_RETURN(auto model, dense::LoadDenseModel(dir / "1", {}));
  const size_t test = torch_scores.size();
  std::vector<float> x(rows.x.begin() + split * kNumModelFeatures, rows.x.end()), p(test);
  for (size_t i = 0; i < test; ++i) ImputeMissing(std::span<float>(&x[i * kNumModelFeatures], kNumModelFeatures));
  RETURN_IF_ERROR(model->Predict(x.data(), test, OutputKind::kValue, p.data()));
  double worst = 0;
  for (size_t i = 0; i < test; ++i) worst = std::max(worst, std::fabs(p[i] - torch_scores[i]));
  std::fprintf(stderr, "make_fraud_example: MLP on the dense engine vs LibTorch, max |diff| %.2g over %zu rows\n",
               worst, test);
  if (worst > 1e-5) return InternalError("the exported MLP differs from LibTorch by " + std::to_string(worst));
  return OkStatus();
}

Status WriteRepository(const std::filesystem::path& out, const testing::XGBoostBooster& booster) {
  const auto dir = out / "models" / "fraud_xgb";
  std::filesystem::create_directories(dir / "1");
  RETURN_IF_ERROR(booster.Save((dir / "1" / "model.json").string()));
  WriteConfig(dir, "xgboost");
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
  std::fprintf(stderr, "make_fraud_example: training the MLP (LibTorch) on the same rows\n");
  std::vector<double> mlp;
  auto graph = TrainMlp(rows, split, &mlp);
  if (!graph.ok()) return Die(graph.status());
  std::vector<double> rules_only(rows.rules_risk.begin() + split, rows.rules_risk.end());
  std::vector<double> model_only(scores->begin(), scores->end()), models, both;
  std::vector<int> labels(rows.label.begin() + split, rows.label.end());
  for (size_t i = 0; i < labels.size(); ++i) {
    models.push_back((1 - kMlpWeight) * model_only[i] + kMlpWeight * mlp[i]);
    both.push_back(CombinedRisk(std::min(rules_only[i], 0.95), models[i]));
  }
  if (Status s = WriteRepository(out, *booster); !s.ok()) return Die(s);
  if (Status s = WriteMlp(out, *graph, rows, split, mlp); !s.ok()) return Die(s);
  std::filesystem::copy_file(src + "/features.json", out / "features.json", std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(src + "/fraud.rules", out / "fraud.rules", std::filesystem::copy_options::overwrite_existing);
  char report[768];
  std::snprintf(report, sizeof(report),
                "{\"events\": %zu, \"train_rows\": %zu, \"test_rows\": %zu, \"test_fraud_rate\": %.4f, "
                "\"pr_auc_rules\": %.4f, \"pr_auc_model\": %.4f, \"pr_auc_xgb\": %.4f, \"pr_auc_mlp\": %.4f, "
                "\"mlp_weight\": %.2f, \"pr_auc_both\": %.4f}\n",
                n, split, n - split,
                static_cast<double>(std::count(labels.begin(), labels.end(), 1)) / labels.size(),
                PrAuc(rules_only, labels), PrAuc(models, labels), PrAuc(model_only, labels), PrAuc(mlp, labels),
                kMlpWeight, PrAuc(both, labels));
  std::ofstream(out / "report.json") << report;
  std::fprintf(stderr, "make_fraud_example: %s", report);
  return 0;
}
