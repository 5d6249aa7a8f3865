// FraudEngine: one transaction in, one explained decision out, durably
// recorded before it is returned.
//
//   validate (caller) → refuse duplicates → read features (before the event)
//   → ingest the event (write-ahead logged) → pre-model rules (a block
//   decides here, no model runs) → the model, inline or through its dynamic
//   batcher within a deadline → post-model rules → risk (noisy-OR of rules
//   and model) → decision by rules' action, else thresholds → reasons (fired
//   rules, and for review/block the top feature contributions) → audit log
//   (group commit) → `done`.
//
// A model runs inline, on the thread that called Decide, when it has no
// batcher: for µs-scale models (the example's 150 trees take ~1 µs a row,
// its MLP ~0.3 µs) two thread hand-offs to and from a batcher cost more
// than the model. An inline model runs to completion (the deadline applies
// to batched models only).
//
// A companion model (the small MLP beside XGBoost) can run beside the
// primary one (batched ones in parallel, each through its own batcher); the
// model score is then (1 - weight) * primary + weight * companion, or
// whichever answered.
//
// If the model fails or misses its deadline the decision is at least review,
// with the reason "model_unavailable: CODE"; when the model gate (the serving
// layer's circuit breaker) refuses the call, no model runs and the reason is
// "model_unavailable: circuit_open".
//
// Thread-safety: Decide may be called from any number of threads; `done`
// runs on the audit log's writer thread (or the caller's, on early errors).
#ifndef HOTPATH_PIPELINE_FRAUD_ENGINE_H_
#define HOTPATH_PIPELINE_FRAUD_ENGINE_H_

#include <array>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/clock.h"
#include "core/thread_annotations.h"
#include "features/durable_store.h"
#include "pipeline/audit/audit_log.h"
#include "observe/alert_sink.h"
#include "observe/metrics.h"
#include "pipeline/fraud/featurizer.h"
#include "pipeline/fraud/scoring.h"
#include "rules/reloadable_rule_set.h"
#include "runtime/model.h"
#include "sched/batcher.h"

namespace hotpath::fraud {

struct DecisionRecord {
  std::string txn_id;
  Decision decision = Decision::kReview;
  double risk = 0;
  double rules_risk = 0;
  double model_score = -1;  // the blended model score; -1: no model answered
  std::string model_version;
  double primary_score = -1;    // the primary model's score; -1: it did not answer
  double companion_score = -1;  // the companion's score; -1: none or it did not answer
  std::string companion_version;
  std::vector<std::string> reasons;
  int64_t latency_us = 0;
};

// {"id":..., "decision":..., "risk":..., "model_score":..., "reasons":[...], "latency_us":...}
std::string ToJson(const DecisionRecord& r);

class FraudEngine {
 public:
  // Where a gated model call reports its outcome.
  using ModelOutcome = std::function<void(const Status&)>;
  // Asked before each model call: OK with the outcome callback to call the
  // model, or the refusal to decide without it.
  using ModelGate = std::function<Result<ModelOutcome>()>;

  struct Options {
    std::shared_ptr<const features::Definitions> definitions;  // required
    features::DurableFeatureStore* store = nullptr;  // borrowed, required
    rules::ReloadableRuleSet* rules = nullptr;       // borrowed, required (FraudRulesSchema)
    std::shared_ptr<const Model> model;              // required; contributions for reasons
    std::string model_name = "model";                // the `model` metrics label
    std::string model_version = "1";
    DynamicBatcher* batcher = nullptr;               // borrowed; runs `model`; null: inline
    audit::AuditLog* audit = nullptr;                // borrowed, required
    Thresholds thresholds;
    Nanos model_timeout = std::chrono::milliseconds(5);
    const Clock* clock = &RealClock();
    // Most recent ids remembered (preloaded from the audit trail at start): a
    // repeated id among them is refused before it touches features. An older
    // repeat is still refused by the audit log, after its event was applied.
    size_t dedupe_capacity = 1'000'000;
    int top_contributions = 3;
    // High-risk decisions (at least `alert_at`) are published here once they
    // are durable (the audit detail JSON). Borrowed; null: no alerts.
    AlertSink* alerts = nullptr;
    Decision alert_at = Decision::kBlock;
    // Empty: every call goes to the model.
    ModelGate model_gate;
    // A second model blended into the model score. It gets the featurizer's
    // row through ImputeMissing (scoring.h), exactly as it was trained.
    // Set `model` (inline) or `batcher` (borrowed, batched); neither: no
    // companion.
    struct Companion {
      std::shared_ptr<const Model> model;
      DynamicBatcher* batcher = nullptr;
      std::string name = "companion";  // the `model` metrics label
      std::string version = "1";
      double weight = 0.5;  // in [0, 1]
      ModelGate gate;       // as model_gate, for the companion's breaker
    };
    Companion companion;
    // Where the engine's metrics go (docs/observe.md: hotpath_fraud_*).
    // Borrowed; null: none.
    MetricsRegistry* metrics = nullptr;
  };
  using Done = std::function<void(const Status&, const DecisionRecord&)>;

  static Result<std::unique_ptr<FraudEngine>> Create(const Options& options);

  // Decides on `t` (already validated by ParseTransaction). `done` gets OK and
  // the record once it is durable; ALREADY_EXISTS for a duplicate id;
  // INVALID_ARGUMENT when the feature store refuses the event (e.g. too late);
  // UNAVAILABLE when the audit log is saturated or its server unreachable
  // (the decision was not recorded; the id is forgotten, so a retry is
  // decided: on the features read the first time, without ingesting the
  // event again). A retry must carry the same transaction: a different one
  // under that id is ALREADY_EXISTS.
  void Decide(Transaction t, Done done);

 private:
  struct Call;
  // The engine's series; all null without a registry.
  struct Instruments {
    Histogram* decision_duration = nullptr;
    Counter* decisions[3] = {};  // by Decision
    CounterFamily* failures = nullptr;  // {code}
    Histogram* model_duration = nullptr;
    Histogram* companion_duration = nullptr;
  };
  static Result<Instruments> MakeInstruments(const Options& options);
  explicit FraudEngine(const Options& options, std::unique_ptr<FraudFeaturizer> featurizer,
                       std::shared_ptr<const rules::Schema> schema, Instruments instruments);
  // Counts an answered call: its decision, or the failure's code.
  void Count(const Status& s, const DecisionRecord& rec);
  // A transaction whose event is in the features but whose decision the
  // audit trail did not record: its retry reuses this row and does not
  // ingest the event again.
  struct Unrecorded {
    std::array<float, kNumModelFeatures> row;
    size_t content_hash = 0;  // of the transaction's JSON: a retry must send the same
  };
  // Remembers `id` for the dedupe window: false when it is already there.
  // Otherwise, when a call with this id went unrecorded, moves its entry to
  // `*retry`.
  bool Remember(const std::string& id, std::optional<Unrecorded>* retry) EXCLUDES(mu_);
  // Drops `id` from the dedupe window after its decision went unrecorded,
  // keeping `unrecorded` for the retry (at most dedupe_capacity / 10 kept).
  void Forget(const std::string& id, Unrecorded unrecorded) EXCLUDES(mu_);
  // Forget for `call`.
  void ForgetCall(const Call& call);
  // Runs one model on `x` into `*out`, through `batcher` or inline on
  // `model` when `batcher` is null, if `gate` admits it; a failure is named
  // in `*failure`. Joins the call when done.
  void Score(const std::shared_ptr<Call>& call, const Model* model, DynamicBatcher* batcher,
             const ModelGate& gate, Histogram* duration, const float* x, float* out, std::string* failure);
  bool HasCompanion() const { return options_.companion.model != nullptr || options_.companion.batcher != nullptr; }
  // Counts one model answer; the last one continues with AfterModels.
  void Join(const std::shared_ptr<Call>& call);
  void AfterModels(const std::shared_ptr<Call>& call);
  void Finish(const std::shared_ptr<Call>& call);
  void AddContributions(const Call& call, std::vector<std::string>* reasons) const;

  const Options options_;
  const std::unique_ptr<FraudFeaturizer> featurizer_;
  const std::shared_ptr<const rules::Schema> schema_;
  const Instruments instruments_;
  Mutex mu_;
  std::unordered_set<std::string> seen_ GUARDED_BY(mu_);
  std::deque<std::string> seen_order_ GUARDED_BY(mu_);
  std::unordered_map<std::string, Unrecorded> unrecorded_ GUARDED_BY(mu_);
  std::deque<std::string> unrecorded_order_ GUARDED_BY(mu_);
};

}  // namespace hotpath::fraud

#endif  // HOTPATH_PIPELINE_FRAUD_ENGINE_H_
