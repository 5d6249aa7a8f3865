// Test helper: a random fully connected ReLU network with a sigmoid output,
// as a native dense graph (for tests of optimize/ and the CLI).
#ifndef HOTPATH_RUNTIME_DENSE_TESTING_RANDOM_MLP_H_
#define HOTPATH_RUNTIME_DENSE_TESTING_RANDOM_MLP_H_

#include <cstdint>
#include <vector>

#include "runtime/dense/graph.h"

namespace hotpath::dense::testing {

// Layers widths[0] -> widths[1] -> ... -> widths.back(); weights N(0, 1/fan_in),
// biases N(0, 0.1^2), from `seed`.
Graph RandomMlp(const std::vector<int64_t>& widths, uint64_t seed);

}  // namespace hotpath::dense::testing

#endif  // HOTPATH_RUNTIME_DENSE_TESTING_RANDOM_MLP_H_
