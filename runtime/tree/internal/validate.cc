#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "runtime/tree/internal/ensemble.h"

namespace hotpath::tree_internal {
namespace {

std::string Where(const Ensemble& e, size_t t, size_t n) {
  return e.format + " model: tree " + std::to_string(t) + " node " + std::to_string(n) + ": ";
}

Status ValidateNode(const Ensemble& e, size_t t, size_t n, std::vector<uint8_t>* seen) {
  const Tree& tree = e.trees[t];
  const Node& node = tree.nodes[n];
  const int32_t size = static_cast<int32_t>(tree.nodes.size());
  if (node.is_leaf()) {
    if (node.right >= 0) return InvalidArgumentError(Where(e, t, n) + "has a right child but no left child");
    if (!std::isfinite(node.leaf_value)) return InvalidArgumentError(Where(e, t, n) + "leaf value is not finite");
    return OkStatus();
  }
  if (node.right < 0 || node.left >= size || node.right >= size) {
    return InvalidArgumentError(Where(e, t, n) + "child index out of range (left " +
                                std::to_string(node.left) + ", right " + std::to_string(node.right) +
                                ", " + std::to_string(size) + " nodes)");
  }
  if (node.feature >= static_cast<uint32_t>(e.num_features)) {
    return InvalidArgumentError(Where(e, t, n) + "feature index " + std::to_string(node.feature) +
                                " out of range (model has " + std::to_string(e.num_features) +
                                " features)");
  }
  if (node.category_set >= 0) {
    if (static_cast<size_t>(node.category_set) >= e.category_sets.size()) {
      return InvalidArgumentError(Where(e, t, n) + "category set out of range");
    }
  } else if (std::isnan(node.threshold)) {
    return InvalidArgumentError(Where(e, t, n) + "threshold is NaN");
  }
  for (int32_t child : {node.left, node.right}) {
    if ((*seen)[child]) {
      return InvalidArgumentError(Where(e, t, n) + "child " + std::to_string(child) +
                                  " is reached twice (cycle or shared node)");
    }
    (*seen)[child] = 1;
  }
  return OkStatus();
}

}  // namespace

Status Validate(const Ensemble& e) {
  if (e.num_features <= 0) return InvalidArgumentError(e.format + " model: num_features must be positive");
  if (e.num_groups <= 0) return InvalidArgumentError(e.format + " model: number of output groups must be positive");
  if (static_cast<int32_t>(e.base_margin.size()) != e.num_groups) {
    return InvalidArgumentError(e.format + " model: base margin has wrong size");
  }
  for (size_t t = 0; t < e.trees.size(); ++t) {
    const Tree& tree = e.trees[t];
    if (tree.nodes.empty()) return InvalidArgumentError(e.format + " model: tree " + std::to_string(t) + " has no nodes");
    if (tree.group < 0 || tree.group >= e.num_groups) {
      return InvalidArgumentError(e.format + " model: tree " + std::to_string(t) + " has group " +
                                  std::to_string(tree.group) + ", model has " +
                                  std::to_string(e.num_groups));
    }
    // Walk from the root; each node must be reached exactly once.
    std::vector<uint8_t> seen(tree.nodes.size(), 0);
    seen[0] = 1;
    std::vector<size_t> stack = {0};
    while (!stack.empty()) {
      size_t n = stack.back();
      stack.pop_back();
      RETURN_IF_ERROR(ValidateNode(e, t, n, &seen));
      const Node& node = tree.nodes[n];
      if (!node.is_leaf()) {
        stack.push_back(node.left);
        stack.push_back(node.right);
      }
    }
  }
  return OkStatus();
}

int TreeDepth(const Tree& t) {
  // Iterative: (node, depth) pairs. Validate() has ruled out cycles.
  int max_depth = 0;
  std::vector<std::pair<int32_t, int>> stack = {{0, 0}};
  while (!stack.empty()) {
    auto [n, d] = stack.back();
    stack.pop_back();
    max_depth = std::max(max_depth, d);
    const Node& node = t.nodes[n];
    if (!node.is_leaf()) {
      stack.push_back({node.left, d + 1});
      stack.push_back({node.right, d + 1});
    }
  }
  return max_depth;
}

}  // namespace hotpath::tree_internal
