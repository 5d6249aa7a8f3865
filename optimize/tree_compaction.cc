#include "optimize/tree_compaction.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>

#include "runtime/tree/tree_model.h"

namespace hotpath::optimize {

// float as the number type: numbers parse with strtof and print with the
// shortest text that reads back to the same float, as XGBoost's own do.
using Json = nlohmann::basic_json<std::map, std::vector, std::string, bool, std::int64_t,
                                  std::uint64_t, float>;

struct XGBoostRounds::Doc {
  Json root;                // the model with an empty `trees` array
  std::vector<Json> trees;  // in the artifact's order
  size_t trees_per_round = 1;
  float base_score = 0.5f;
};

namespace {

Status Bad(const std::string& name, const std::string& what) {
  return InvalidArgumentError(name + ": " + what);
}

// XGBoost writes scalar parameters as strings ("5E-1", "1").
Result<double> Number(const Json& v, const std::string& name, const std::string& field) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size()) return d;
  }
  return Bad(name, field + " is not a number");
}

Result<const Json*> At(const Json& obj, std::initializer_list<const char*> path,
                       const std::string& name) {
  const Json* v = &obj;
  std::string where;
  for (const char* key : path) {
    where += where.empty() ? key : std::string(".") + key;
    if (!v->is_object() || !v->contains(key)) return Bad(name, "missing field " + where);
    v = &(*v)[key];
  }
  return v;
}

Result<Json> ParseDocument(const std::string& bytes, const std::string& name) {
  Json root = Json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) root = Json::from_ubjson(bytes, true, /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    return Bad(name,
               "not valid XGBoost JSON or UBJSON (non-finite literals such as NaN, "
               "from categorical splits, are not supported by compaction)");
  }
  return root;
}

Status CheckModel(const Json& root, const std::string& name) {
  ASSIGN_OR_RETURN(const Json* objective, At(root, {"learner", "objective", "name"}, name));
  if (*objective != "binary:logistic" && *objective != "reg:logistic") {
    return Bad(name,
               "compaction needs a probability output (binary:logistic or reg:logistic), "
               "the objective is " +
                   objective->dump());
  }
  ASSIGN_OR_RETURN(const Json* booster, At(root, {"learner", "gradient_booster", "name"}, name));
  if (*booster != "gbtree")
    return Bad(name, "compaction needs a gbtree booster, got " + booster->dump());
  ASSIGN_OR_RETURN(const Json* classes,
                   At(root, {"learner", "learner_model_param", "num_class"}, name));
  ASSIGN_OR_RETURN(const double num_class, Number(*classes, name, "num_class"));
  if (num_class > 1)
    return Bad(name, "compaction needs one output group, the model has " + classes->dump());
  return OkStatus();
}

float Logit(float p) { return -std::log(1.0f / p - 1.0f); }

std::string FloatText(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

XGBoostRounds::XGBoostRounds(std::unique_ptr<Doc> doc) : doc_(std::move(doc)) {}
XGBoostRounds::XGBoostRounds(XGBoostRounds&&) noexcept = default;
XGBoostRounds& XGBoostRounds::operator=(XGBoostRounds&&) noexcept = default;
XGBoostRounds::~XGBoostRounds() = default;

Result<XGBoostRounds> XGBoostRounds::Parse(const std::string& bytes, const std::string& name) {
  auto doc = std::make_unique<Doc>();
  ASSIGN_OR_RETURN(doc->root, ParseDocument(bytes, name));
  RETURN_IF_ERROR(CheckModel(doc->root, name));
  ASSIGN_OR_RETURN(const Json* trees,
                   At(doc->root, {"learner", "gradient_booster", "model", "trees"}, name));
  Json& model = doc->root["learner"]["gradient_booster"]["model"];
  if (model.contains("gbtree_model_param") && !model["gbtree_model_param"].is_object()) {
    return Bad(name, "gbtree_model_param is not an object");
  }
  if (!trees->is_array() || trees->empty())
    return Bad(name, "model.trees is not a non-empty array");
  if (const Json* p = model.contains("gbtree_model_param") ? &model["gbtree_model_param"] : nullptr;
      p != nullptr && p->contains("num_parallel_tree")) {
    ASSIGN_OR_RETURN(const double n, Number((*p)["num_parallel_tree"], name, "num_parallel_tree"));
    if (!(n >= 1) || std::fmod(trees->size(), n) != 0) {
      return Bad(name, "num_parallel_tree " + (*p)["num_parallel_tree"].dump() +
                           " does not divide the " + std::to_string(trees->size()) + " trees");
    }
    doc->trees_per_round = static_cast<size_t>(n);
  }
  ASSIGN_OR_RETURN(const Json* bs,
                   At(doc->root, {"learner", "learner_model_param", "base_score"}, name));
  ASSIGN_OR_RETURN(const double base_score, Number(*bs, name, "base_score"));
  doc->base_score = static_cast<float>(base_score);
  if (!(doc->base_score > 0.0f && doc->base_score < 1.0f))
    return Bad(name, "base_score must be in (0, 1)");
  doc->trees = std::move(model["trees"].get_ref<Json::array_t&>());
  model["trees"] = Json::array();
  return XGBoostRounds(std::move(doc));
}

size_t XGBoostRounds::num_rounds() const { return doc_->trees.size() / doc_->trees_per_round; }
size_t XGBoostRounds::trees_per_round() const { return doc_->trees_per_round; }
float XGBoostRounds::base_margin() const { return Logit(doc_->base_score); }

Result<std::string> XGBoostRounds::Subset(const std::vector<size_t>& rounds,
                                          double margin_shift) const {
  for (size_t i = 0; i < rounds.size(); ++i) {
    if (rounds[i] >= num_rounds() || (i > 0 && rounds[i] <= rounds[i - 1])) {
      return InvalidArgumentError("rounds must be strictly ascending and below " +
                                  std::to_string(num_rounds()));
    }
  }
  Json out = doc_->root;
  Json& learner = out["learner"];
  Json& model = learner["gradient_booster"]["model"];
  const size_t p = doc_->trees_per_round;
  Json::array_t& trees = model["trees"].get_ref<Json::array_t&>();
  for (size_t r : rounds) {
    for (size_t t = r * p; t < (r + 1) * p; ++t) {
      trees.push_back(doc_->trees[t]);
      trees.back()["id"] = static_cast<int64_t>(trees.size() - 1);
    }
  }
  model["tree_info"] = Json(std::vector<int64_t>(trees.size(), 0));
  model["gbtree_model_param"]["num_trees"] = std::to_string(trees.size());
  if (model.contains("iteration_indptr")) {
    Json::array_t indptr;
    for (size_t i = 0; i <= rounds.size(); ++i) indptr.push_back(static_cast<int64_t>(i * p));
    model["iteration_indptr"] = std::move(indptr);
  }
  if (learner.contains("attributes") && learner["attributes"].is_object()) {
    learner["attributes"].erase("best_iteration");
    learner["attributes"].erase("best_ntree_limit");
  }
  if (margin_shift != 0) {
    const float base =
        1.0f / (1.0f + std::exp(-(base_margin() + static_cast<float>(margin_shift))));
    if (!(base > 0.0f && base < 1.0f)) {
      return InvalidArgumentError("a margin shift of " + std::to_string(margin_shift) +
                                  " takes base_score out of (0, 1)");
    }
    learner["learner_model_param"]["base_score"] = FloatText(base);
  }
  return out.dump();
}

namespace {

// Margins and scores of one model on the eval rows, by the tree engine.
struct Scored {
  std::vector<float> margins, scores;
};

Result<Scored> ScoreJson(const std::string& json, const EvalSet& eval) {
  ASSIGN_OR_RETURN(auto m, TreeModel::FromBytes(json, "compacted model", {}));
  Scored s;
  s.margins.resize(eval.rows);
  s.scores.resize(eval.rows);
  RETURN_IF_ERROR(m->Predict(eval.x.data(), eval.rows, OutputKind::kMargin, s.margins.data()));
  RETURN_IF_ERROR(m->Predict(eval.x.data(), eval.rows, OutputKind::kValue, s.scores.data()));
  return s;
}

// What each round adds to the margin of each row: [rounds][rows].
Result<std::vector<std::vector<float>>> RoundContributions(const XGBoostRounds& model,
                                                           const EvalSet& eval) {
  std::vector<std::vector<float>> c(model.num_rounds());
  for (size_t r = 0; r < c.size(); ++r) {
    ASSIGN_OR_RETURN(const std::string json, model.Subset({r}, 0));
    ASSIGN_OR_RETURN(Scored s, ScoreJson(json, eval));
    c[r] = std::move(s.margins);
    for (float& v : c[r]) v -= model.base_margin();
  }
  return c;
}

// Rounds by how much their margins vary over the rows, most first.
std::vector<size_t> ImpactOrder(const std::vector<std::vector<float>>& contributions) {
  std::vector<double> spread(contributions.size());
  for (size_t r = 0; r < contributions.size(); ++r) {
    const auto& c = contributions[r];
    const double mean = std::accumulate(c.begin(), c.end(), 0.0) / c.size();
    for (float v : c) spread[r] += (v - mean) * (v - mean);
  }
  std::vector<size_t> order(contributions.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return spread[a] > spread[b]; });
  return order;
}

struct Technique {
  std::string name;
  std::vector<size_t> order;  // rounds in the order they are added
  bool bias = false;
};

// Half of the eval rows and the full model's scores on them.
struct Half {
  EvalSet eval;
  Scored full;
  Accuracy full_accuracy;
};

// Rows r with r % 2 == parity: even rows choose the size, odd rows confirm it.
Result<Half> MakeHalf(const EvalSet& e, size_t parity, const std::string& full_json) {
  Half h;
  const size_t f = e.x.size() / e.rows;
  for (size_t r = parity; r < e.rows; r += 2) {
    h.eval.x.insert(h.eval.x.end(), e.x.begin() + r * f, e.x.begin() + (r + 1) * f);
    h.eval.labels.push_back(e.labels[r]);
  }
  h.eval.rows = h.eval.labels.size();
  ASSIGN_OR_RETURN(h.full, ScoreJson(full_json, h.eval));
  h.full_accuracy = MeasureAccuracy(h.full.scores, h.eval.labels, h.full.scores);
  return h;
}

// The search state shared by the techniques.
struct Search {
  const XGBoostRounds& model;
  const CompactionOptions& options;
  Half choose, confirm;
  std::vector<std::vector<float>> contributions;  // on the `choose` rows
};

// The gate on double-precision margins of the `choose` rows (cheap terms first).
bool FastPasses(const Search& s, const std::vector<double>& margin, double shift) {
  std::vector<float> scores(margin.size());
  for (size_t i = 0; i < margin.size(); ++i) {
    scores[i] = static_cast<float>(1.0 / (1.0 + std::exp(-(margin[i] + shift))));
  }
  Accuracy a;
  a.max_abs_diff = MaxAbsDiff(scores, s.choose.full.scores);
  a.log_loss = LogLoss(scores, s.choose.eval.labels);
  a.auc = s.choose.full_accuracy.auc;  // checked below, only when the cheap terms pass
  if (!s.options.gate.Passes(s.choose.full_accuracy, a)) return false;
  a.auc = Auc(scores, s.choose.eval.labels);
  return s.options.gate.Passes(s.choose.full_accuracy, a);
}

// The model of the first k rounds of `t`, judged by the engine on the confirmation rows.
Result<CompactedModel> Build(const Search& s, const Technique& t, size_t k, double shift) {
  std::vector<size_t> rounds(t.order.begin(), t.order.begin() + k);
  std::sort(rounds.begin(), rounds.end());
  CompactedModel c;
  c.name =
      t.name + " " + std::to_string(k) + "/" + std::to_string(s.model.num_rounds()) + " rounds";
  ASSIGN_OR_RETURN(c.json, s.model.Subset(rounds, t.bias ? shift : 0.0));
  ASSIGN_OR_RETURN(Scored scored, ScoreJson(c.json, s.confirm.eval));
  c.rounds = k;
  c.accuracy = MeasureAccuracy(scored.scores, s.confirm.eval.labels, s.confirm.full.scores);
  c.passed = s.options.gate.Passes(s.confirm.full_accuracy, c.accuracy);
  return c;
}

// The bias shift: the mean of (full model's margin - `margin`) over the `choose` rows.
double Shift(const Search& s, const std::vector<double>& margin) {
  double shift = 0;
  for (size_t i = 0; i < margin.size(); ++i) shift += s.choose.full.margins[i] - margin[i];
  return shift / margin.size();
}

// The fewest rounds of `t` that pass on both halves, else half the rounds.
Result<CompactedModel> Compact(const Search& s, const Technique& t) {
  const size_t n = s.model.num_rounds();
  const size_t half = std::max<size_t>(1, n / 2);
  std::vector<double> margin(s.choose.eval.rows, s.model.base_margin());
  std::vector<double> half_margin;
  for (size_t k = 1; k < n; ++k) {
    const auto& c = s.contributions[t.order[k - 1]];
    for (size_t i = 0; i < margin.size(); ++i) margin[i] += c[i];
    if (k == half) half_margin = margin;
    const double shift = t.bias ? Shift(s, margin) : 0.0;
    if (!FastPasses(s, margin, shift)) continue;
    ASSIGN_OR_RETURN(CompactedModel m, Build(s, t, k, shift));
    if (m.passed) return m;
  }
  // Nothing smaller passes: the cost of halving, for the refusal's numbers.
  return Build(s, t, half, Shift(s, half_margin));
}

}  // namespace

Result<std::vector<CompactedModel>> CompactTrees(const XGBoostRounds& model, const EvalSet& eval,
                                                 const CompactionOptions& options) {
  const size_t n = model.num_rounds();
  if (n < 2) return InvalidArgumentError("compaction needs at least two boosting rounds");
  if (eval.rows < 2) return InvalidArgumentError("compaction needs at least two eval rows");
  std::vector<size_t> all(n);
  std::iota(all.begin(), all.end(), 0);
  ASSIGN_OR_RETURN(const std::string full_json, model.Subset(all, 0));
  ASSIGN_OR_RETURN(auto engine, TreeModel::FromBytes(full_json, "model", {}));
  if (eval.x.size() != eval.rows * engine->num_features()) {
    return InvalidArgumentError("eval rows have " + std::to_string(eval.x.size() / eval.rows) +
                                " features, the model " + std::to_string(engine->num_features()));
  }
  auto say = [&](const std::string& line) {
    if (options.progress) options.progress(line);
  };
  say("compaction: scoring each of " + std::to_string(n) + " rounds on " +
      std::to_string((eval.rows + 1) / 2) + " rows (the other half confirms)");
  Search search{model, options, {}, {}, {}};
  ASSIGN_OR_RETURN(search.choose, MakeHalf(eval, 0, full_json));
  ASSIGN_OR_RETURN(search.confirm, MakeHalf(eval, 1, full_json));
  ASSIGN_OR_RETURN(search.contributions, RoundContributions(model, search.choose.eval));
  const Technique techniques[] = {{"prefix", all, false},
                                  {"prefix+bias", all, true},
                                  {"impact+bias", ImpactOrder(search.contributions), true}};
  std::vector<CompactedModel> out;
  for (const Technique& t : techniques) {
    ASSIGN_OR_RETURN(CompactedModel m, Compact(search, t));
    say("compaction: " + m.name + (m.passed ? " pass the gate" : ": no smaller size passes"));
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace hotpath::optimize
