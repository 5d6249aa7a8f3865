#include "pipeline/fraud/scoring.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace hotpath::fraud {

std::string_view DecisionName(Decision d) {
  switch (d) {
    case Decision::kAllow: return "allow";
    case Decision::kReview: return "review";
    case Decision::kBlock: return "block";
  }
  return "review";
}

Result<std::shared_ptr<const rules::Schema>> FraudRulesSchema() {
  rules::Schema::Options o;
  for (const char* c : FraudFeaturizer::ColumnNames()) o.variables.push_back({c, rules::Type::kNumber});
  o.variables.push_back({"country", rules::Type::kString});
  o.variables.push_back({"currency", rules::Type::kString});
  o.variables.push_back({"mcc", rules::Type::kNumber});
  o.variables.push_back({"model_score", rules::Type::kNumber, rules::Stage::kPostModel});
  return rules::Schema::Create(std::move(o));
}

void FillRuleInputs(const Transaction& t, const float* row, rules::Inputs* in) {
  for (rules::VarId i = 0; i < kNumModelFeatures; ++i) in->SetNumber(i, row[i]);
  in->SetString(kNumModelFeatures, t.country);
  in->SetString(kNumModelFeatures + 1, t.currency);
  in->SetNumber(kNumModelFeatures + 2, t.merchant_category);
}

void SetModelScore(double score, rules::Inputs* in) { in->SetNumber(kNumModelFeatures + 3, score); }

double RulesRisk(const rules::Verdict& v) { return std::clamp(v.score(), 0.0, 0.95); }

void ImputeMissing(std::span<float> row) {
  for (float& v : row) {
    if (std::isnan(v)) v = 0;
  }
}

double CombinedRisk(double rules_risk, double model_score) {
  if (model_score < 0) return rules_risk;
  return 1.0 - (1.0 - rules_risk) * (1.0 - model_score);
}

Decision Decide(const rules::Verdict& v, double risk, const Thresholds& t) {
  if (v.action() == rules::Action::kBlock || risk >= t.block) return Decision::kBlock;
  if (v.action() == rules::Action::kReview || risk >= t.review) return Decision::kReview;
  return Decision::kAllow;
}

double PrAuc(std::span<const double> scores, std::span<const int> labels) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  const double positives = static_cast<double>(std::count(labels.begin(), labels.end(), 1));
  if (positives == 0) return 0.0;
  double ap = 0, tp = 0, seen = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    double group_tp = 0;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) group_tp += labels[order[j++]];
    tp += group_tp;
    seen += static_cast<double>(j - i);
    ap += group_tp / positives * (tp / seen);  // recall step x precision at the group's end
    i = j;
  }
  return ap;
}

}  // namespace hotpath::fraud
