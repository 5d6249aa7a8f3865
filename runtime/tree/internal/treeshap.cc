#include "runtime/tree/internal/treeshap.h"

#include <algorithm>
#include <cstring>

#include "runtime/tree/internal/forest.h"

namespace hotpath::tree_internal {
namespace {

// Mean value of node n's subtree, weighted by cover, filled bottom-up.
float FillMean(const Tree& t, int n, std::vector<float>* mean) {
  const Node& node = t.nodes[n];
  float v;
  if (node.is_leaf()) {
    v = node.leaf_value;
  } else {
    const float l = FillMean(t, node.left, mean);
    const float r = FillMean(t, node.right, mean);
    v = (l * t.nodes[node.left].cover + r * t.nodes[node.right].cover) / node.cover;
  }
  (*mean)[n] = v;
  return v;
}

}  // namespace

TreeShap::TreeShap(const Ensemble& e) : e_(e) {
  mean_.resize(e.trees.size());
  for (size_t i = 0; i < e.trees.size(); ++i) {
    mean_[i].resize(e.trees[i].nodes.size());
    FillMean(e.trees[i], 0, &mean_[i]);
    max_depth_ = std::max(max_depth_, TreeDepth(e.trees[i]));
  }
}

size_t TreeShap::width() const {
  return static_cast<size_t>(e_.num_groups) * (static_cast<size_t>(e_.num_features) + 1);
}

void TreeShap::Extend(PathElement* path, int depth, float zero_fraction, float one_fraction,
                      int feature) {
  path[depth] = {feature, zero_fraction, one_fraction, depth == 0 ? 1.0f : 0.0f};
  for (int i = depth - 1; i >= 0; --i) {
    path[i + 1].weight += one_fraction * path[i].weight * static_cast<float>(i + 1) /
                          static_cast<float>(depth + 1);
    path[i].weight = zero_fraction * path[i].weight * static_cast<float>(depth - i) /
                     static_cast<float>(depth + 1);
  }
}

void TreeShap::Unwind(PathElement* path, int depth, int index) {
  const float one = path[index].one_fraction;
  const float zero = path[index].zero_fraction;
  float next = path[depth].weight;
  for (int i = depth - 1; i >= 0; --i) {
    if (one != 0.0f) {
      const float w = path[i].weight;
      path[i].weight = next * static_cast<float>(depth + 1) / (static_cast<float>(i + 1) * one);
      next = w - path[i].weight * zero * static_cast<float>(depth - i) / static_cast<float>(depth + 1);
    } else {
      path[i].weight = path[i].weight * static_cast<float>(depth + 1) /
                       (zero * static_cast<float>(depth - i));
    }
  }
  for (int i = index; i < depth; ++i) {
    path[i].feature = path[i + 1].feature;
    path[i].zero_fraction = path[i + 1].zero_fraction;
    path[i].one_fraction = path[i + 1].one_fraction;
  }
}

float TreeShap::UnwoundSum(const PathElement* path, int depth, int index) {
  const float one = path[index].one_fraction;
  const float zero = path[index].zero_fraction;
  float next = path[depth].weight;
  float total = 0.0f;
  for (int i = depth - 1; i >= 0; --i) {
    if (one != 0.0f) {
      const float w = next * static_cast<float>(depth + 1) / (static_cast<float>(i + 1) * one);
      total += w;
      next = path[i].weight -
             w * zero * (static_cast<float>(depth - i) / static_cast<float>(depth + 1));
    } else if (zero != 0.0f) {
      total += (path[i].weight / zero) /
               (static_cast<float>(depth - i) / static_cast<float>(depth + 1));
    }
  }
  return total;
}

void TreeShap::Recurse(const Tree& t, const float* row, float* phi, int node, int depth,
                       PathElement* parent_path, float zero_fraction, float one_fraction,
                       int feature) const {
  PathElement* path = parent_path + depth + 1;
  std::copy(parent_path, parent_path + depth + 1, path);
  Extend(path, depth, zero_fraction, one_fraction, feature);
  const Node& n = t.nodes[node];
  if (n.is_leaf()) {
    for (int i = 1; i <= depth; ++i) {
      const float w = UnwoundSum(path, depth, i);
      phi[path[i].feature] += w * (path[i].one_fraction - path[i].zero_fraction) * n.leaf_value;
    }
    return;
  }
  const int hot = GoesRight(e_, n, row[n.feature]) ? n.right : n.left;
  const int cold = hot == n.left ? n.right : n.left;
  const float hot_zero = t.nodes[hot].cover / n.cover;
  const float cold_zero = t.nodes[cold].cover / n.cover;
  float incoming_zero = 1.0f, incoming_one = 1.0f;
  // A feature already on the path is undone, then redone at this node.
  int k = 0;
  while (k <= depth && path[k].feature != static_cast<int>(n.feature)) ++k;
  if (k != depth + 1) {
    incoming_zero = path[k].zero_fraction;
    incoming_one = path[k].one_fraction;
    Unwind(path, depth, k);
    depth -= 1;
  }
  const int f = static_cast<int>(n.feature);
  Recurse(t, row, phi, hot, depth + 1, path, hot_zero * incoming_zero, incoming_one, f);
  Recurse(t, row, phi, cold, depth + 1, path, cold_zero * incoming_zero, 0.0f, f);
}

template <typename PerTree>
void TreeShap::ForEachRowAndTree(const float* x, size_t rows, float* out, PerTree&& per_tree) const {
  const size_t nf = static_cast<size_t>(e_.num_features);
  const size_t cols = nf + 1;
  const size_t groups = static_cast<size_t>(e_.num_groups);
  for (size_t r = 0; r < rows; ++r) {
    const float* row = x + r * nf;
    float* o = out + r * groups * cols;
    std::fill(o, o + groups * cols, 0.0f);
    for (size_t ti = 0; ti < e_.trees.size(); ++ti) {
      per_tree(ti, row, o + static_cast<size_t>(e_.trees[ti].group) * cols);
    }
    for (size_t g = 0; g < groups; ++g) o[g * cols + nf] += e_.base_margin[g];
  }
}

void TreeShap::ApproxContributions(const float* x, size_t rows, float* out) const {
  const size_t nf = static_cast<size_t>(e_.num_features);
  ForEachRowAndTree(x, rows, out, [&](size_t ti, const float* row, float* og) {
    const Tree& t = e_.trees[ti];
    float value = mean_[ti][0];
    og[nf] += value;
    int n = 0;
    uint32_t feature = 0;
    while (!t.nodes[n].is_leaf()) {
      const Node& node = t.nodes[n];
      feature = node.feature;
      n = GoesRight(e_, node, row[feature]) ? node.right : node.left;
      const float next = mean_[ti][n];
      og[feature] += next - value;
      value = next;
    }
    if (n != 0) og[feature] += t.nodes[n].leaf_value - value;
  });
}

void TreeShap::Contributions(const float* x, size_t rows, float* out) const {
  const size_t nf = static_cast<size_t>(e_.num_features);
  const size_t path_len = static_cast<size_t>((max_depth_ + 2) * (max_depth_ + 3) / 2);
  std::vector<PathElement> path(path_len);
  std::vector<float> tree_phi(nf + 1);
  ForEachRowAndTree(x, rows, out, [&](size_t ti, const float* row, float* og) {
    std::fill(tree_phi.begin(), tree_phi.end(), 0.0f);
    tree_phi[nf] = mean_[ti][0];
    Recurse(e_.trees[ti], row, tree_phi.data(), 0, 0, path.data(), 1.0f, 1.0f, -1);
    for (size_t c = 0; c <= nf; ++c) og[c] += tree_phi[c];
  });
}

}  // namespace hotpath::tree_internal
