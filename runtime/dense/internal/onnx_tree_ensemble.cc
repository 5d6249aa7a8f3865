#include "runtime/dense/internal/onnx_tree_ensemble.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "runtime/dense/internal/onnx_tensor.h"
#include "runtime/tree/internal/ensemble.h"
#include "runtime/tree/tree_model.h"

namespace hotpath::dense::internal {
namespace {

using tree_internal::Ensemble;
using tree_internal::Tree;
using EngineNode = tree_internal::Node;

constexpr int64_t kMaxOutputs = int64_t{1} << 14;  // targets or classes
// Depth of a converted tree (TreeSHAP's set-up recurses over it).
constexpr int32_t kMaxDepth = 1024;
// Engine nodes of the whole ensemble (about 40 bytes each).
constexpr size_t kMaxEngineNodes = size_t{1} << 24;
// How much BRANCH_EQ/NEQ splits and shared subtrees may grow a tree.
constexpr size_t kMaxExpansion = 32;
constexpr float kInf = std::numeric_limits<float>::infinity();

enum class Mode : uint8_t { kLeq, kLt, kGte, kGt, kEq, kNeq, kLeaf };

Status Bad(const std::string& what) { return InvalidArgumentError(what); }

std::string At(int64_t tree, int64_t id) {
  return "tree " + std::to_string(tree) + " node " + std::to_string(id) + ": ";
}

// ---- Attributes.

Status CheckKnownAttrs(const onnx::NodeProto& node, int64_t ml_opset, bool classifier) {
  std::vector<std::string> known = {
      "nodes_falsenodeids", "nodes_featureids", "nodes_hitrates", "nodes_missing_value_tracks_true",
      "nodes_modes",        "nodes_nodeids",    "nodes_treeids",  "nodes_truenodeids",
      "nodes_values",       "post_transform",   "base_values"};
  const std::string w = classifier ? "class_" : "target_";
  for (const char* k : {"ids", "nodeids", "treeids", "weights"}) known.push_back(w + k);
  if (classifier) {
    known.insert(known.end(), {"classlabels_int64s", "classlabels_strings"});
  } else {
    known.insert(known.end(), {"aggregate_function", "n_targets"});
  }
  if (ml_opset >= 3) {
    for (const std::string& k :
         std::vector<std::string>{"nodes_values", "nodes_hitrates", "base_values", w + "weights"}) {
      known.push_back(k + "_as_tensor");
    }
  }
  for (const auto& a : node.attribute()) {
    bool ok = false;
    for (const std::string& k : known) ok = ok || a.name() == k;
    if (!ok) return Bad("unsupported attribute '" + a.name() + "'");
  }
  return OkStatus();
}

std::vector<int64_t> Ints(const onnx::NodeProto& node, const std::string& name) {
  const onnx::AttributeProto* a = FindAttr(node, name.c_str());
  if (a == nullptr) return {};
  return {a->ints().begin(), a->ints().end()};
}

std::vector<std::string> Strings(const onnx::NodeProto& node, const char* name) {
  const onnx::AttributeProto* a = FindAttr(node, name);
  if (a == nullptr) return {};
  return {a->strings().begin(), a->strings().end()};
}

// The FLOATS attribute `name` or the FLOAT/DOUBLE tensor `name`_as_tensor,
// exactly, as doubles; empty when neither is set.
Result<std::vector<double>> Reals(const onnx::NodeProto& node, const std::string& name) {
  const onnx::AttributeProto* list = FindAttr(node, name.c_str());
  const onnx::AttributeProto* tensor = FindAttr(node, (name + "_as_tensor").c_str());
  if (list != nullptr && tensor != nullptr) {
    return Bad("both " + name + " and " + name + "_as_tensor are set");
  }
  if (list != nullptr) return std::vector<double>(list->floats().begin(), list->floats().end());
  if (tensor == nullptr) return std::vector<double>();
  if (!tensor->has_t()) return Bad(name + "_as_tensor holds no tensor");
  ASSIGN_OR_RETURN(ConstTensor c, ReadTensor(tensor->t()));
  if (c.is_int) return Bad(name + "_as_tensor is not a float or double tensor");
  if (!c.d.empty()) return std::move(c.d);
  return std::vector<double>(c.f.begin(), c.f.end());
}

Status CheckLength(const std::string& name, size_t got, size_t want, const std::string& ref) {
  if (got == want) return OkStatus();
  return Bad(name + " has " + std::to_string(got) + " values, " + ref + " has " +
             std::to_string(want));
}

// Whether `v` is a finite float (converting a larger double would overflow).
bool FitsFloat(double v) { return std::fabs(v) <= std::numeric_limits<float>::max(); }

Result<Mode> ParseMode(const std::string& s, size_t i) {
  static const std::map<std::string, Mode> kModes = {
      {"BRANCH_LEQ", Mode::kLeq}, {"BRANCH_LT", Mode::kLt}, {"BRANCH_GTE", Mode::kGte},
      {"BRANCH_GT", Mode::kGt},   {"BRANCH_EQ", Mode::kEq}, {"BRANCH_NEQ", Mode::kNeq},
      {"LEAF", Mode::kLeaf}};
  auto it = kModes.find(s);
  if (it == kModes.end()) {
    return Bad("nodes_modes[" + std::to_string(i) + "] '" + s + "' is not a known mode");
  }
  return it->second;
}

// The nodes_* attributes, one entry per ONNX node.
struct OnnxNodes {
  std::vector<int64_t> tree, id, feature, true_id, false_id, missing_true;
  std::vector<Mode> mode;
  std::vector<double> value;
};

Result<OnnxNodes> ReadNodes(const onnx::NodeProto& node) {
  OnnxNodes n;
  n.tree = Ints(node, "nodes_treeids");
  const size_t size = n.tree.size();
  if (size == 0) return Bad("nodes_treeids is empty");
  n.id = Ints(node, "nodes_nodeids");
  n.feature = Ints(node, "nodes_featureids");
  n.true_id = Ints(node, "nodes_truenodeids");
  n.false_id = Ints(node, "nodes_falsenodeids");
  n.missing_true = Ints(node, "nodes_missing_value_tracks_true");
  if (n.missing_true.empty()) n.missing_true.assign(size, 0);
  ASSIGN_OR_RETURN(n.value, Reals(node, "nodes_values"));
  const std::vector<std::string> modes = Strings(node, "nodes_modes");
  const std::pair<const char*, size_t> lengths[] = {
      {"nodes_nodeids", n.id.size()},
      {"nodes_featureids", n.feature.size()},
      {"nodes_truenodeids", n.true_id.size()},
      {"nodes_falsenodeids", n.false_id.size()},
      {"nodes_missing_value_tracks_true", n.missing_true.size()},
      {"nodes_values", n.value.size()},
      {"nodes_modes", modes.size()}};
  for (const auto& [name, got] : lengths)
    RETURN_IF_ERROR(CheckLength(name, got, size, "nodes_treeids"));
  for (size_t i = 0; i < size; ++i) {
    ASSIGN_OR_RETURN(const Mode m, ParseMode(modes[i], i));
    n.mode.push_back(m);
  }
  return n;
}

// The target_* or class_* attributes: weight k adds weight[k] to output
// target[k] when a row reaches leaf (tree[k], node[k]).
struct Weights {
  std::vector<int64_t> tree, node, target;
  std::vector<double> weight;
};

Result<Weights> ReadWeights(const onnx::NodeProto& node, const std::string& prefix) {
  Weights w;
  w.tree = Ints(node, prefix + "treeids");
  w.node = Ints(node, prefix + "nodeids");
  w.target = Ints(node, prefix + "ids");
  ASSIGN_OR_RETURN(w.weight, Reals(node, prefix + "weights"));
  const std::string ref = prefix + "treeids";
  RETURN_IF_ERROR(CheckLength(prefix + "nodeids", w.node.size(), w.tree.size(), ref));
  RETURN_IF_ERROR(CheckLength(prefix + "ids", w.target.size(), w.tree.size(), ref));
  RETURN_IF_ERROR(CheckLength(prefix + "weights", w.weight.size(), w.tree.size(), ref));
  return w;
}

// ---- Splits: the engine sends x left iff x < threshold, NaN the default way.

// A condition on x as an engine split: the condition holds iff x goes to the
// `cond_left` side.
struct Split {
  float threshold;
  bool cond_left;
};

// x <= d, exactly, for every float x (d not NaN).
Split LessEqual(double d) {
  if (d == kInf) return {-kInf, false};  // always: every x >= -inf goes right
  return {tree_internal::LessThanBound(d), true};
}

// x < d: over floats, x < d iff (double)x <= the double just below d.
Split Less(double d) {
  if (d == -kInf) return {-kInf, true};  // never: no x < -inf goes left
  return LessEqual(std::nextafter(d, -static_cast<double>(kInf)));
}

Split Negate(Split s) { return {s.threshold, !s.cond_left}; }

// ---- Conversion of the trees.

// A converted tree's structure; leaf[k] is the ONNX node of leaf k (-1 for
// inner nodes), whose weights give the leaf value per output.
struct Shape {
  std::vector<EngineNode> nodes;
  std::vector<int32_t> leaf;
};

// What the splits above a node say about one feature: every non-NaN value
// that reaches it has lo <= x < hi (hi NaN: no bound), and NaN reaches it
// iff `nan`.
struct Bound {
  float lo = -kInf;
  float hi = std::numeric_limits<float>::quiet_NaN();
  bool nan = true;
};

// An edge of the converted tree: rows went to the `left` (x < threshold) or
// right side of a split on a feature (its Bound index; -1: no split).
struct Edge {
  int32_t feature = -1;
  float threshold = 0;
  bool left = false;
  bool nan = false;  // NaN takes this edge too
};

class Converter {
 public:
  Converter(const OnnxNodes& nodes, const Weights& weights, int64_t num_features, int64_t outputs)
      : n_(nodes), w_(weights), num_features_(num_features), outputs_(outputs) {}

  // Resolves ids to indexes and checks every node and weight.
  Status Index();
  // Appends the engine trees to `e`: per ONNX tree (by ascending tree id),
  // one tree per output its leaves give weight to, or per output when
  // `every_output` (AVERAGE divides by trees per output).
  Status Convert(bool every_output, Ensemble* e);

 private:
  struct Item {
    enum Kind : uint8_t { kEnter, kExit, kRestore } kind = kEnter;
    int32_t onnx = 0;  // kEnter, kExit: the ONNX node
    int32_t slot = 0;  // kEnter: the engine node to fill
    int32_t depth = 0;
    Edge edge;    // kEnter: the edge taken to get here; kRestore: its feature
    Bound saved;  // kRestore: the feature's bound before the edge
  };

  Status CheckNode(size_t i);
  Status CheckWeight(size_t k);
  Result<int32_t> Child(size_t i, int64_t id, const char* which) const;
  Result<Shape> Expand(int32_t root);
  Status Enter(const Item& it, Shape* s);
  Result<int32_t> NewNode(Shape* s);
  int Known(int32_t feature, Split split, bool nan_to_cond) const;
  Status Route(const Item& it, Split split, bool nan_to_cond, int32_t cond_child,
               int32_t other_child, Shape* s);
  Result<Item> Emit(const Item& it, Split split, bool nan_to_cond, int32_t cond_child, Shape* s);
  Status ExpandSplit(const Item& it, Shape* s);
  Status AddTree(const Shape& s, int32_t output, Ensemble* e);

  const OnnxNodes& n_;
  const Weights& w_;
  const int64_t num_features_;
  const int64_t outputs_;
  std::map<std::pair<int64_t, int64_t>, int32_t> index_;  // (tree id, node id) -> node
  std::map<int64_t, int32_t> roots_;  // tree id -> its first node (the ONNX reference's root)
  std::map<int64_t, size_t> tree_size_;
  std::vector<int32_t> true_, false_;             // child indexes of branch nodes
  std::map<int64_t, int32_t> feature_index_;      // split feature -> Bound index
  std::vector<int32_t> bound_of_;                 // per branch node: its feature's Bound
  std::vector<std::vector<int32_t>> weights_of_;  // per node: its weight entries
  std::vector<uint8_t> on_path_;                  // per node, during Expand
  std::vector<Bound> bounds_;                     // per split feature, during Expand
  std::vector<Item> stack_;
  size_t budget_ = 0;        // engine nodes the tree being expanded may take
  size_t engine_nodes_ = 0;  // engine nodes emitted so far
};

Status Converter::Index() {
  const size_t size = n_.tree.size();
  if (size > static_cast<size_t>(std::numeric_limits<int32_t>::max())) return Bad("too many nodes");
  for (size_t i = 0; i < size; ++i) {
    if (!index_.emplace(std::make_pair(n_.tree[i], n_.id[i]), static_cast<int32_t>(i)).second) {
      return Bad(At(n_.tree[i], n_.id[i]) + "the node id appears twice");
    }
    roots_.emplace(n_.tree[i], static_cast<int32_t>(i));
    ++tree_size_[n_.tree[i]];
  }
  true_.assign(size, -1);
  false_.assign(size, -1);
  bound_of_.assign(size, -1);
  for (size_t i = 0; i < size; ++i) RETURN_IF_ERROR(CheckNode(i));
  weights_of_.resize(size);
  for (size_t k = 0; k < w_.tree.size(); ++k) RETURN_IF_ERROR(CheckWeight(k));
  on_path_.assign(size, 0);
  bounds_.assign(feature_index_.size(), Bound{});
  return OkStatus();
}

Result<int32_t> Converter::Child(size_t i, int64_t id, const char* which) const {
  auto it = index_.find({n_.tree[i], id});
  if (it == index_.end()) {
    return Bad(At(n_.tree[i], n_.id[i]) + which + " node id " + std::to_string(id) +
               " does not exist in the tree");
  }
  return it->second;
}

Status Converter::CheckNode(size_t i) {
  if (n_.mode[i] == Mode::kLeaf) return OkStatus();
  if (n_.feature[i] < 0 || n_.feature[i] >= num_features_) {
    return Bad(At(n_.tree[i], n_.id[i]) + "feature id " + std::to_string(n_.feature[i]) +
               " out of range (input has " + std::to_string(num_features_) + " columns)");
  }
  if (std::isnan(n_.value[i])) return Bad(At(n_.tree[i], n_.id[i]) + "threshold is NaN");
  ASSIGN_OR_RETURN(true_[i], Child(i, n_.true_id[i], "true"));
  ASSIGN_OR_RETURN(false_[i], Child(i, n_.false_id[i], "false"));
  const auto f = feature_index_.emplace(n_.feature[i], static_cast<int32_t>(feature_index_.size()));
  bound_of_[i] = f.first->second;
  return OkStatus();
}

Status Converter::CheckWeight(size_t k) {
  // Messages are built only on failure (a model has many weights).
  auto what = [&] {
    return "weight " + std::to_string(k) + " (tree " + std::to_string(w_.tree[k]) + " node " +
           std::to_string(w_.node[k]) + ")";
  };
  auto it = index_.find({w_.tree[k], w_.node[k]});
  if (it == index_.end()) return Bad(what() + " refers to a node that does not exist");
  if (n_.mode[it->second] != Mode::kLeaf)
    return Bad(what() + " refers to a node that is not a LEAF");
  if (w_.target[k] < 0 || w_.target[k] >= outputs_) {
    return Bad(what() + " is for output " + std::to_string(w_.target[k]) + ", the model has " +
               std::to_string(outputs_));
  }
  if (!FitsFloat(w_.weight[k])) {
    return Bad(what() + " is not a finite float (" + std::to_string(w_.weight[k]) + ")");
  }
  weights_of_[it->second].push_back(static_cast<int32_t>(k));
  return OkStatus();
}

Result<int32_t> Converter::NewNode(Shape* s) {
  if (s->nodes.size() >= budget_) {
    return Bad("a tree's BRANCH_EQ/NEQ splits or shared subtrees expand it beyond " +
               std::to_string(budget_) + " nodes");
  }
  s->nodes.emplace_back();
  s->leaf.push_back(-1);
  return static_cast<int32_t>(s->nodes.size() - 1);
}

// Which side of `split` every row that reaches the node being expanded
// takes, by the splits above it: 1 the condition's, 0 the other, -1 either.
int Converter::Known(int32_t feature, Split split, bool nan_to_cond) const {
  const Bound& b = bounds_[feature];
  const bool all_left = b.hi <= split.threshold;
  if (!all_left && !(b.lo >= split.threshold)) return -1;
  if (b.nan && (nan_to_cond == split.cond_left) != all_left) return -1;
  return all_left == split.cond_left ? 1 : 0;
}

// Makes it.slot the split `split` on it.onnx's feature; rows meeting the
// condition continue at cond_child's subtree (queued). Returns the item for
// the other side, whose node is still to fill.
Result<Converter::Item> Converter::Emit(const Item& it, Split split, bool nan_to_cond,
                                        int32_t cond_child, Shape* s) {
  ASSIGN_OR_RETURN(const int32_t cond_slot, NewNode(s));
  ASSIGN_OR_RETURN(const int32_t other_slot, NewNode(s));
  EngineNode& node = s->nodes[it.slot];
  node.feature = static_cast<uint32_t>(n_.feature[it.onnx]);
  node.threshold = split.threshold;
  node.left = split.cond_left ? cond_slot : other_slot;
  node.right = split.cond_left ? other_slot : cond_slot;
  node.default_left = nan_to_cond == split.cond_left;
  const int32_t f = bound_of_[it.onnx];
  Item cond{Item::kEnter,
            cond_child,
            cond_slot,
            it.depth + 1,
            Edge{f, split.threshold, split.cond_left, nan_to_cond},
            {}};
  stack_.push_back(cond);
  return Item{Item::kEnter,
              it.onnx,
              other_slot,
              it.depth + 1,
              Edge{f, split.threshold, !split.cond_left, !nan_to_cond},
              {}};
}

// The split, or no node at all when the splits above decide it.
Status Converter::Route(const Item& it, Split split, bool nan_to_cond, int32_t cond_child,
                        int32_t other_child, Shape* s) {
  const int known = Known(bound_of_[it.onnx], split, nan_to_cond);
  Item next{Item::kEnter, known == 1 ? cond_child : other_child, it.slot, it.depth + 1, {}, {}};
  if (known < 0) {
    ASSIGN_OR_RETURN(next, Emit(it, split, nan_to_cond, cond_child, s));
    next.onnx = other_child;
  }
  stack_.push_back(next);
  return OkStatus();
}

// One ONNX split as engine splits. BRANCH_EQ needs two: x < d goes to the
// false subtree, else x <= d to the true one, else to (a copy of) the false
// one; the copies' splits on the same feature are then decided by the bounds.
Status Converter::ExpandSplit(const Item& it, Shape* s) {
  const int32_t i = it.onnx;
  const double d = n_.value[i];
  const bool nan_true = n_.missing_true[i] >= 1;
  const int32_t t = true_[i], f = false_[i];
  switch (n_.mode[i]) {
    case Mode::kLeq:
      return Route(it, LessEqual(d), nan_true, t, f, s);
    case Mode::kGt:
      return Route(it, Negate(LessEqual(d)), nan_true, t, f, s);
    case Mode::kLt:
      return Route(it, Less(d), nan_true, t, f, s);
    case Mode::kGte:
      return Route(it, Negate(Less(d)), nan_true, t, f, s);
    case Mode::kEq:
    case Mode::kNeq:
    case Mode::kLeaf:
      break;
  }
  // eq/ne are the subtrees for x == d and x != d; NaN goes to eq iff it
  // takes the branch that holds for x == d.
  const bool is_eq = n_.mode[i] == Mode::kEq;
  const int32_t eq = is_eq ? t : f, ne = is_eq ? f : t;
  const bool nan_to_eq = is_eq == nan_true;
  const int known = Known(bound_of_[i], Less(d), !nan_to_eq);
  if (known == 1) return Route(it, Less(d), !nan_to_eq, ne, ne, s);
  if (known == 0) return Route(it, LessEqual(d), nan_to_eq, eq, ne, s);
  ASSIGN_OR_RETURN(const Item second, Emit(it, Less(d), !nan_to_eq, ne, s));
  return Route(second, LessEqual(d), nan_to_eq, eq, ne, s);
}

// Applies the edge into it.onnx (restored after its subtree), then fills
// it.slot: a leaf, or the node's split(s) with its children queued.
Status Converter::Enter(const Item& it, Shape* s) {
  if (it.edge.feature >= 0) {
    Bound& b = bounds_[it.edge.feature];
    stack_.push_back({Item::kRestore, 0, 0, 0, it.edge, b});
    if (it.edge.left) {
      b.hi = std::fmin(b.hi, it.edge.threshold);
    } else {
      b.lo = std::fmax(b.lo, it.edge.threshold);
    }
    b.nan = b.nan && it.edge.nan;
  }
  if (on_path_[it.onnx]) {
    return Bad(At(n_.tree[it.onnx], n_.id[it.onnx]) +
               "is reached again from its own subtree (a cycle)");
  }
  if (it.depth > kMaxDepth) {
    return Bad(At(n_.tree[it.onnx], n_.id[it.onnx]) + "the tree is deeper than " +
               std::to_string(kMaxDepth));
  }
  if (n_.mode[it.onnx] == Mode::kLeaf) {
    s->leaf[it.slot] = it.onnx;
    return OkStatus();
  }
  on_path_[it.onnx] = 1;
  stack_.push_back({Item::kExit, it.onnx, 0, 0, {}, {}});
  return ExpandSplit(it, s);
}

// Depth-first from the root, each visit a fresh engine node: shared subtrees
// are copied, a node met again below itself is a cycle.
Result<Shape> Converter::Expand(int32_t root) {
  Shape s;
  s.nodes.emplace_back();
  s.leaf.push_back(-1);
  stack_.assign(1, Item{Item::kEnter, root, 0, 0, {}, {}});
  while (!stack_.empty()) {
    const Item it = stack_.back();
    stack_.pop_back();
    if (it.kind == Item::kExit) {
      on_path_[it.onnx] = 0;
    } else if (it.kind == Item::kRestore) {
      bounds_[it.edge.feature] = it.saved;
    } else {
      RETURN_IF_ERROR(Enter(it, &s));
    }
  }
  // Covers (for TreeSHAP): leaves below each node; children follow parents.
  for (size_t k = s.nodes.size(); k-- > 0;) {
    EngineNode& node = s.nodes[k];
    node.cover = node.is_leaf() ? 1.0f : s.nodes[node.left].cover + s.nodes[node.right].cover;
  }
  return s;
}

Status Converter::AddTree(const Shape& s, int32_t output, Ensemble* e) {
  engine_nodes_ += s.nodes.size();
  if (engine_nodes_ > kMaxEngineNodes) {
    return Bad("the trees need more than " + std::to_string(kMaxEngineNodes) + " engine nodes");
  }
  Tree t;
  t.nodes = s.nodes;
  t.group = output;
  for (size_t k = 0; k < s.nodes.size(); ++k) {
    if (s.leaf[k] < 0) continue;
    float v = 0.0f;
    for (int32_t j : weights_of_[s.leaf[k]]) {
      if (w_.target[j] == output) v += static_cast<float>(w_.weight[j]);
    }
    if (!std::isfinite(v)) {
      return Bad(At(n_.tree[s.leaf[k]], n_.id[s.leaf[k]]) + "weights for output " +
                 std::to_string(output) + " sum to a non-finite value");
    }
    t.nodes[k].leaf_value = v;
  }
  e->trees.push_back(std::move(t));
  return OkStatus();
}

Status Converter::Convert(bool every_output, Ensemble* e) {
  Shape zero;  // a single leaf of value 0
  zero.nodes.emplace_back();
  zero.nodes[0].cover = 1.0f;
  zero.leaf.push_back(-1);
  for (const auto& [tree_id, root] : roots_) {
    budget_ = kMaxExpansion * tree_size_[tree_id] + 16;
    ASSIGN_OR_RETURN(const Shape s, Expand(root));
    std::vector<uint8_t> used(outputs_, 0);
    for (int32_t leaf : s.leaf) {
      if (leaf < 0) continue;
      for (int32_t j : weights_of_[leaf]) used[w_.target[j]] = 1;
    }
    for (int32_t o = 0; o < outputs_; ++o) {
      if (used[o]) {
        RETURN_IF_ERROR(AddTree(s, o, e));
      } else if (every_output) {
        RETURN_IF_ERROR(AddTree(zero, o, e));
      }
    }
  }
  return OkStatus();
}

// ---- The two ops.

Result<TreePost> ReadPost(const onnx::NodeProto& node) {
  static const std::map<std::string, TreePost> kPosts = {{"NONE", TreePost::kNone},
                                                         {"LOGISTIC", TreePost::kLogistic},
                                                         {"SOFTMAX", TreePost::kSoftmax},
                                                         {"SOFTMAX_ZERO", TreePost::kSoftmaxZero},
                                                         {"PROBIT", TreePost::kProbit}};
  const std::string s = AttrS(node, "post_transform", "NONE");
  auto it = kPosts.find(s);
  if (it == kPosts.end()) return Bad("unknown post_transform '" + s + "'");
  return it->second;
}

// base_values: none, one for every output, or one per output.
Result<std::vector<float>> ReadBase(const onnx::NodeProto& node, int64_t outputs) {
  ASSIGN_OR_RETURN(const std::vector<double> base, Reals(node, "base_values"));
  if (base.empty()) return std::vector<float>();
  if (base.size() != 1 && base.size() != static_cast<size_t>(outputs)) {
    return Bad("base_values has " + std::to_string(base.size()) + " values for " +
               std::to_string(outputs) + " outputs");
  }
  std::vector<float> out(outputs);
  for (int64_t o = 0; o < outputs; ++o) {
    const double b = base[base.size() == 1 ? 0 : o];
    if (!FitsFloat(b))
      return Bad("base_values holds " + std::to_string(b) + ", not a finite float");
    out[o] = static_cast<float>(b);
  }
  return out;
}

Result<int64_t> CheckOutputs(int64_t n, const std::string& what) {
  if (n < 1 || n > kMaxOutputs) {
    return Bad(what + " " + std::to_string(n) + " out of range [1, " + std::to_string(kMaxOutputs) +
               "]");
  }
  return n;
}

// Regressor: base_values are added after the sum (and AVERAGE).
Status Regressor(const onnx::NodeProto& node, Ensemble* e, TreeHead* head, Weights* w) {
  if (FindAttr(node, "n_targets") == nullptr) return Bad("n_targets is missing");
  ASSIGN_OR_RETURN(const int64_t targets, CheckOutputs(AttrI(node, "n_targets", 0), "n_targets"));
  const std::string aggregate = AttrS(node, "aggregate_function", "SUM");
  if (aggregate == "MIN" || aggregate == "MAX") {
    return Bad("aggregate_function " + aggregate +
               " is not supported (the tree engine sums leaf values)");
  }
  if (aggregate != "SUM" && aggregate != "AVERAGE") {
    return Bad("unknown aggregate_function '" + aggregate + "'");
  }
  e->average_output = aggregate == "AVERAGE";
  e->num_groups = static_cast<int32_t>(targets);
  e->base_margin.assign(targets, 0.0f);
  ASSIGN_OR_RETURN(head->bias, ReadBase(node, targets));
  ASSIGN_OR_RETURN(*w, ReadWeights(node, "target_"));
  return OkStatus();
}

// Classifier: base_values start the sum (the reference's order). One weight
// column (every class id 0) is the binary case: one margin, two outputs.
Status Classifier(const onnx::NodeProto& node, Ensemble* e, TreeHead* head, Weights* w) {
  const size_t ints = Ints(node, "classlabels_int64s").size();
  const size_t strings = Strings(node, "classlabels_strings").size();
  if ((ints == 0) == (strings == 0)) {
    return Bad("needs exactly one of classlabels_int64s and classlabels_strings");
  }
  ASSIGN_OR_RETURN(const int64_t classes,
                   CheckOutputs(static_cast<int64_t>(ints + strings), "class count"));
  ASSIGN_OR_RETURN(*w, ReadWeights(node, "class_"));
  bool one_column = !w->target.empty();
  for (int64_t c : w->target) one_column = one_column && c == w->target[0];
  head->binary = one_column;
  if (one_column && (w->target[0] != 0 || classes > 2)) {
    return Bad("every class weight is for class " + std::to_string(w->target[0]) + " of " +
               std::to_string(classes) + ": the binary case needs class 0 of one or two classes");
  }
  ASSIGN_OR_RETURN(std::vector<float> base, ReadBase(node, classes));
  if (head->binary) base.resize(std::min<size_t>(base.size(), 1));
  e->num_groups = head->binary ? 1 : static_cast<int32_t>(classes);
  e->base_margin = base.empty() ? std::vector<float>(e->num_groups, 0.0f) : base;
  return OkStatus();
}

}  // namespace

Result<Node> ImportTreeEnsemble(const onnx::NodeProto& node, int64_t ml_opset,
                                int64_t num_features) {
  if (ml_opset < 1 || ml_opset > 4) {
    return Bad("ai.onnx.ml opset " + std::to_string(ml_opset) +
               " (the op is defined in opsets 1-4)");
  }
  const bool classifier = node.op_type() == "TreeEnsembleClassifier";
  RETURN_IF_ERROR(CheckKnownAttrs(node, ml_opset, classifier));
  ASSIGN_OR_RETURN(const OnnxNodes nodes, ReadNodes(node));
  Node out;
  out.kind = OpKind::kTreeEnsemble;
  ASSIGN_OR_RETURN(out.tree_head.post, ReadPost(node));
  Ensemble e;
  e.format = "onnx";
  e.objective = node.op_type();
  e.num_features = static_cast<int32_t>(num_features);
  Weights w;
  RETURN_IF_ERROR(classifier ? Classifier(node, &e, &out.tree_head, &w)
                             : Regressor(node, &e, &out.tree_head, &w));
  Converter converter(nodes, w, num_features, e.num_groups);
  RETURN_IF_ERROR(converter.Index());
  RETURN_IF_ERROR(converter.Convert(e.average_output, &e));
  ASSIGN_OR_RETURN(std::unique_ptr<TreeModel> model, TreeModel::FromEnsemble(std::move(e), {}));
  out.trees = std::move(model);
  return out;
}

}  // namespace hotpath::dense::internal
