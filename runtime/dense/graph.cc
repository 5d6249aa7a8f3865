#include "runtime/dense/graph.h"

#include <cmath>
#include <string>

#include "runtime/tree/tree_model.h"

namespace hotpath::dense {
namespace {

constexpr int64_t kMaxWidth = int64_t{1} << 24;

Status NodeError(const Node& node, size_t index, const std::string& what) {
  return InvalidArgumentError("dense graph node " + std::to_string(index) + " ('" + node.name +
                              "'): " + what);
}

Status CheckSize(const Node& node, size_t index, const char* field, size_t got, int64_t want) {
  if (got == static_cast<size_t>(want)) return OkStatus();
  return NodeError(node, index,
                   std::string(field) + " has " + std::to_string(got) + " elements, expected " +
                       std::to_string(want));
}

Status CheckArity(const Node& node, size_t index, size_t want) {
  if (node.inputs.size() == want) return OkStatus();
  return NodeError(
      node, index,
      "expects " + std::to_string(want) + " inputs, has " + std::to_string(node.inputs.size()));
}

Status CheckDense(const Node& node, size_t index, int64_t in, int64_t out) {
  const bool quant = node.kind == OpKind::kQuantDense;
  RETURN_IF_ERROR(CheckSize(node, index, "bias", node.bias.size(), out));
  if (!quant) return CheckSize(node, index, "weights", node.weights.size(), in * out);
  RETURN_IF_ERROR(CheckSize(node, index, "qweights", node.qweights.size(), in * out));
  RETURN_IF_ERROR(CheckSize(node, index, "weight_scale", node.weight_scale.size(), out));
  for (int8_t q : node.qweights) {
    if (q == -128) return NodeError(node, index, "qweights hold -128 (symmetric range is ±127)");
  }
  for (float s : node.weight_scale) {
    if (!(s >= 0) || !std::isfinite(s))
      return NodeError(node, index, "weight_scale not finite >= 0");
  }
  if (!(node.input_scale >= 0) || !std::isfinite(node.input_scale)) {
    return NodeError(node, index, "input_scale not finite >= 0");
  }
  return OkStatus();
}

Status CheckTrees(const Node& node, size_t index, int64_t in, int64_t out) {
  RETURN_IF_ERROR(CheckArity(node, index, 1));
  if (node.trees == nullptr) return NodeError(node, index, "tree ensemble without trees");
  if (node.trees->num_features() != in) {
    return NodeError(node, index,
                     "trees read " + std::to_string(node.trees->num_features()) +
                         " features from a value of width " + std::to_string(in));
  }
  const TreeHead& h = node.tree_head;
  const int64_t margins = node.trees->OutputWidth(OutputKind::kMargin);
  if (h.binary && margins != 1) return NodeError(node, index, "binary head needs one margin");
  if (!h.bias.empty()) RETURN_IF_ERROR(CheckSize(node, index, "tree bias", h.bias.size(), margins));
  if (h.post > TreePost::kProbit) return NodeError(node, index, "unknown tree post transform");
  if (out != TreeEnsembleWidth(node)) return NodeError(node, index, "tree output width differs");
  return OkStatus();
}

// Checks the node's shape rule; `in` is the width of input 0.
Status CheckKind(const Node& node, size_t index, const Graph& g, int64_t in, int64_t out) {
  switch (node.kind) {
    case OpKind::kDense:
    case OpKind::kQuantDense:
      RETURN_IF_ERROR(CheckArity(node, index, 1));
      return CheckDense(node, index, in, out);
    case OpKind::kAffine:
      RETURN_IF_ERROR(CheckArity(node, index, 1));
      RETURN_IF_ERROR(CheckSize(node, index, "scale", node.scale.size(), out));
      RETURN_IF_ERROR(CheckSize(node, index, "shift", node.shift.size(), out));
      break;
    case OpKind::kBinary:
      RETURN_IF_ERROR(CheckArity(node, index, 2));
      if (g.widths[node.inputs[1]] != in) return NodeError(node, index, "input widths differ");
      break;
    case OpKind::kConcat: {
      if (node.inputs.empty()) return NodeError(node, index, "concat without inputs");
      int64_t sum = 0;
      for (int v : node.inputs) sum += g.widths[v];
      if (sum != out) return NodeError(node, index, "concat width is not the sum of its inputs");
      return OkStatus();
    }
    case OpKind::kActivation:
    case OpKind::kSoftmax:
    case OpKind::kNormalize:
      RETURN_IF_ERROR(CheckArity(node, index, 1));
      break;
    case OpKind::kTreeEnsemble:
      return CheckTrees(node, index, in, out);
    default:
      return NodeError(node, index, "unknown op kind");
  }
  if (in != out) return NodeError(node, index, "output width differs from input width");
  return OkStatus();
}

Status CheckActivation(const Node& node, size_t index) {
  if (static_cast<int>(node.act.kind) > static_cast<int>(Activation::kClip)) {
    return NodeError(node, index, "unknown activation");
  }
  if (!std::isfinite(node.act.alpha) && node.act.kind == Activation::kLeakyRelu) {
    return NodeError(node, index, "LeakyRelu alpha not finite");
  }
  if (node.act.kind == Activation::kClip && !(node.act.alpha <= node.act.beta)) {
    return NodeError(node, index, "Clip min > max");
  }
  return OkStatus();
}

Status CheckNode(const Graph& g, size_t index, std::vector<bool>* defined) {
  const Node& node = g.nodes[index];
  const int num_values = static_cast<int>(g.widths.size());
  for (int v : node.inputs) {
    if (v < 0 || v >= num_values || !(*defined)[v]) {
      return NodeError(node, index, "input value " + std::to_string(v) + " is not defined before");
    }
  }
  if (node.output <= 0 || node.output >= num_values || (*defined)[node.output]) {
    return NodeError(
        node, index,
        "output value " + std::to_string(node.output) + " is out of range or defined twice");
  }
  (*defined)[node.output] = true;
  RETURN_IF_ERROR(CheckActivation(node, index));
  if (node.inputs.empty()) return NodeError(node, index, "node without inputs");
  return CheckKind(node, index, g, g.widths[node.inputs[0]], g.widths[node.output]);
}

}  // namespace

float ApplyActivation(const ActivationSpec& spec, float x) {
  switch (spec.kind) {
    case Activation::kNone:
      return x;
    case Activation::kRelu:
      return x > 0 ? x : 0.0f;
    case Activation::kLeakyRelu:
      return x < 0 ? spec.alpha * x : x;
    case Activation::kSigmoid:
      return 1.0f / (1.0f + std::exp(-x));
    case Activation::kTanh:
      return std::tanh(x);
    case Activation::kGelu:
      return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f));
    case Activation::kGeluTanh: {
      const float inner = 0.79788456080286536f * (x + 0.044715f * x * x * x);
      return 0.5f * x * (1.0f + std::tanh(inner));
    }
    case Activation::kClip:
      return std::fmin(std::fmax(x, spec.alpha), spec.beta);
  }
  return x;
}

int64_t TreeEnsembleWidth(const Node& node) {
  return node.tree_head.binary ? 2 : node.trees->OutputWidth(OutputKind::kMargin);
}

Status ValidateGraph(const Graph& g) {
  if (g.widths.empty()) return InvalidArgumentError("dense graph has no values");
  for (size_t v = 0; v < g.widths.size(); ++v) {
    if (g.widths[v] <= 0 || g.widths[v] > kMaxWidth) {
      return InvalidArgumentError("dense graph value " + std::to_string(v) + " has width " +
                                  std::to_string(g.widths[v]) + " (must be in [1, 2^24])");
    }
  }
  std::vector<bool> defined(g.widths.size(), false);
  defined[0] = true;
  for (size_t i = 0; i < g.nodes.size(); ++i) RETURN_IF_ERROR(CheckNode(g, i, &defined));
  if (g.output < 0 || g.output >= static_cast<int>(g.widths.size()) || !defined[g.output]) {
    return InvalidArgumentError("dense graph output value " + std::to_string(g.output) +
                                " is not defined");
  }
  return OkStatus();
}

size_t GraphBytes(const Graph& g) {
  size_t bytes = 0;
  for (const Node& n : g.nodes) {
    bytes += sizeof(float) * (n.weights.size() + n.bias.size() + n.weight_scale.size() +
                              n.scale.size() + n.shift.size());
    bytes += n.qweights.size();
    if (n.trees != nullptr) bytes += n.trees->MemoryBytes();
  }
  return bytes;
}

int64_t GraphMacsPerRow(const Graph& g) {
  int64_t macs = 0;
  for (const Node& n : g.nodes) {
    if (n.kind == OpKind::kDense || n.kind == OpKind::kQuantDense) {
      macs += g.widths[n.inputs[0]] * g.widths[n.output];
    }
  }
  return macs;
}

}  // namespace hotpath::dense
