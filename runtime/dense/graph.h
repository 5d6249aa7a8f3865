// Graph: the dense engine's intermediate representation of a network.
//
// Importers (ONNX, the native `.hpd` format) produce a Graph; optimisers
// (optimize/: int8 quantisation, pruning) rewrite one; DenseModel compiles one
// into packed kernels. Every value is a row-major [rows, width] matrix; value 0
// is the model input. Nodes are in topological order.
#ifndef HOTPATH_RUNTIME_DENSE_GRAPH_H_
#define HOTPATH_RUNTIME_DENSE_GRAPH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

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
  kDense,       // out = act(in · weights + bias); weights [in_width, out_width]
  kQuantDense,  // kDense with int8 weights (per-column scales) and int8 activations
  kAffine,      // out = in * scale + shift, per column
  kActivation,  // out = act(in), elementwise
  kBinary,      // out = in0 (op) in1, same widths
  kConcat,      // out = [in0 | in1 | ...] along columns
  kSoftmax,     // softmax over each row
  kNormalize,   // each row divided by its max-abs, L1 or L2 norm
};

enum class BinaryOp : uint8_t { kAdd, kSub, kMul, kDiv };
enum class NormKind : uint8_t { kMax, kL1, kL2 };

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
};

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

// Weight + bias + state bytes of the graph (the model's memory footprint).
size_t GraphBytes(const Graph& graph);

// Multiply-adds per row of the dense and quantised layers.
int64_t GraphMacsPerRow(const Graph& graph);

}  // namespace hotpath::dense

#endif  // HOTPATH_RUNTIME_DENSE_GRAPH_H_
