#include "pipeline/fraud/engine.h"

#include <algorithm>
#include <atomic>
#include <cmath>

#include "core/json_writer.h"

namespace hotpath::fraud {

struct FraudEngine::Call {
  explicit Call(std::shared_ptr<const rules::Schema> schema) : inputs(std::move(schema)) {}
  Transaction txn;
  Done done;
  TimePoint start;
  float row[kNumModelFeatures];
  float companion_row[kNumModelFeatures];
  float score = 0, companion_score = 0;
  std::string failure, companion_failure;  // empty: the model answered
  std::atomic<int> pending{0};             // model answers still to come
  rules::Inputs inputs;
  rules::Verdict verdict;
  std::shared_ptr<const rules::RuleSet> rules;
  DecisionRecord record;
};

std::string ToJson(const DecisionRecord& r) {
  std::string out;
  out.reserve(256);
  JsonObjectWriter w(&out);
  auto score = [&w](std::string_view key, double v) {  // -1: no score
    if (v < 0) {
      w.Key(key).Null();
    } else {
      w.Key(key).Number(v);
    }
  };
  w.Key("id").String(r.txn_id);
  w.Key("decision").String(DecisionName(r.decision));
  w.Key("risk").Number(r.risk);
  w.Key("rules_risk").Number(r.rules_risk);
  score("model_score", r.model_score);
  w.Key("model_version").String(r.model_version);
  score("primary_score", r.primary_score);
  w.Key("reasons");
  for (size_t i = 0; i < r.reasons.size(); ++i) {
    out.push_back(i == 0 ? '[' : ',');
    AppendJsonString(r.reasons[i], &out);
  }
  out += r.reasons.empty() ? "[]" : "]";
  w.Key("latency_us").Number(r.latency_us);
  if (!r.companion_version.empty() || r.companion_score >= 0) {
    score("companion_score", r.companion_score);
    w.Key("companion_version").String(r.companion_version);
  }
  w.Close();
  return out;
}

Result<std::unique_ptr<FraudEngine>> FraudEngine::Create(const Options& o) {
  if (!o.definitions || !o.store || !o.rules || !o.model || !o.audit || !o.clock) {
    return InvalidArgumentError("FraudEngine: definitions, store, rules, model, audit and clock are required");
  }
  for (const Model* m : {o.model.get(), o.companion.model.get()}) {
    if (m != nullptr && m->num_features() != static_cast<int64_t>(kNumModelFeatures)) {
      return InvalidArgumentError("FraudEngine: a model takes " + std::to_string(m->num_features()) +
                                  " features, the fraud featurizer makes " + std::to_string(kNumModelFeatures));
    }
  }
  if (!(o.companion.weight >= 0 && o.companion.weight <= 1)) {
    return InvalidArgumentError("FraudEngine: companion.weight must be in [0, 1]");
  }
  ASSIGN_OR_RETURN(auto featurizer, FraudFeaturizer::Create(o.definitions));
  ASSIGN_OR_RETURN(auto schema, FraudRulesSchema());
  ASSIGN_OR_RETURN(Instruments instruments, MakeInstruments(o));
  std::unique_ptr<FraudEngine> engine(
      new FraudEngine(o, std::move(featurizer), std::move(schema), instruments));
  // The dedupe window survives restarts: it starts with the newest ids of the audit trail.
  ASSIGN_OR_RETURN(std::vector<std::string> recent, o.audit->RecentIds(o.dedupe_capacity));
  std::optional<Unrecorded> none;
  for (auto it = recent.rbegin(); it != recent.rend(); ++it) engine->Remember(*it, &none);
  return engine;
}

Result<FraudEngine::Instruments> FraudEngine::MakeInstruments(const Options& o) {
  Instruments in;
  if (o.metrics == nullptr) return in;
  MetricsRegistry& r = *o.metrics;
  const HistogramBuckets latency = HistogramBuckets::LatencySeconds();
  ASSIGN_OR_RETURN(HistogramFamily * decision,
                   r.AddHistogram({"hotpath_fraud_decision_duration_seconds",
                                   "Server-side decision latency: Decide to the decision, before the audit commit.",
                                   {}},
                                  latency));
  ASSIGN_OR_RETURN(in.decision_duration, decision->WithLabels({}));
  ASSIGN_OR_RETURN(CounterFamily * decisions,
                   r.AddCounter({"hotpath_fraud_decisions_total", "Durable decisions by outcome.", {"decision"}}));
  for (Decision d : {Decision::kAllow, Decision::kReview, Decision::kBlock}) {
    ASSIGN_OR_RETURN(in.decisions[static_cast<int>(d)], decisions->WithLabels({std::string(DecisionName(d))}));
  }
  ASSIGN_OR_RETURN(in.failures, r.AddCounter({"hotpath_fraud_failures_total",
                                              "Transactions answered without a recorded decision, by status code.",
                                              {"code"}}));
  ASSIGN_OR_RETURN(HistogramFamily * model,
                   r.AddHistogram({"hotpath_fraud_model_duration_seconds",
                                   "Model::Predict time of models run inline by the fraud engine.",
                                   {"model", "version"}},
                                  latency));
  if (o.batcher == nullptr) {
    ASSIGN_OR_RETURN(in.model_duration, model->WithLabels({o.model_name, o.model_version}));
  }
  if (o.companion.model != nullptr && o.companion.batcher == nullptr) {
    ASSIGN_OR_RETURN(in.companion_duration, model->WithLabels({o.companion.name, o.companion.version}));
  }
  return in;
}

FraudEngine::FraudEngine(const Options& o, std::unique_ptr<FraudFeaturizer> featurizer,
                         std::shared_ptr<const rules::Schema> schema, Instruments instruments)
    : options_(o), featurizer_(std::move(featurizer)), schema_(std::move(schema)), instruments_(instruments) {}

void FraudEngine::Count(const Status& s, const DecisionRecord& rec) {
  if (s.ok()) {
    if (Counter* c = instruments_.decisions[static_cast<int>(rec.decision)]) c->Increment();
    return;
  }
  if (instruments_.failures == nullptr) return;
  if (Result<Counter*> c = instruments_.failures->WithLabels({std::string(StatusCodeName(s.code()))}); c.ok()) {
    (*c)->Increment();
  }
}

bool FraudEngine::Remember(const std::string& id, std::optional<Unrecorded>* retry) {
  MutexLock l(&mu_);
  if (!seen_.insert(id).second) return false;
  seen_order_.push_back(id);
  if (seen_order_.size() > options_.dedupe_capacity) {
    seen_.erase(seen_order_.front());
    seen_order_.pop_front();
  }
  if (!unrecorded_.empty()) {
    if (auto it = unrecorded_.find(id); it != unrecorded_.end()) {
      *retry = it->second;
      unrecorded_.erase(it);  // its unrecorded_order_ entry stays; evicting it later is harmless
    }
  }
  return true;
}

void FraudEngine::Forget(const std::string& id, Unrecorded unrecorded) {
  MutexLock l(&mu_);
  seen_.erase(id);  // its seen_order_ entry stays; evicting it later is harmless
  unrecorded_[id] = unrecorded;
  unrecorded_order_.push_back(id);
  if (unrecorded_order_.size() > std::max<size_t>(1, options_.dedupe_capacity / 10)) {
    unrecorded_.erase(unrecorded_order_.front());
    unrecorded_order_.pop_front();
  }
}

void FraudEngine::ForgetCall(const Call& call) {
  Unrecorded u;
  std::copy(std::begin(call.row), std::end(call.row), u.row.begin());
  u.content_hash = std::hash<std::string>()(fraud::ToJson(call.txn));
  Forget(call.txn.id, u);
}

void FraudEngine::Decide(Transaction t, Done done) {
  auto call = std::make_shared<Call>(schema_);
  call->start = options_.clock->Now();
  call->record.txn_id = t.id;
  call->txn = std::move(t);
  call->done = [this, done = std::move(done)](const Status& s, const DecisionRecord& rec) {
    Count(s, rec);
    done(s, rec);
  };
  std::optional<Unrecorded> retry;
  if (!Remember(call->txn.id, &retry)) {
    return call->done(AlreadyExistsError("duplicate transaction id '" + call->txn.id + "'"), call->record);
  }
  if (retry) {
    // Its event is in the features already: decide on what the first
    // attempt read, so the retry neither counts it twice nor sees itself.
    if (std::hash<std::string>()(fraud::ToJson(call->txn)) != retry->content_hash) {
      Forget(call->txn.id, *retry);
      return call->done(AlreadyExistsError("transaction id '" + call->txn.id +
                                           "' was sent before with different content"),
                        call->record);
    }
    std::copy(retry->row.begin(), retry->row.end(), call->row);
  } else {
    const features::FeatureStore& store = options_.store->store();
    if (Status s = featurizer_->Row(call->txn, store, call->row); !s.ok()) return call->done(s, call->record);
    std::vector<features::Event> events;
    featurizer_->Events(call->txn, &events);
    Result<features::IngestReport> ingested = options_.store->Ingest(events);
    if (!ingested.ok()) return call->done(ingested.status(), call->record);
    if (!ingested->errors.empty()) {
      return call->done(InvalidArgumentError("transaction '" + call->txn.id + "': " +
                                             ingested->errors[0].second.message()),
                        call->record);
    }
  }
  call->rules = options_.rules->Current();
  FillRuleInputs(call->txn, call->row, &call->inputs);
  call->rules->Evaluate(call->inputs, rules::Phase::kPreModel, &call->verdict);
  if (call->verdict.action() == rules::Action::kBlock) return Finish(call);  // decided before any model
  const Options::Companion& companion = options_.companion;
  call->pending.store(HasCompanion() ? 2 : 1, std::memory_order_relaxed);
  if (HasCompanion()) {
    std::copy(std::begin(call->row), std::end(call->row), call->companion_row);
    ImputeMissing(call->companion_row);
    Score(call, companion.model.get(), companion.batcher, companion.gate, instruments_.companion_duration,
          call->companion_row, &call->companion_score, &call->companion_failure);
  }
  Score(call, options_.model.get(), options_.batcher, options_.model_gate, instruments_.model_duration, call->row,
        &call->score, &call->failure);
}

void FraudEngine::Score(const std::shared_ptr<Call>& call, const Model* model, DynamicBatcher* batcher,
                        const ModelGate& gate, Histogram* duration, const float* x, float* out,
                        std::string* failure) {
  ModelOutcome outcome;
  if (gate) {
    Result<ModelOutcome> admitted = gate();
    if (!admitted.ok()) {
      *failure = "circuit_open";
      return Join(call);
    }
    outcome = std::move(*admitted);
  }
  if (batcher == nullptr) {
    const TimePoint start = duration != nullptr ? options_.clock->Now() : TimePoint();
    const Status st = model->Predict(x, 1, OutputKind::kValue, out);
    if (duration != nullptr) duration->ObserveDuration(options_.clock->Now() - start);
    if (outcome) outcome(st);
    if (!st.ok()) *failure = StatusCodeName(st.code());
    return Join(call);
  }
  DynamicBatcher::Request r;
  r.x = x;
  r.rows = 1;
  r.out = out;
  r.deadline = Deadline::After(*options_.clock, options_.model_timeout);
  auto after = [this, call, failure, outcome = std::move(outcome)](Status st) {
    if (outcome) outcome(st);
    if (!st.ok()) *failure = StatusCodeName(st.code());
    Join(call);
  };
  if (Status s = batcher->Submit(r, after); !s.ok()) after(s);
}

void FraudEngine::Join(const std::shared_ptr<Call>& call) {
  if (call->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) AfterModels(call);
}

void FraudEngine::AfterModels(const std::shared_ptr<Call>& call) {
  DecisionRecord& rec = call->record;
  const bool companion = HasCompanion();
  const bool primary_ok = call->failure.empty(), companion_ok = companion && call->companion_failure.empty();
  if (!primary_ok) rec.reasons.push_back("model_unavailable: " + call->failure);
  if (companion && !companion_ok) rec.reasons.push_back("companion_unavailable: " + call->companion_failure);
  if (primary_ok) {
    rec.primary_score = call->score;
    rec.model_version = options_.model_version;
  }
  if (companion_ok) {
    rec.companion_score = call->companion_score;
    rec.companion_version = options_.companion.version;
  }
  if (primary_ok || companion_ok) {
    const double w = options_.companion.weight;
    rec.model_score = primary_ok && companion_ok ? (1 - w) * rec.primary_score + w * rec.companion_score
                      : primary_ok               ? rec.primary_score
                                                 : rec.companion_score;
    SetModelScore(rec.model_score, &call->inputs);
    call->rules->Evaluate(call->inputs, rules::Phase::kPostModel, &call->verdict);
  }
  Finish(call);
}

void FraudEngine::AddContributions(const Call& call, std::vector<std::string>* reasons) const {
  // Path-based contributions: O(depth) per tree, fit for the request path
  // (exact TreeSHAP costs ~100 us per row on the example model).
  const int64_t width = options_.model->OutputWidth(OutputKind::kApproxContributions);
  std::vector<float> c(static_cast<size_t>(width));
  if (!options_.model->Predict(call.row, 1, OutputKind::kApproxContributions, c.data()).ok()) return;
  std::vector<size_t> order(kNumModelFeatures);
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::partial_sort(order.begin(), order.begin() + options_.top_contributions, order.end(),
                    [&](size_t a, size_t b) { return c[a] > c[b]; });
  for (int k = 0; k < options_.top_contributions; ++k) {
    const size_t f = order[k];
    if (c[f] <= 0) break;
    char buf[96];
    std::snprintf(buf, sizeof(buf), "feature:%s=%g (+%.3f)", FraudFeaturizer::ColumnNames()[f],
                  static_cast<double>(call.row[f]), static_cast<double>(c[f]));
    reasons->push_back(buf);
  }
}

void FraudEngine::Finish(const std::shared_ptr<Call>& call) {
  DecisionRecord& rec = call->record;
  rec.rules_risk = call->verdict.action() == rules::Action::kBlock ? 1.0 : RulesRisk(call->verdict);
  rec.risk = CombinedRisk(rec.rules_risk, rec.model_score);
  rec.decision = fraud::Decide(call->verdict, rec.risk, options_.thresholds);
  if (rec.model_score < 0 && rec.decision == Decision::kAllow &&
      call->verdict.action() != rules::Action::kBlock) {
    rec.decision = Decision::kReview;  // conservative without the model
  }
  for (uint32_t i : call->verdict.fired()) rec.reasons.push_back("rule:" + call->rules->rule(i).name);
  if (rec.decision != Decision::kAllow && rec.model_score >= 0) AddContributions(*call, &rec.reasons);
  const Nanos latency = options_.clock->Now() - call->start;
  rec.latency_us = std::chrono::duration_cast<std::chrono::microseconds>(latency).count();
  if (instruments_.decision_duration != nullptr) instruments_.decision_duration->ObserveDuration(latency);
  audit::AuditRecord a;
  a.txn_id = rec.txn_id;
  a.timestamp_ms = call->txn.timestamp_ms;
  a.decision = std::string(DecisionName(rec.decision));
  a.score = rec.risk;
  a.latency_us = rec.latency_us;
  // The decision record, plus the transaction and the features it was decided on.
  std::string& d = a.detail_json;
  d = ToJson(rec);
  d.pop_back();  // the record's closing brace
  d += ",\"transaction\":";
  d += fraud::ToJson(call->txn);
  d += ",\"features\":{";
  for (size_t i = 0; i < kNumModelFeatures; ++i) {
    d += i ? ",\"" : "\"";
    d += FraudFeaturizer::ColumnNames()[i];
    d += "\":";
    AppendJsonNumber(call->row[i], &d);  // NaN (missing): null
  }
  d += "}}";
  std::string alert;
  if (options_.alerts != nullptr && rec.decision >= options_.alert_at) alert = a.detail_json;
  AlertSink* sink = options_.alerts;
  // A decision the trail did not record (saturated, server unreachable) is
  // an error to the caller, and its id leaves the dedupe window so that a
  // retry is decided rather than refused as a duplicate (on this row).
  Status s = options_.audit->Append(std::move(a), [this, call, sink, alert = std::move(alert)](const Status& st) {
    if (st.ok() && !alert.empty()) sink->Publish(alert);
    if (!st.ok() && st.code() != StatusCode::kAlreadyExists) ForgetCall(*call);
    call->done(st, call->record);
  });
  if (!s.ok()) {
    ForgetCall(*call);
    call->done(s, rec);
  }
}

}  // namespace hotpath::fraud
