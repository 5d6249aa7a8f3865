// Import of ai.onnx.ml TreeEnsembleRegressor / TreeEnsembleClassifier nodes
// (ai.onnx.ml opsets 1-4) into the tree engine: the attributes are checked,
// every split is converted exactly to the engine's `x < t` form, and the
// trees are compiled by runtime/tree (TreeModel::FromEnsemble) into one
// kTreeEnsemble graph node. Semantics follow the ONNX reference evaluator
// (onnx/reference/ops/aionnxml); docs/dense.md lists them.
#ifndef HOTPATH_RUNTIME_DENSE_INTERNAL_ONNX_TREE_ENSEMBLE_H_
#define HOTPATH_RUNTIME_DENSE_INTERNAL_ONNX_TREE_ENSEMBLE_H_

#include <onnx/onnx_pb.h>

#include <cstdint>

#include "core/status.h"
#include "runtime/dense/graph.h"

namespace hotpath::dense::internal {

// Converts `node` (its op_type is TreeEnsembleRegressor or
// TreeEnsembleClassifier) reading a value of width `num_features`. Returns a
// kTreeEnsemble Node with `trees` and `tree_head` set (name, inputs and
// output are the caller's). INVALID_ARGUMENT with a message naming the
// attribute, tree id and node id otherwise (the caller adds the node's name,
// op and opset). Never crashes on malformed attributes.
Result<Node> ImportTreeEnsemble(const onnx::NodeProto& node, int64_t ml_opset,
                                int64_t num_features);

}  // namespace hotpath::dense::internal

#endif  // HOTPATH_RUNTIME_DENSE_INTERNAL_ONNX_TREE_ENSEMBLE_H_
