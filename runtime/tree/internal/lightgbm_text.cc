// LightGBM text model loader (the format of Booster.save_model()).
// Splits compare `x <= threshold` in double; each threshold is converted at
// load to the engine's float `x < t` form so that every float input takes the
// branch LightGBM takes. Linear trees are refused.
#include <charconv>
#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/tree/internal/ensemble.h"

namespace hotpath::tree_internal {
namespace {

using KeyValues = std::map<std::string, std::string, std::less<>>;

// Splits `text` into blocks separated by blank lines; each block's lines
// are "key=value" pairs (lines without '=' are kept as key with empty value).
std::vector<KeyValues> Blocks(const std::string& text) {
  std::vector<KeyValues> blocks(1);
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      if (!blocks.back().empty()) blocks.emplace_back();
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string::npos) {
      blocks.back()[line] = "";
    } else {
      blocks.back()[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  if (blocks.back().empty()) blocks.pop_back();
  return blocks;
}

template <typename T>
Status ParseList(const KeyValues& kv, const char* key, const std::string& where, size_t n,
                 std::vector<T>* out) {
  auto it = kv.find(key);
  if (it == kv.end()) return InvalidArgumentError("lightgbm model: " + where + ": missing " + key);
  out->clear();
  std::string_view s = it->second;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t sp = s.find(' ', pos);
    if (sp == std::string_view::npos) sp = s.size();
    T v{};
    auto [ptr, ec] = std::from_chars(s.data() + pos, s.data() + sp, v);
    if (ec != std::errc() || ptr != s.data() + sp) {
      return InvalidArgumentError("lightgbm model: " + where + ": " + key + " has a malformed value '" +
                                  std::string(s.substr(pos, sp - pos)) + "'");
    }
    out->push_back(v);
    pos = sp + 1;
  }
  if (n != static_cast<size_t>(-1) && out->size() != n) {
    return InvalidArgumentError("lightgbm model: " + where + ": " + key + " has " +
                                std::to_string(out->size()) + " values, expected " + std::to_string(n));
  }
  return OkStatus();
}

// Optional statistics may be present but empty ("leaf_count=").
bool HasValues(const KeyValues& kv, const char* key) {
  auto it = kv.find(key);
  return it != kv.end() && !it->second.empty();
}

Result<int64_t> ParseInt(const KeyValues& kv, const char* key, const std::string& where) {
  std::vector<int64_t> v;
  RETURN_IF_ERROR(ParseList(kv, key, where, 1, &v));
  return v[0];
}

struct TreeArrays {
  std::vector<int64_t> feature, decision, left, right, cat_boundaries;
  std::vector<double> threshold, leaf_value, leaf_count, internal_count;
  std::vector<uint32_t> cat_threshold;
};

Status ReadTreeArrays(const KeyValues& kv, const std::string& where, int64_t leaves, TreeArrays* a) {
  const size_t inner = static_cast<size_t>(leaves - 1);
  RETURN_IF_ERROR(ParseList(kv, "leaf_value", where, leaves, &a->leaf_value));
  if (HasValues(kv, "leaf_count")) RETURN_IF_ERROR(ParseList(kv, "leaf_count", where, leaves, &a->leaf_count));
  if (inner == 0) return OkStatus();
  RETURN_IF_ERROR(ParseList(kv, "split_feature", where, inner, &a->feature));
  RETURN_IF_ERROR(ParseList(kv, "threshold", where, inner, &a->threshold));
  RETURN_IF_ERROR(ParseList(kv, "decision_type", where, inner, &a->decision));
  RETURN_IF_ERROR(ParseList(kv, "left_child", where, inner, &a->left));
  RETURN_IF_ERROR(ParseList(kv, "right_child", where, inner, &a->right));
  if (HasValues(kv, "internal_count")) {
    RETURN_IF_ERROR(ParseList(kv, "internal_count", where, inner, &a->internal_count));
  }
  ASSIGN_OR_RETURN(int64_t num_cat, ParseInt(kv, "num_cat", where));
  if (num_cat > 0) {
    RETURN_IF_ERROR(ParseList(kv, "cat_boundaries", where, num_cat + 1, &a->cat_boundaries));
    RETURN_IF_ERROR(ParseList(kv, "cat_threshold", where, static_cast<size_t>(-1), &a->cat_threshold));
  }
  return OkStatus();
}

// LightGBM child encoding: >= 0 is an inner node, < 0 is leaf ~child. Inner
// nodes keep their index; leaf k becomes node (inner + k).
int32_t ChildIndex(int64_t c, int64_t inner) {
  return static_cast<int32_t>(c >= 0 ? c : inner + ~c);
}

Status BuildInner(const TreeArrays& a, int64_t i, int64_t inner, const std::string& where,
                  Ensemble* e, Node* node) {
  const std::string at = where + " node " + std::to_string(i);
  const int64_t dt = a.decision[i];
  const int64_t missing = (dt >> 2) & 3;  // 0 None, 1 Zero, 2 NaN
  const int64_t leaves = inner + 1;
  for (int64_t c : {a.left[i], a.right[i]}) {
    if (c >= inner || ~c >= leaves) return InvalidArgumentError("lightgbm model: " + at + ": child index out of range");
  }
  if (a.feature[i] < 0 || a.feature[i] > INT32_MAX) {
    return InvalidArgumentError("lightgbm model: " + at + ": feature index " +
                                std::to_string(a.feature[i]) + " out of range");
  }
  node->left = ChildIndex(a.left[i], inner);
  node->right = ChildIndex(a.right[i], inner);
  node->feature = static_cast<uint32_t>(a.feature[i]);
  node->cover = a.internal_count.empty() ? 1.0f : static_cast<float>(a.internal_count[i]);
  if (dt & 1) {  // categorical: category in the bitset goes left; NaN and negatives go right
    const double t = a.threshold[i];
    if (!(t >= 0 && t < static_cast<double>(a.cat_boundaries.size()))) {
      return InvalidArgumentError("lightgbm model: " + at + ": categorical threshold out of range");
    }
    const int64_t idx = static_cast<int64_t>(t);
    if (idx + 1 >= static_cast<int64_t>(a.cat_boundaries.size())) {
      return InvalidArgumentError("lightgbm model: " + at + ": categorical threshold out of range");
    }
    const int64_t b = a.cat_boundaries[idx], end = a.cat_boundaries[idx + 1];
    if (b < 0 || end < b || end > static_cast<int64_t>(a.cat_threshold.size())) {
      return InvalidArgumentError("lightgbm model: " + at + ": cat_boundaries out of range");
    }
    node->category_set = static_cast<int32_t>(e->category_sets.size());
    e->category_sets.emplace_back(a.cat_threshold.begin() + b, a.cat_threshold.begin() + end);
    node->in_set_goes_left = true;
    node->default_left = false;
    return OkStatus();
  }
  if (std::isnan(a.threshold[i])) return InvalidArgumentError("lightgbm model: " + at + ": threshold is NaN");
  node->threshold = LessThanBound(a.threshold[i]);
  const bool default_left = (dt & 2) != 0;
  if (missing == 2) {
    node->default_left = default_left;
  } else if (missing == 1) {
    node->default_left = default_left;
    node->zero_is_missing = true;
  } else {
    node->default_left = 0.0 <= a.threshold[i];  // NaN is read as 0
  }
  return OkStatus();
}

Result<Tree> ParseTree(const KeyValues& kv, size_t index, int32_t per_iteration, Ensemble* e) {
  const std::string where = "tree " + std::to_string(index);
  auto lin = kv.find("is_linear");
  if (lin != kv.end() && lin->second != "0") {
    return InvalidArgumentError("lightgbm model: " + where + ": linear trees are not supported");
  }
  ASSIGN_OR_RETURN(int64_t leaves, ParseInt(kv, "num_leaves", where));
  if (leaves < 1 || leaves > (int64_t{1} << 24)) {
    return InvalidArgumentError("lightgbm model: " + where + ": invalid num_leaves " + std::to_string(leaves));
  }
  TreeArrays a;
  RETURN_IF_ERROR(ReadTreeArrays(kv, where, leaves, &a));
  const int64_t inner = leaves - 1;
  Tree tree;
  tree.group = static_cast<int32_t>(index % per_iteration);
  tree.nodes.resize(inner + leaves);
  for (int64_t i = 0; i < inner; ++i) RETURN_IF_ERROR(BuildInner(a, i, inner, where, e, &tree.nodes[i]));
  for (int64_t k = 0; k < leaves; ++k) {
    Node& leaf = tree.nodes[inner + k];
    leaf.leaf_value = static_cast<float>(a.leaf_value[k]);
    leaf.cover = a.leaf_count.empty() ? 1.0f : static_cast<float>(a.leaf_count[k]);
  }
  return tree;
}

Status ParseObjective(const std::string& objective, Ensemble* e) {
  std::istringstream in(objective);
  std::string name, token;
  in >> name;
  while (in >> token) {
    if (token.rfind("sigmoid:", 0) == 0) e->sigmoid_scale = std::strtof(token.c_str() + 8, nullptr);
  }
  if (name == "binary" || name == "cross_entropy" || name == "multiclassova") {
    e->transform = Transform::kSigmoid;
  } else if (name == "multiclass") {
    e->transform = Transform::kSoftmax;
  } else if (name == "poisson" || name == "gamma" || name == "tweedie") {
    e->transform = Transform::kExp;
  } else if (name == "cross_entropy_lambda") {
    e->transform = Transform::kLog1pExp;
  } else if (name == "regression" || name == "regression_l1" || name == "huber" || name == "fair" ||
             name == "quantile" || name == "mape" || name == "lambdarank" || name == "rank_xendcg") {
    e->transform = Transform::kIdentity;
  } else {
    return InvalidArgumentError("lightgbm model: unsupported objective '" + objective + "'");
  }
  if (!(e->sigmoid_scale > 0.0f)) return InvalidArgumentError("lightgbm model: invalid sigmoid scale in '" + objective + "'");
  return OkStatus();
}

Status ParseHeader(const KeyValues& h, Ensemble* e, int32_t* per_iteration) {
  if (!h.count("tree")) return InvalidArgumentError("lightgbm model: missing 'tree' header line");
  ASSIGN_OR_RETURN(int64_t num_class, ParseInt(h, "num_class", "header"));
  ASSIGN_OR_RETURN(int64_t per_iter, ParseInt(h, "num_tree_per_iteration", "header"));
  ASSIGN_OR_RETURN(int64_t max_feature, ParseInt(h, "max_feature_idx", "header"));
  if (num_class < 1 || per_iter < 1 || per_iter > 100000 || max_feature < 0 ||
      max_feature >= (int64_t{1} << 24)) {
    return InvalidArgumentError("lightgbm model: header has out-of-range num_class, "
                                "num_tree_per_iteration or max_feature_idx");
  }
  e->num_groups = static_cast<int32_t>(per_iter);
  e->num_features = static_cast<int32_t>(max_feature + 1);
  e->base_margin.assign(e->num_groups, 0.0f);
  e->average_output = h.count("average_output") > 0;
  *per_iteration = static_cast<int32_t>(per_iter);
  auto obj = h.find("objective");
  if (obj == h.end()) return InvalidArgumentError("lightgbm model: missing objective in header");
  e->objective = obj->second;
  return ParseObjective(obj->second, e);
}

}  // namespace

Result<Ensemble> ParseLightGBM(const std::string& text) {
  Ensemble e;
  e.format = "lightgbm";
  e.accumulate_double = true;
  std::vector<KeyValues> blocks = Blocks(text);
  if (blocks.empty()) return InvalidArgumentError("lightgbm model: empty file");
  int32_t per_iteration = 1;
  RETURN_IF_ERROR(ParseHeader(blocks[0], &e, &per_iteration));
  bool ended = false;
  for (size_t b = 1; b < blocks.size() && !ended; ++b) {
    const KeyValues& kv = blocks[b];
    if (kv.count("end of trees")) {
      ended = true;
    } else if (kv.count("Tree")) {
      ASSIGN_OR_RETURN(Tree t, ParseTree(kv, e.trees.size(), per_iteration, &e));
      e.trees.push_back(std::move(t));
    }
  }
  if (!ended) return InvalidArgumentError("lightgbm model: missing 'end of trees' (truncated file?)");
  if (e.trees.empty()) return InvalidArgumentError("lightgbm model: no trees");
  RETURN_IF_ERROR(Validate(e));
  return e;
}

}  // namespace hotpath::tree_internal
