// Graph: the dense engine's intermediate representation of a network.
//
// Importers (ONNX, the native `.hpd` format) produce a Graph; optimisers
// (optimize/: int8 quantisation, pruning) rewrite one; DenseModel compiles one
// into packed kernels. Every value is a row-major [rows, width] matrix; value 0
// is the model input. Nodes are in topological order. A tree ensemble (ONNX
// TreeEnsembleRegressor/Classifier) is one node whose trees the tree engine
// (runtime/tree) runs.
#ifndef HOTPATH_RUNTIME_DENSE_GRAPH_H_
#define HOTPATH_RUNTIME_DENSE_GRAPH_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace hotpath {
class TreeModel;
}

namespace hotpath::dense {

enum class Activation : uint8_t {
  kNone,
  kRelu,
  kLeakyRelu,  // x < 0 ? alpha * x : x
  kSigmoid,
  kTanh,
  kGelu,      // exact: 0.5 x (1 + erf(x / sqrt 2))
  kGeluTanh,  // tanh approximation
  kClip,      // min(max(x, alpha), beta)
};

struct ActivationSpec {
  Activation kind = Activation::kNone;
  float alpha = 0;
  float beta = 0;
};

// Applies `spec` to one value (the scalar definition every kernel matches).
float ApplyActivation(const ActivationSpec& spec, float x);

enum class OpKind : uint8_t {
  kDense,         // out = act(in · weights + bias); weights [in_width, out_width]
  kQuantDense,    // kDense with int8 weights (per-column scales) and int8 activations
  kAffine,        // out = in * scale + shift, per column
  kActivation,    // out = act(in), elementwise
  kBinary,        // out = in0 (op) in1, same widths
  kConcat,        // out = [in0 | in1 | ...] along columns
  kSoftmax,       // softmax over each row
  kNormalize,     // each row divided by its max-abs, L1 or L2 norm
  kTreeEnsemble,  // out = tree_head(margins of `trees`); see TreeHead
};

enum class BinaryOp : uint8_t { kAdd, kSub, kMul, kDiv };
enum class NormKind : uint8_t { kMax, kL1, kL2 };

// ONNX post_transform of a tree ensemble, as the ONNX reference evaluator
// (onnx/reference/ops/aionnxml) computes it.
enum class TreePost : uint8_t {
  kNone,
  kLogistic,     // 1 / (1 + exp(-m)) per element
  kSoftmax,      // over the row
  kSoftmaxZero,  // softmax over the row's entries with |m| > 1e-7; the others become
                 // m * exp(-max) (~0); a row summing to 0 becomes 0.5 everywhere
  kProbit,       // sqrt(2) * erfinv(2m - 1) per element, erfinv by Winitzki's
                 // approximation (a = 0.147) as the reference and onnxruntime
};

// What turns the tree engine's margins m [rows, margins] into the node's
// output: m + bias, then (binary) the two-column expansion, then post.
struct TreeHead {
  std::vector<float> bias;  // [margins] added after the trees' sum; empty: none
  TreePost post = TreePost::kNone;
  // A binary classifier with one score column s: the output is [rows, 2],
  // [1 - s, s] for post kNone and kProbit, [-s, s] for the others, then post
  // is applied to both columns (the ONNX reference's binary case).
  bool binary = false;
};

struct Node {
  OpKind kind = OpKind::kDense;
  std::string name;         // for error messages
  std::vector<int> inputs;  // value ids
  int output = 0;           // value id
  ActivationSpec act;       // kDense, kQuantDense, kActivation

  std::vector<float> weights;  // kDense: [in_width, out_width] row-major
  std::vector<float> bias;     // kDense, kQuantDense: [out_width]

  // kQuantDense: w ≈ qweights[k, n] * weight_scale[n] (symmetric, |q| <= 127).
  std::vector<int8_t> qweights;     // [in_width, out_width] row-major
  std::vector<float> weight_scale;  // [out_width]
  // Input scale: x ≈ q * input_scale with |q| <= 127; 0 = dynamic, per row.
  float input_scale = 0;

  std::vector<float> scale;  // kAffine: [out_width]
  std::vector<float> shift;  // kAffine: [out_width]
  BinaryOp binary = BinaryOp::kAdd;
  NormKind norm = NormKind::kL2;

  // kTreeEnsemble: the compiled trees (immutable, shared by graph copies),
  // whose kMargin output feeds tree_head.
  std::shared_ptr<const TreeModel> trees;
  TreeHead tree_head;
};

// Output width of a kTreeEnsemble node: 2 for a binary head, else the trees'
// margin width. REQUIRES: node.trees is set.
int64_t TreeEnsembleWidth(const Node& node);

struct Graph {
  std::vector<int64_t> widths;  // per value id; widths[0] is the input width
  std::vector<Node> nodes;      // topological order
  int output = 0;               // value id of the model output
  std::string input_name = "input";
  std::string output_name = "output";
};

// Checks ids, widths, topological order and array sizes; INVALID_ARGUMENT
// naming the node and the field otherwise. Widths are limited to 2^24.
Status ValidateGraph(const Graph& graph);

// Weight + bias + state bytes of the graph, tree ensembles included (the
// model's memory footprint).
size_t GraphBytes(const Graph& graph);

// Multiply-adds per row of the dense and quantised layers.
int64_t GraphMacsPerRow(const Graph& graph);

}  // namespace hotpath::dense

#endif  // HOTPATH_RUNTIME_DENSE_GRAPH_H_
