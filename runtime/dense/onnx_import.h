// ONNX import: turns a serialized ModelProto into a dense Graph.
//
// Supported (default domain, opsets 7-20): Gemm, MatMul (constant right
// operand), Add, Sub, Mul, Div (two values of equal width, or a value and a
// constant scalar / row vector), Relu, LeakyRelu, Sigmoid, Tanh, Gelu
// (opset 20; also com.microsoft), Clip, Softmax (last axis), Flatten (axis 1),
// Reshape (keeping [rows, width]), Identity, Dropout (inference), Cast (to
// float), Concat (axis 1), BatchNormalization, Constant; ai.onnx.ml Scaler,
// Normalizer, ZipMap (served as its probability tensor) and
// TreeEnsembleRegressor / TreeEnsembleClassifier (opsets 1-4; one
// kTreeEnsemble node run by the tree engine, see
// internal/onnx_tree_ensemble.h). Linear ops after a Gemm/MatMul (bias Add,
// Mul/Div by a constant, BatchNormalization) are folded into its weights, and
// an activation into its epilogue. The model has one float input [N, F] and
// one served output (a tree classifier's label output is not served).
// Anything else is refused with INVALID_ARGUMENT naming the node, the op and
// the opset (or the graph field at fault).
#ifndef HOTPATH_RUNTIME_DENSE_ONNX_IMPORT_H_
#define HOTPATH_RUNTIME_DENSE_ONNX_IMPORT_H_

#include <string_view>

#include "core/status.h"
#include "runtime/dense/graph.h"

namespace hotpath::dense {

// `bytes` is a serialized onnx.ModelProto. Never crashes on malformed input.
Result<Graph> ImportOnnx(std::string_view bytes);

}  // namespace hotpath::dense

#endif  // HOTPATH_RUNTIME_DENSE_ONNX_IMPORT_H_
