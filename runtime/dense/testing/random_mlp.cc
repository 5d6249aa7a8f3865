#include "runtime/dense/testing/random_mlp.h"

#include <cmath>
#include <random>
#include <utility>

namespace hotpath::dense::testing {

Graph RandomMlp(const std::vector<int64_t>& widths, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  Graph g;
  g.widths = {widths[0]};
  for (size_t l = 1; l < widths.size(); ++l) {
    Node n;
    n.inputs = {static_cast<int>(l) - 1};
    n.output = static_cast<int>(l);
    n.weights.resize(widths[l - 1] * widths[l]);
    for (float& w : n.weights) w = d(rng) / std::sqrt(static_cast<float>(widths[l - 1]));
    n.bias.resize(widths[l]);
    for (float& b : n.bias) b = 0.1f * d(rng);
    n.act.kind = l + 1 < widths.size() ? Activation::kRelu : Activation::kSigmoid;
    g.widths.push_back(widths[l]);
    g.nodes.push_back(std::move(n));
  }
  g.output = static_cast<int>(widths.size()) - 1;
  return g;
}

}  // namespace hotpath::dense::testing
