// Model-shrinking rewrites of a dense Graph: int8 post-training quantisation
// and pruning. Each returns a new Graph; the input is never modified. The
// accuracy of a result is judged by the gate in optimize.h, not here.
#ifndef HOTPATH_OPTIMIZE_TRANSFORMS_H_
#define HOTPATH_OPTIMIZE_TRANSFORMS_H_

#include <cstddef>

#include "core/status.h"
#include "runtime/dense/graph.h"

namespace hotpath::optimize {

struct QuantizeOptions {
  // false: activation scales per row at run time (dynamic). true: one scale
  // per layer input, the max |activation| over the calibration rows.
  bool calibrated = false;
  const float* calibration_x = nullptr;  // [calibration_rows, input width]
  size_t calibration_rows = 0;
};

// Replaces every kDense layer by kQuantDense: per-output-column symmetric
// int8 weights (scale = max |w| / 127). INVALID_ARGUMENT when calibrated
// without calibration rows.
Result<dense::Graph> QuantizeInt8(const dense::Graph& graph, const QuantizeOptions& options);

// Unstructured magnitude pruning: zeroes the `sparsity` fraction of smallest
// |w| of each kDense layer (the weights stay dense; no sparse kernel pays at
// these widths, see docs/optimize.md). REQUIRES 0 <= sparsity < 1.
Result<dense::Graph> PruneMagnitude(const dense::Graph& graph, double sparsity);

// Structured pruning: removes the `fraction` of hidden neurons with the least
// importance |w_in column| * |w_out row| from every kDense -> kDense pair whose
// hidden value has no other reader; the layers really shrink. Other graphs
// come back unchanged. REQUIRES 0 <= fraction < 1.
Result<dense::Graph> PruneNeurons(const dense::Graph& graph, double fraction);

}  // namespace hotpath::optimize

#endif  // HOTPATH_OPTIMIZE_TRANSFORMS_H_
