#include "runtime/tree/internal/forest.h"

#include <algorithm>
#include <cstring>
#include <deque>

namespace hotpath::tree_internal {
namespace {

constexpr float kLightGbmZero = 1e-35f;

bool IsZeroMissing(float x) { return std::isnan(x) || (x >= -kLightGbmZero && x <= kLightGbmZero); }

bool PerfectEligible(const Tree& t, int depth) {
  if (depth > kMaxPerfectDepth) return false;
  for (const Node& n : t.nodes) {
    if (!n.is_leaf() && (n.category_set >= 0 || n.zero_is_missing)) return false;
  }
  return true;
}

template <int D>
float PerfectLeaf(const PerfectNode* nodes, const float* leaves, const float* row) {
  uint32_t idx = 0;
  for (int d = 0; d < D; ++d) {
    const PerfectNode n = nodes[idx];
    const float v = row[n.feature & ~kNanRightBit];
    const uint32_t right = static_cast<uint32_t>(v >= n.threshold) |
                           (static_cast<uint32_t>(v != v) & (n.feature >> 31));
    idx = 2 * idx + 1 + right;
  }
  return leaves[idx - ((1u << D) - 1)];
}

using PerfectFn = float (*)(const PerfectNode*, const float*, const float*);
constexpr PerfectFn kPerfect[kMaxPerfectDepth + 1] = {
    PerfectLeaf<0>, PerfectLeaf<1>, PerfectLeaf<2>, PerfectLeaf<3>, PerfectLeaf<4>,
    PerfectLeaf<5>, PerfectLeaf<6>, PerfectLeaf<7>, PerfectLeaf<8>};

}  // namespace

bool GoesRight(const Ensemble& e, const Node& node, float x) {
  if (node.category_set >= 0) {
    if (std::isnan(x)) return !node.default_left;
    const auto& bits = e.category_sets[node.category_set];
    const bool in = InCategorySet(bits.data(), static_cast<uint32_t>(bits.size()), x,
                                  node.in_set_goes_left);
    return in != node.in_set_goes_left;
  }
  if (node.zero_is_missing ? IsZeroMissing(x) : std::isnan(x)) return !node.default_left;
  return !(x < node.threshold);
}

Forest::Forest(const Ensemble& e, bool allow_simd)
    : num_features_(e.num_features),
      num_groups_(e.num_groups),
      accumulate_double_(e.accumulate_double),
      average_output_(e.average_output),
      base_margin_(e.base_margin) {
  category_begin_.push_back(0);
  for (const auto& set : e.category_sets) {
    category_bits_.insert(category_bits_.end(), set.begin(), set.end());
    category_begin_.push_back(static_cast<uint32_t>(category_bits_.size()));
  }
  for (const Tree& t : e.trees) {
    const int depth = TreeDepth(t);
    if (PerfectEligible(t, depth)) {
      CompilePerfect(t, depth);
    } else {
      CompileGeneral(t);
    }
  }
  if (allow_simd) {
    binned_ = BinnedForest::Create(e);
    if (binned_ == nullptr) simd_ = SimdForest::Create(e);
  }
}

Forest::~Forest() = default;

void PadTree(const Tree& t, int depth, float* thr, uint32_t* feat, float* leaf) {
  const uint32_t inner = (1u << depth) - 1;
  struct Item { int32_t node; uint32_t pos; int level; };  // IR node, position, level
  std::vector<Item> stack = {{0, 0, 0}};
  while (!stack.empty()) {
    Item it = stack.back();
    stack.pop_back();
    const Node& n = t.nodes[it.node];
    if (it.level == depth) {
      leaf[it.pos - inner] = n.leaf_value;
      continue;
    }
    const bool pad = n.is_leaf();  // both subtrees lead to this leaf
    thr[it.pos] = pad ? 0.0f : n.threshold;
    feat[it.pos] = pad ? 0u : (n.feature | (n.default_left ? 0u : kNanRightBit));
    stack.push_back({pad ? it.node : n.left, 2 * it.pos + 1, it.level + 1});
    stack.push_back({pad ? it.node : n.right, 2 * it.pos + 2, it.level + 1});
  }
}

void Forest::CompilePerfect(const Tree& t, int depth) {
  TreeRef ref{static_cast<uint32_t>(perfect_.size()), static_cast<uint32_t>(leaves_.size()), t.group,
              static_cast<uint8_t>(depth)};
  const uint32_t inner = (1u << depth) - 1;
  std::vector<float> thr(inner);
  std::vector<uint32_t> feat(inner);
  leaves_.resize(leaves_.size() + (inner + 1), 0.0f);
  PadTree(t, depth, thr.data(), feat.data(), leaves_.data() + ref.leaves);
  for (uint32_t k = 0; k < inner; ++k) perfect_.push_back(PerfectNode{thr[k], feat[k]});
  trees_.push_back(ref);
}

void Forest::CompileGeneral(const Tree& t) {
  TreeRef ref{static_cast<uint32_t>(general_.size()), 0, t.group, kGeneral};
  // Breadth-first, children placed next to each other.
  std::deque<std::pair<int32_t, uint32_t>> queue = {{0, ref.nodes}};
  general_.push_back({});
  while (!queue.empty()) {
    auto [id, pos] = queue.front();
    queue.pop_front();
    const Node& n = t.nodes[id];
    GeneralNode g{};
    if (n.is_leaf()) {
      g.threshold = n.leaf_value;
      g.flags = GeneralNode::kLeaf;
    } else {
      g.feature = n.feature;
      g.threshold = n.threshold;
      g.flags = n.default_left ? 0u : static_cast<uint32_t>(GeneralNode::kNanRight);
      if (n.zero_is_missing) g.flags |= GeneralNode::kZeroIsMissing;
      if (n.category_set >= 0) {
        g.flags |= GeneralNode::kCategorical;
        if (n.in_set_goes_left) g.flags |= GeneralNode::kInSetGoesLeft;
        const uint32_t set = static_cast<uint32_t>(n.category_set);
        std::memcpy(&g.threshold, &set, sizeof(set));
      }
      g.left = static_cast<int32_t>(general_.size() - ref.nodes);
      general_.push_back({});
      general_.push_back({});
      queue.push_back({n.left, ref.nodes + g.left});
      queue.push_back({n.right, ref.nodes + g.left + 1});
    }
    general_[pos] = g;
  }
  trees_.push_back(ref);
}

float Forest::GeneralLeaf(const TreeRef& t, const float* row) const {
  const GeneralNode* nodes = general_.data() + t.nodes;
  int32_t i = 0;
  for (;;) {
    const GeneralNode& n = nodes[i];
    if (n.flags & GeneralNode::kLeaf) return n.threshold;
    const float v = row[n.feature];
    uint32_t right;
    if ((n.flags & (GeneralNode::kCategorical | GeneralNode::kZeroIsMissing)) == 0) {
      right = static_cast<uint32_t>(v >= n.threshold) |
              (static_cast<uint32_t>(v != v) & ((n.flags & GeneralNode::kNanRight) >> 1));
    } else if (n.flags & GeneralNode::kCategorical) {
      if (v != v) {
        right = (n.flags & GeneralNode::kNanRight) != 0;
      } else {
        uint32_t set;
        std::memcpy(&set, &n.threshold, sizeof(set));
        const bool lightgbm = (n.flags & GeneralNode::kInSetGoesLeft) != 0;
        const bool in = InCategorySet(category_bits_.data() + category_begin_[set],
                                      category_begin_[set + 1] - category_begin_[set], v, lightgbm);
        right = in != lightgbm;
      }
    } else {
      right = IsZeroMissing(v) ? (n.flags & GeneralNode::kNanRight) != 0 : !(v < n.threshold);
    }
    i = n.left + static_cast<int32_t>(right);
  }
}

template <typename Acc>
void Forest::PredictBlock(const float* x, size_t rows, Acc* acc) const {
  const size_t groups = static_cast<size_t>(num_groups_);
  const size_t nf = static_cast<size_t>(num_features_);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t g = 0; g < groups; ++g) acc[r * groups + g] = base_margin_[g];
  }
  for (const TreeRef& t : trees_) {
    Acc* a = acc + t.group;
    if (t.depth != kGeneral) {
      const PerfectFn fn = kPerfect[t.depth];
      const PerfectNode* nodes = perfect_.data() + t.nodes;
      const float* leaves = leaves_.data() + t.leaves;
      for (size_t r = 0; r < rows; ++r) a[r * groups] += fn(nodes, leaves, x + r * nf);
    } else {
      for (size_t r = 0; r < rows; ++r) a[r * groups] += GeneralLeaf(t, x + r * nf);
    }
  }
}

void Forest::PredictMargins(const float* x, size_t rows, float* out) const {
  const size_t groups = static_cast<size_t>(num_groups_);
  const size_t nf = static_cast<size_t>(num_features_);
  const float trees_per_group = static_cast<float>(trees_.size() / groups);
  // Rows per block: enough to overlap many independent traversals, few
  // enough that the block's accumulators stay in L1.
  constexpr size_t kAccBudget = 512;
  const size_t block = std::max<size_t>(1, std::min<size_t>(64, kAccBudget / groups));
  if (binned_ != nullptr) {
    for (size_t r = 0; r < rows; ++r) std::copy(base_margin_.begin(), base_margin_.end(), out + r * groups);
    binned_->AddRows(x, rows, out);
  } else if (simd_ != nullptr) {
    PredictSimd(x, rows, out);
  } else if (!accumulate_double_) {
    for (size_t r = 0; r < rows; r += block) {
      PredictBlock<float>(x + r * nf, std::min(block, rows - r), out + r * groups);
    }
  } else {
    double acc[kAccBudget];
    std::vector<double> big;
    double* a = acc;
    if (groups > kAccBudget) {  // rare: thousands of classes
      big.resize(groups);
      a = big.data();
    }
    for (size_t r = 0; r < rows; r += block) {
      const size_t n = std::min(block, rows - r);
      PredictBlock<double>(x + r * nf, n, a);
      for (size_t i = 0; i < n * groups; ++i) out[r * groups + i] = static_cast<float>(a[i]);
    }
  }
  if (average_output_ && trees_per_group > 0) {
    for (size_t i = 0; i < rows * groups; ++i) out[i] /= trees_per_group;
  }
}

void Forest::PredictSimd(const float* x, size_t rows, float* out) const {
  const size_t groups = static_cast<size_t>(num_groups_);
  const size_t nf = static_cast<size_t>(num_features_);
  for (size_t r = 0; r < rows; ++r) std::copy(base_margin_.begin(), base_margin_.end(), out + r * groups);
  size_t r = 0;
  for (; r + 4 * kSimdLanes <= rows; r += 4 * kSimdLanes) simd_->AddBlocks<4>(x + r * nf, out + r * groups);
  for (; r + kSimdLanes <= rows; r += kSimdLanes) simd_->AddBlocks<1>(x + r * nf, out + r * groups);
  for (; r < rows; ++r) simd_->AddRow(x + r * nf, out + r * groups);
}

size_t Forest::MemoryBytes() const {
  return sizeof(*this) + trees_.capacity() * sizeof(TreeRef) +
         perfect_.capacity() * sizeof(PerfectNode) + leaves_.capacity() * sizeof(float) +
         general_.capacity() * sizeof(GeneralNode) +
         (category_bits_.capacity() + category_begin_.capacity()) * sizeof(uint32_t) +
         (simd_ ? simd_->MemoryBytes() : 0) + (binned_ ? binned_->MemoryBytes() : 0);
}

const char* Forest::kernel_name() const {
  if (binned_ != nullptr) return binned_->wide() ? "avx512-binned16" : "avx512-binned8";
  return simd_ != nullptr ? "avx512" : "scalar";
}

size_t Forest::num_perfect_trees() const {
  return static_cast<size_t>(std::count_if(trees_.begin(), trees_.end(),
                                           [](const TreeRef& t) { return t.depth != kGeneral; }));
}

}  // namespace hotpath::tree_internal
