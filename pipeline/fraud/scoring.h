// The fraud application's scoring policy, shared by serving and by the
// training recipe's evaluation: the rules' variables, how rules and the model
// combine into one risk, and the decision thresholds.
#ifndef HOTPATH_PIPELINE_FRAUD_SCORING_H_
#define HOTPATH_PIPELINE_FRAUD_SCORING_H_

#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "pipeline/fraud/featurizer.h"
#include "pipeline/fraud/transaction.h"
#include "rules/rule_set.h"
#include "rules/schema.h"

namespace hotpath::fraud {

enum class Decision : uint8_t { kAllow, kReview, kBlock };
std::string_view DecisionName(Decision d);

// Rules variables: every model input column (by its name), "country",
// "currency" (strings), "mcc" (number), and post-model "model_score".
Result<std::shared_ptr<const rules::Schema>> FraudRulesSchema();

// Fills `inputs` from a transaction and its model row (NaN stays NaN: every
// comparison with a missing feature is false).
void FillRuleInputs(const Transaction& t, const float* row, rules::Inputs* inputs);
// Sets the post-model variable.
void SetModelScore(double score, rules::Inputs* inputs);

struct Thresholds {
  double review = 0.5;  // risk at or above: review
  double block = 0.9;   // risk at or above: block
};

// Rules' own risk in [0, 1): the fired rules' summed score, capped at 0.95.
double RulesRisk(const rules::Verdict& v);
// Noisy-OR of the rules' risk and the model's probability (model < 0: no model).
double CombinedRisk(double rules_risk, double model_score);

// The companion network's input (the small MLP beside XGBoost): the
// featurizer's row with missing values (NaN) as 0. Training and serving both
// call this, so they cannot disagree.
void ImputeMissing(std::span<float> row);
// The rules' action wins (block > review > allow), else the thresholds.
Decision Decide(const rules::Verdict& v, double risk, const Thresholds& t);

// Area under the precision-recall curve (average precision) of `scores`
// against 0/1 `labels`; ties are ranked as one group. 0 when no positives.
double PrAuc(std::span<const double> scores, std::span<const int> labels);

}  // namespace hotpath::fraud

#endif  // HOTPATH_PIPELINE_FRAUD_SCORING_H_
