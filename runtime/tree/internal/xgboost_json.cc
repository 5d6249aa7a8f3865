// XGBoost JSON / UBJSON model loader (the format of XGBoost >= 1.0's
// save_model). Numbers are parsed straight to float (strtof / UBJSON float32),
// so thresholds and leaf values are bit-identical to XGBoost's own.
#include <cmath>
#include <limits>
#include <type_traits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/tree/internal/ensemble.h"

namespace hotpath::tree_internal {
namespace {

// nlohmann::json with float as its floating-point type: the lexer then calls
// strtof, the exact conversion XGBoost's own float32 model numbers need.
using Json = nlohmann::basic_json<std::map, std::vector, std::string, bool, std::int64_t,
                                  std::uint64_t, float>;

Result<const Json*> Field(const Json& obj, const char* key, const std::string& path) {
  if (!obj.is_object()) return InvalidArgumentError("xgboost model: " + path + " is not an object");
  auto it = obj.find(key);
  if (it == obj.end()) return InvalidArgumentError("xgboost model: missing field " + path + "." + key);
  return &*it;
}

// XGBoost writes most scalar parameters as strings ("5E-1", "32").
Result<float> ParamFloat(const Json& obj, const char* key, const std::string& path) {
  ASSIGN_OR_RETURN(const Json* v, Field(obj, key, path));
  if (v->is_number()) return v->get<float>();
  if (v->is_string()) {
    const std::string& s = v->get_ref<const std::string&>();
    char* end = nullptr;
    float f = std::strtof(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size()) return f;
  }
  return InvalidArgumentError("xgboost model: " + path + "." + key + " is not a number");
}

Result<int64_t> ParamInt(const Json& obj, const char* key, const std::string& path) {
  ASSIGN_OR_RETURN(const Json* v, Field(obj, key, path));
  if (v->is_number_integer()) return v->get<int64_t>();
  if (v->is_string()) {
    const std::string& s = v->get_ref<const std::string&>();
    char* end = nullptr;
    long long i = std::strtoll(s.c_str(), &end, 10);
    if (!s.empty() && end == s.c_str() + s.size()) return static_cast<int64_t>(i);
  }
  return InvalidArgumentError("xgboost model: " + path + "." + key + " is not an integer");
}

// Reads a numeric array field of length `n` (or any length when n < 0).
template <typename T>
Status NumArray(const Json& obj, const char* key, const std::string& path, int64_t n,
                std::vector<T>* out) {
  ASSIGN_OR_RETURN(const Json* v, Field(obj, key, path));
  if (!v->is_array()) return InvalidArgumentError("xgboost model: " + path + "." + key + " is not an array");
  if (n >= 0 && static_cast<int64_t>(v->size()) != n) {
    return InvalidArgumentError("xgboost model: " + path + "." + key + " has " +
                                std::to_string(v->size()) + " entries, expected " +
                                std::to_string(n));
  }
  out->clear();
  out->reserve(v->size());
  for (const Json& x : *v) {
    if (x.is_boolean()) {
      out->push_back(static_cast<T>(x.get<bool>()));
    } else if constexpr (std::is_integral_v<T>) {
      // Integers only, in T's range: a float or out-of-range index is refused.
      if (!x.is_number_integer() ||
          (x.is_number_unsigned() ? x.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<T>::max())
                                  : (x.get<int64_t>() < std::numeric_limits<T>::min() ||
                                     x.get<int64_t>() > std::numeric_limits<T>::max()))) {
        return InvalidArgumentError("xgboost model: " + path + "." + key + " holds " + x.dump() +
                                    ", not an integer in range");
      }
      out->push_back(static_cast<T>(x.get<int64_t>()));
    } else if (x.is_number()) {
      out->push_back(x.get<T>());
    } else if (x.is_null()) {  // NaN, see ReplaceNonFiniteLiterals
      out->push_back(std::numeric_limits<T>::quiet_NaN());
    } else {
      return InvalidArgumentError("xgboost model: " + path + "." + key + " holds a non-number");
    }
  }
  return OkStatus();
}

struct Objective {
  Transform transform;
  bool margin_is_log;  // base_score -> margin via log (poisson)
  bool logit;          // base_score -> margin via logit
};

Result<Objective> ParseObjective(const std::string& name) {
  if (name == "binary:logistic" || name == "reg:logistic") return Objective{Transform::kSigmoid, false, true};
  if (name == "binary:logitraw") return Objective{Transform::kIdentity, false, true};
  if (name == "reg:squarederror" || name == "reg:linear" || name == "rank:pairwise" ||
      name == "rank:ndcg" || name == "rank:map" || name == "reg:pseudohubererror" ||
      name == "reg:absoluteerror") {
    return Objective{Transform::kIdentity, false, false};
  }
  if (name == "count:poisson" || name == "reg:gamma" || name == "reg:tweedie") {
    return Objective{Transform::kExp, true, false};
  }
  if (name == "multi:softprob") return Objective{Transform::kSoftmax, false, false};
  if (name == "multi:softmax") return Objective{Transform::kArgmax, false, false};
  return InvalidArgumentError("xgboost model: unsupported objective '" + name + "'");
}

// Categorical splits: XGBoost stores, per categorical node, a segment of the
// `categories` array listing the categories that go right.
Status ParseCategories(const Json& tj, const std::string& path, Tree* tree, Ensemble* e) {
  std::vector<int64_t> nodes, segments, sizes, cats;
  if (!tj.contains("categories_nodes")) return OkStatus();
  RETURN_IF_ERROR(NumArray(tj, "categories_nodes", path, -1, &nodes));
  RETURN_IF_ERROR(NumArray(tj, "categories_segments", path, static_cast<int64_t>(nodes.size()), &segments));
  RETURN_IF_ERROR(NumArray(tj, "categories_sizes", path, static_cast<int64_t>(nodes.size()), &sizes));
  RETURN_IF_ERROR(NumArray(tj, "categories", path, -1, &cats));
  for (size_t i = 0; i < nodes.size(); ++i) {
    const int64_t nid = nodes[i];
    if (nid < 0 || nid >= static_cast<int64_t>(tree->nodes.size()) || segments[i] < 0 ||
        sizes[i] < 0 || segments[i] + sizes[i] > static_cast<int64_t>(cats.size())) {
      return InvalidArgumentError("xgboost model: " + path + " categorical node " +
                                  std::to_string(nid) + " has an out-of-range segment");
    }
    std::vector<uint32_t> bits;
    for (int64_t k = segments[i]; k < segments[i] + sizes[i]; ++k) {
      const int64_t c = cats[k];
      if (c < 0 || c >= (1 << 24)) {
        return InvalidArgumentError("xgboost model: " + path + " node " + std::to_string(nid) +
                                    " has invalid category " + std::to_string(c));
      }
      if (bits.size() <= static_cast<size_t>(c / 32)) bits.resize(c / 32 + 1, 0);
      bits[c / 32] |= 1u << (c % 32);
    }
    Node& node = tree->nodes[nid];
    node.category_set = static_cast<int32_t>(e->category_sets.size());
    node.in_set_goes_left = false;
    e->category_sets.push_back(std::move(bits));
  }
  return OkStatus();
}

Result<Tree> ParseTree(const Json& tj, size_t index, Ensemble* e) {
  const std::string path = "trees[" + std::to_string(index) + "]";
  ASSIGN_OR_RETURN(const Json* tp, Field(tj, "tree_param", path));
  ASSIGN_OR_RETURN(int64_t n, ParamInt(*tp, "num_nodes", path + ".tree_param"));
  if (n <= 0 || n > (int64_t{1} << 30)) {
    return InvalidArgumentError("xgboost model: " + path + " has invalid num_nodes " + std::to_string(n));
  }
  std::vector<int32_t> left, right;
  std::vector<int64_t> feature;
  std::vector<float> cond, hess;
  std::vector<int32_t> dleft;
  RETURN_IF_ERROR(NumArray(tj, "left_children", path, n, &left));
  RETURN_IF_ERROR(NumArray(tj, "right_children", path, n, &right));
  RETURN_IF_ERROR(NumArray(tj, "split_indices", path, n, &feature));
  RETURN_IF_ERROR(NumArray(tj, "split_conditions", path, n, &cond));
  RETURN_IF_ERROR(NumArray(tj, "default_left", path, n, &dleft));
  RETURN_IF_ERROR(NumArray(tj, "sum_hessian", path, n, &hess));
  Tree tree;
  tree.nodes.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    Node& node = tree.nodes[i];
    node.left = left[i] < 0 ? -1 : left[i];
    node.right = right[i] < 0 ? -1 : right[i];
    if (feature[i] < 0 || feature[i] > UINT32_MAX) {
      return InvalidArgumentError("xgboost model: tree " + std::to_string(index) + " node " +
                                  std::to_string(i) + ": invalid feature index " + std::to_string(feature[i]));
    }
    node.feature = static_cast<uint32_t>(feature[i]);
    node.threshold = cond[i];
    node.leaf_value = cond[i];  // XGBoost keeps a leaf's value in split_conditions
    node.cover = hess[i];
    node.default_left = dleft[i] != 0;
  }
  RETURN_IF_ERROR(ParseCategories(tj, path, &tree, e));
  return tree;
}

Status ParseBooster(const Json& gb, Ensemble* e) {
  ASSIGN_OR_RETURN(const Json* name, Field(gb, "name", "learner.gradient_booster"));
  if (!name->is_string() || name->get<std::string>() != "gbtree") {
    return InvalidArgumentError("xgboost model: unsupported booster " + name->dump() +
                                " (only gbtree is supported)");
  }
  ASSIGN_OR_RETURN(const Json* model, Field(gb, "model", "learner.gradient_booster"));
  ASSIGN_OR_RETURN(const Json* trees, Field(*model, "trees", "gradient_booster.model"));
  std::vector<int32_t> info;
  RETURN_IF_ERROR(NumArray(*model, "tree_info", "gradient_booster.model",
                           trees->is_array() ? static_cast<int64_t>(trees->size()) : -1, &info));
  if (!trees->is_array()) return InvalidArgumentError("xgboost model: trees is not an array");
  e->trees.reserve(trees->size());
  for (size_t i = 0; i < trees->size(); ++i) {
    ASSIGN_OR_RETURN(Tree t, ParseTree((*trees)[i], i, e));
    t.group = info[i];
    e->trees.push_back(std::move(t));
  }
  return OkStatus();
}

Status ParseLearner(const Json& root, Ensemble* e) {
  ASSIGN_OR_RETURN(const Json* learner, Field(root, "learner", "root"));
  ASSIGN_OR_RETURN(const Json* mp, Field(*learner, "learner_model_param", "learner"));
  ASSIGN_OR_RETURN(float base_score, ParamFloat(*mp, "base_score", "learner_model_param"));
  ASSIGN_OR_RETURN(int64_t num_class, ParamInt(*mp, "num_class", "learner_model_param"));
  ASSIGN_OR_RETURN(int64_t num_feature, ParamInt(*mp, "num_feature", "learner_model_param"));
  ASSIGN_OR_RETURN(const Json* obj, Field(*learner, "objective", "learner"));
  ASSIGN_OR_RETURN(const Json* obj_name, Field(*obj, "name", "learner.objective"));
  if (!obj_name->is_string()) return InvalidArgumentError("xgboost model: objective name is not a string");
  e->objective = obj_name->get<std::string>();
  ASSIGN_OR_RETURN(Objective o, ParseObjective(e->objective));
  if (num_feature <= 0 || num_feature > (int64_t{1} << 24)) {
    return InvalidArgumentError("xgboost model: num_feature " + std::to_string(num_feature) + " out of range");
  }
  if (num_class < 0 || num_class > 100000) {
    return InvalidArgumentError("xgboost model: num_class " + std::to_string(num_class) + " out of range");
  }
  if (o.transform == Transform::kArgmax && num_class > static_cast<int64_t>(kMaxArgmaxClasses)) {
    return InvalidArgumentError("xgboost model: multi:softmax supports at most " +
                                std::to_string(kMaxArgmaxClasses) + " classes");
  }
  e->transform = o.transform;
  e->num_features = static_cast<int32_t>(num_feature);
  e->num_groups = num_class > 1 ? static_cast<int32_t>(num_class) : 1;
  // The margin XGBoost starts from, computed exactly as its objectives do (float math).
  float margin = base_score;
  if (o.logit) {
    if (!(base_score > 0.0f && base_score < 1.0f)) {
      return InvalidArgumentError("xgboost model: base_score must be in (0,1) for " + e->objective);
    }
    margin = -std::log(1.0f / base_score - 1.0f);
  } else if (o.margin_is_log) {
    if (!(base_score > 0.0f)) return InvalidArgumentError("xgboost model: base_score must be positive for " + e->objective);
    margin = std::log(base_score);
  }
  e->base_margin.assign(e->num_groups, margin);
  ASSIGN_OR_RETURN(const Json* gb, Field(*learner, "gradient_booster", "learner"));
  return ParseBooster(*gb, e);
}

// XGBoost writes non-finite floats as the bare tokens NaN, Infinity and
// -Infinity (categorical nodes have a NaN split condition), which strict JSON
// parsers refuse. Outside strings, NaN becomes null and the infinities
// become numbers that overflow to +-inf.
std::string ReplaceNonFiniteLiterals(const std::string& in) {
  std::string out;
  out.reserve(in.size() + 64);
  bool in_string = false;
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < in.size()) {
        out += in[++i];
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
      out += c;
    } else if (in.compare(i, 3, "NaN") == 0) {
      out += "null";
      i += 2;
    } else if (in.compare(i, 8, "Infinity") == 0) {
      out += "1e999";
      i += 7;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

Result<Ensemble> ParseXGBoost(const std::string& bytes) {
  Ensemble e;
  e.format = "xgboost";
  Json root = Json::parse(ReplaceNonFiniteLiterals(bytes), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    // Not JSON: try UBJSON (XGBoost's binary model format).
    root = Json::from_ubjson(bytes, /*strict=*/true, /*allow_exceptions=*/false);
    if (root.is_discarded()) {
      return InvalidArgumentError("xgboost model: not valid JSON or UBJSON (truncated or corrupt)");
    }
  }
  RETURN_IF_ERROR(ParseLearner(root, &e));
  RETURN_IF_ERROR(Validate(e));
  return e;
}

}  // namespace hotpath::tree_internal
