#include "optimize/transforms.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "runtime/dense/dense_model.h"

namespace hotpath::optimize {
namespace {

using dense::Graph;
using dense::Node;
using dense::OpKind;

void QuantizeWeights(const Graph& g, Node* n) {
  const int64_t k = g.widths[n->inputs[0]], cols = g.widths[n->output];
  n->weight_scale.assign(cols, 0.0f);
  for (int64_t i = 0; i < k; ++i) {
    for (int64_t j = 0; j < cols; ++j) {
      n->weight_scale[j] = std::max(n->weight_scale[j], std::fabs(n->weights[i * cols + j]));
    }
  }
  for (float& s : n->weight_scale) s /= 127.0f;
  n->qweights.resize(k * cols);
  for (int64_t i = 0; i < k; ++i) {
    for (int64_t j = 0; j < cols; ++j) {
      const float s = n->weight_scale[j];
      const float q = s > 0 ? std::nearbyint(n->weights[i * cols + j] / s) : 0.0f;
      n->qweights[i * cols + j] = static_cast<int8_t>(std::clamp(q, -127.0f, 127.0f));
    }
  }
  n->weights.clear();
  n->kind = OpKind::kQuantDense;
}

// Max |value| of `value` over the calibration rows, by running the fp32 graph
// truncated at that value.
Result<float> MaxAbsActivation(const Graph& g, int value, const QuantizeOptions& o) {
  Graph head = g;
  head.output = value;
  ASSIGN_OR_RETURN(auto model, dense::DenseModel::Create(head, {}));
  std::vector<float> out(o.calibration_rows * g.widths[value]);
  RETURN_IF_ERROR(
      model->Predict(o.calibration_x, o.calibration_rows, OutputKind::kValue, out.data()));
  float m = 0;
  for (float v : out) m = std::max(m, std::fabs(v));
  return m;
}

// Importance of each hidden neuron between `in` (producing it) and `out`.
std::vector<double> Importance(const Node& in, const Node& out, int64_t k, int64_t h, int64_t n) {
  std::vector<double> a(h, 0.0), b(h, 0.0), imp(h);
  for (int64_t i = 0; i < k; ++i) {
    for (int64_t j = 0; j < h; ++j) a[j] += double{in.weights[i * h + j]} * in.weights[i * h + j];
  }
  for (int64_t j = 0; j < h; ++j) {
    for (int64_t t = 0; t < n; ++t) b[j] += double{out.weights[j * n + t]} * out.weights[j * n + t];
    imp[j] = std::sqrt(a[j]) * std::sqrt(b[j]);
  }
  return imp;
}

// Keeps the hidden neurons `keep` (sorted) of the pair in -> out.
void KeepNeurons(Graph* g, Node* in, Node* out, const std::vector<int64_t>& keep) {
  const int64_t k = g->widths[in->inputs[0]], h = g->widths[in->output], n = g->widths[out->output];
  const int64_t m = static_cast<int64_t>(keep.size());
  std::vector<float> w_in(k * m), b_in(m), w_out(m * n);
  for (int64_t j = 0; j < m; ++j) {
    for (int64_t i = 0; i < k; ++i) w_in[i * m + j] = in->weights[i * h + keep[j]];
    b_in[j] = in->bias[keep[j]];
    for (int64_t t = 0; t < n; ++t) w_out[j * n + t] = out->weights[keep[j] * n + t];
  }
  in->weights = std::move(w_in);
  in->bias = std::move(b_in);
  out->weights = std::move(w_out);
  g->widths[in->output] = m;
}

int Readers(const Graph& g, int value) {
  int r = value == g.output ? 1 : 0;
  for (const Node& n : g.nodes)
    r += static_cast<int>(std::count(n.inputs.begin(), n.inputs.end(), value));
  return r;
}

Status CheckFraction(double f, const char* what) {
  if (f >= 0 && f < 1) return OkStatus();
  return InvalidArgumentError(std::string(what) + " must be in [0, 1), got " + std::to_string(f));
}

}  // namespace

Result<Graph> QuantizeInt8(const Graph& graph, const QuantizeOptions& options) {
  RETURN_IF_ERROR(dense::ValidateGraph(graph));
  if (options.calibrated && (options.calibration_x == nullptr || options.calibration_rows == 0)) {
    return InvalidArgumentError("calibrated quantisation needs calibration rows");
  }
  Graph q = graph;
  for (Node& n : q.nodes) {
    if (n.kind != OpKind::kDense) continue;
    if (options.calibrated) {
      ASSIGN_OR_RETURN(const float m, MaxAbsActivation(graph, n.inputs[0], options));
      n.input_scale = m / 127.0f;
    }
    QuantizeWeights(q, &n);
  }
  return q;
}

Result<Graph> PruneMagnitude(const Graph& graph, double sparsity) {
  RETURN_IF_ERROR(CheckFraction(sparsity, "sparsity"));
  Graph p = graph;
  for (Node& n : p.nodes) {
    if (n.kind != OpKind::kDense || n.weights.empty()) continue;
    std::vector<float> mags(n.weights.size());
    for (size_t i = 0; i < mags.size(); ++i) mags[i] = std::fabs(n.weights[i]);
    const size_t cut = static_cast<size_t>(sparsity * mags.size());
    if (cut == 0) continue;
    std::nth_element(mags.begin(), mags.begin() + (cut - 1), mags.end());
    const float threshold = mags[cut - 1];
    size_t zeroed = 0;
    for (float& w : n.weights) {
      if (std::fabs(w) <= threshold && zeroed < cut) w = 0.0f, ++zeroed;
    }
  }
  return p;
}

Result<Graph> PruneNeurons(const Graph& graph, double fraction) {
  RETURN_IF_ERROR(CheckFraction(fraction, "fraction"));
  RETURN_IF_ERROR(dense::ValidateGraph(graph));
  Graph p = graph;
  for (size_t i = 0; i + 1 < p.nodes.size(); ++i) {
    Node& in = p.nodes[i];
    Node& out = p.nodes[i + 1];
    if (in.kind != OpKind::kDense || out.kind != OpKind::kDense) continue;
    if (out.inputs[0] != in.output || Readers(p, in.output) != 1) continue;
    const int64_t k = p.widths[in.inputs[0]], h = p.widths[in.output], n = p.widths[out.output];
    const int64_t keep_n = std::max<int64_t>(1, h - static_cast<int64_t>(fraction * h));
    const std::vector<double> imp = Importance(in, out, k, h, n);
    std::vector<int64_t> order(h);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return imp[a] > imp[b]; });
    order.resize(keep_n);
    std::sort(order.begin(), order.end());
    KeepNeurons(&p, &in, &out, order);
  }
  RETURN_IF_ERROR(dense::ValidateGraph(p));
  return p;
}

}  // namespace hotpath::optimize
