#include "runtime/dense/onnx_import.h"

#include <onnx/onnx_pb.h>

#include <cmath>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "runtime/dense/internal/onnx_tensor.h"
#include "runtime/dense/internal/onnx_tree_ensemble.h"

namespace hotpath::dense {
namespace {

using internal::AttrF;
using internal::AttrI;
using internal::AttrS;
using internal::ConstTensor;
using internal::FindAttr;
using internal::ReadTensor;

constexpr int64_t kMinOpset = 7;
constexpr int64_t kMaxOpset = 20;

// A named ONNX value: a graph value (id) or a constant.
struct Operand {
  int value = -1;  // -1: constant
  ConstTensor constant;
  bool is_const() const { return value < 0; }
};

class Importer {
 public:
  explicit Importer(const onnx::ModelProto& model) : model_(model) {}
  Result<Graph> Run();

 private:
  using Handler = Status (Importer::*)(const onnx::NodeProto&);

  Status ReadOpsets();
  Status ReadInitializers();
  Status ReadInput();
  Status ReadOutput();
  void CountUses();
  Status ImportNode(const onnx::NodeProto& node);
  Handler FindHandler(const onnx::NodeProto& node) const;

  // Ops.
  Status Gemm(const onnx::NodeProto& node);
  Status MatMul(const onnx::NodeProto& node);
  Status Arith(const onnx::NodeProto& node);
  Status Act(const onnx::NodeProto& node);
  Status Clip(const onnx::NodeProto& node);
  Status Softmax(const onnx::NodeProto& node);
  Status Alias(const onnx::NodeProto& node);
  Status Flatten(const onnx::NodeProto& node);
  Status Reshape(const onnx::NodeProto& node);
  Status Cast(const onnx::NodeProto& node);
  Status Concat(const onnx::NodeProto& node);
  Status BatchNorm(const onnx::NodeProto& node);
  Status ConstantNode(const onnx::NodeProto& node);
  Status Scaler(const onnx::NodeProto& node);
  Status Normalizer(const onnx::NodeProto& node);
  Status TreeEnsemble(const onnx::NodeProto& node);
  Status ZipMap(const onnx::NodeProto& node);

  // Helpers.
  Status Error(const onnx::NodeProto& node, const std::string& what) const;
  Status CheckAttrs(const onnx::NodeProto& node, std::initializer_list<const char*> known) const;
  Status CheckArity(const onnx::NodeProto& node, int min_in, int max_in) const;
  Result<const Operand*> Input(const onnx::NodeProto& node, int i) const;
  Result<int> ValueInput(const onnx::NodeProto& node, int i) const;
  Result<std::vector<float>> RowVector(const onnx::NodeProto& node, const ConstTensor& c,
                                       int64_t width) const;
  int AddValue(int64_t width);
  // Bind a node's output name to a new value, or to an existing one (a fold
  // or a shape-only op); `reads_` counts each value's pending readers.
  void BindNew(const std::string& name, int value);
  void BindAlias(const std::string& name, int value);
  void Bind(const onnx::NodeProto& node, int value) { BindNew(node.output(0), value); }
  Node* FoldableDense(int value);
  Status EmitDense(const onnx::NodeProto& node, int in, std::vector<float> w, std::vector<float> b,
                   int64_t n);
  Status EmitAffine(const onnx::NodeProto& node, int in, std::vector<float> scale,
                    std::vector<float> shift);
  Status EmitActivation(const onnx::NodeProto& node, ActivationSpec act);
  int64_t opset(const onnx::NodeProto& node) const {
    return node.domain() == "ai.onnx.ml" ? ml_opset_ : opset_;
  }

  const onnx::ModelProto& model_;
  int64_t opset_ = 0;
  int64_t ml_opset_ = 0;
  Graph g_;
  std::map<std::string, Operand> values_;
  std::map<std::string, int> uses_;
  std::vector<int> producer_;  // node index per value id, -1 for the input
  // Per value id: node inputs still to read it, through any of its names.
  std::vector<int> reads_;
  // Names of a tree classifier's label output and its aliases: not served.
  std::set<std::string> labels_;
};

Status Importer::Error(const onnx::NodeProto& node, const std::string& what) const {
  const std::string domain = node.domain().empty() ? "" : node.domain() + ".";
  return InvalidArgumentError("ONNX node '" + node.name() + "' (" + domain + node.op_type() +
                              ", opset " + std::to_string(opset(node)) + "): " + what);
}

Status Importer::CheckAttrs(const onnx::NodeProto& node,
                            std::initializer_list<const char*> known) const {
  for (const auto& a : node.attribute()) {
    bool ok = false;
    for (const char* k : known) ok = ok || a.name() == k;
    if (!ok) return Error(node, "unsupported attribute '" + a.name() + "'");
  }
  return OkStatus();
}

Status Importer::CheckArity(const onnx::NodeProto& node, int min_in, int max_in) const {
  if (node.input_size() < min_in || node.input_size() > max_in) {
    return Error(node, "has " + std::to_string(node.input_size()) + " inputs");
  }
  if (node.output_size() < 1) return Error(node, "has no output");
  for (int i = 1; i < node.output_size(); ++i) {
    if (!node.output(i).empty() && uses_.count(node.output(i)) != 0) {
      return Error(node, "output " + std::to_string(i) + " is used (only output 0 is supported)");
    }
  }
  return OkStatus();
}

Result<const Operand*> Importer::Input(const onnx::NodeProto& node, int i) const {
  if (i >= node.input_size() || node.input(i).empty()) return Error(node, "missing input");
  auto it = values_.find(node.input(i));
  if (it == values_.end()) return Error(node, "input '" + node.input(i) + "' is undefined");
  return &it->second;
}

Result<int> Importer::ValueInput(const onnx::NodeProto& node, int i) const {
  ASSIGN_OR_RETURN(const Operand* op, Input(node, i));
  if (op->is_const()) return Error(node, "input '" + node.input(i) + "' must not be a constant");
  return op->value;
}

// A constant broadcast along the columns of a [rows, width] value.
Result<std::vector<float>> Importer::RowVector(const onnx::NodeProto& node, const ConstTensor& c,
                                               int64_t width) const {
  if (c.is_int) return Error(node, "integer constant");
  int64_t non_unit = 0;
  for (size_t d = 0; d < c.dims.size(); ++d) {
    if (c.dims[d] != 1 && (d + 1 != c.dims.size() || c.dims[d] != width)) non_unit = 1;
  }
  if (non_unit || c.dims.size() > 2 || (c.numel() != 1 && c.numel() != width)) {
    return Error(node, "constant does not broadcast to [rows, " + std::to_string(width) + "]");
  }
  if (c.numel() == 1) return std::vector<float>(width, c.f[0]);
  return c.f;
}

void Importer::BindNew(const std::string& name, int value) {
  values_[name].value = value;
  const auto it = uses_.find(name);
  reads_[value] = it == uses_.end() ? 0 : it->second;
}

void Importer::BindAlias(const std::string& name, int value) {
  values_[name].value = value;
  const auto it = uses_.find(name);
  // The aliasing node's own read is replaced by the readers of the new name.
  reads_[value] += (it == uses_.end() ? 0 : it->second) - 1;
}

int Importer::AddValue(int64_t width) {
  g_.widths.push_back(width);
  producer_.push_back(static_cast<int>(g_.nodes.size()));
  reads_.push_back(0);
  return static_cast<int>(g_.widths.size()) - 1;
}

// The Dense node producing `value` when a linear op or activation may fold
// into it: it is the latest node, has no activation and no other reader.
Node* Importer::FoldableDense(int value) {
  if (value <= 0 || g_.nodes.empty() || producer_[value] != static_cast<int>(g_.nodes.size()) - 1) {
    return nullptr;
  }
  Node& n = g_.nodes.back();
  if (n.kind != OpKind::kDense || n.act.kind != Activation::kNone) return nullptr;
  return reads_[value] == 1 ? &n : nullptr;
}

Status Importer::EmitDense(const onnx::NodeProto& node, int in, std::vector<float> w,
                           std::vector<float> b, int64_t n) {
  Node d;
  d.kind = OpKind::kDense;
  d.name = node.name();
  d.inputs = {in};
  d.weights = std::move(w);
  d.bias = std::move(b);
  d.output = AddValue(n);
  g_.nodes.push_back(std::move(d));
  Bind(node, g_.nodes.back().output);
  return OkStatus();
}

Status Importer::EmitAffine(const onnx::NodeProto& node, int in, std::vector<float> scale,
                            std::vector<float> shift) {
  if (Node* d = FoldableDense(in)) {
    const int64_t n = static_cast<int64_t>(scale.size());
    for (size_t k = 0; k < d->weights.size(); ++k) d->weights[k] *= scale[k % n];
    for (int64_t j = 0; j < n; ++j) d->bias[j] = d->bias[j] * scale[j] + shift[j];
    BindAlias(node.output(0), in);
    return OkStatus();
  }
  Node a;
  a.kind = OpKind::kAffine;
  a.name = node.name();
  a.inputs = {in};
  a.scale = std::move(scale);
  a.shift = std::move(shift);
  a.output = AddValue(g_.widths[in]);
  g_.nodes.push_back(std::move(a));
  Bind(node, g_.nodes.back().output);
  return OkStatus();
}

Status Importer::EmitActivation(const onnx::NodeProto& node, ActivationSpec act) {
  ASSIGN_OR_RETURN(const int in, ValueInput(node, 0));
  if (Node* d = FoldableDense(in)) {
    d->act = act;
    BindAlias(node.output(0), in);
    return OkStatus();
  }
  Node a;
  a.kind = OpKind::kActivation;
  a.name = node.name();
  a.inputs = {in};
  a.act = act;
  a.output = AddValue(g_.widths[in]);
  g_.nodes.push_back(std::move(a));
  Bind(node, g_.nodes.back().output);
  return OkStatus();
}

Status Importer::Gemm(const onnx::NodeProto& node) {
  RETURN_IF_ERROR(CheckAttrs(node, {"alpha", "beta", "transA", "transB"}));
  RETURN_IF_ERROR(CheckArity(node, 2, 3));
  if (AttrI(node, "transA", 0) != 0) return Error(node, "transA=1 is not supported");
  ASSIGN_OR_RETURN(const int in, ValueInput(node, 0));
  ASSIGN_OR_RETURN(const Operand* b, Input(node, 1));
  if (!b->is_const() || b->constant.dims.size() != 2 || b->constant.is_int) {
    return Error(node, "B must be a 2-D float constant");
  }
  const bool trans = AttrI(node, "transB", 0) != 0;
  const int64_t k = b->constant.dims[trans ? 1 : 0], n = b->constant.dims[trans ? 0 : 1];
  if (k != g_.widths[in])
    return Error(node, "B has " + std::to_string(k) + " rows for input width " +
                           std::to_string(g_.widths[in]));
  if (n <= 0) return Error(node, "B has no columns");
  const float alpha = AttrF(node, "alpha", 1.0f), beta = AttrF(node, "beta", 1.0f);
  std::vector<float> w(k * n);
  for (int64_t i = 0; i < k; ++i) {
    for (int64_t j = 0; j < n; ++j)
      w[i * n + j] = alpha * b->constant.f[trans ? j * k + i : i * n + j];
  }
  std::vector<float> bias(n, 0.0f);
  if (node.input_size() == 3 && !node.input(2).empty()) {
    ASSIGN_OR_RETURN(const Operand* c, Input(node, 2));
    if (!c->is_const()) return Error(node, "C must be a constant");
    ASSIGN_OR_RETURN(bias, RowVector(node, c->constant, n));
    for (float& v : bias) v *= beta;
  }
  return EmitDense(node, in, std::move(w), std::move(bias), n);
}

Status Importer::MatMul(const onnx::NodeProto& node) {
  RETURN_IF_ERROR(CheckAttrs(node, {}));
  RETURN_IF_ERROR(CheckArity(node, 2, 2));
  ASSIGN_OR_RETURN(const int in, ValueInput(node, 0));
  ASSIGN_OR_RETURN(const Operand* b, Input(node, 1));
  if (!b->is_const() || b->constant.dims.size() != 2 || b->constant.is_int) {
    return Error(node, "the right operand must be a 2-D float constant");
  }
  const int64_t k = b->constant.dims[0], n = b->constant.dims[1];
  if (k != g_.widths[in] || n <= 0)
    return Error(node, "weight shape does not match the input width");
  return EmitDense(node, in, b->constant.f, std::vector<float>(n, 0.0f), n);
}

Status Importer::Arith(const onnx::NodeProto& node) {
  RETURN_IF_ERROR(CheckAttrs(node, {}));
  RETURN_IF_ERROR(CheckArity(node, 2, 2));
  ASSIGN_OR_RETURN(const Operand* a, Input(node, 0));
  ASSIGN_OR_RETURN(const Operand* b, Input(node, 1));
  const std::string& op = node.op_type();
  if (a->is_const() && b->is_const()) return Error(node, "both operands are constants");
  if (!a->is_const() && !b->is_const()) {
    if (g_.widths[a->value] != g_.widths[b->value]) return Error(node, "operand widths differ");
    Node n;
    n.kind = OpKind::kBinary;
    n.name = node.name();
    n.inputs = {a->value, b->value};
    n.binary = op == "Add"   ? BinaryOp::kAdd
               : op == "Sub" ? BinaryOp::kSub
               : op == "Mul" ? BinaryOp::kMul
                             : BinaryOp::kDiv;
    n.output = AddValue(g_.widths[a->value]);
    g_.nodes.push_back(std::move(n));
    Bind(node, g_.nodes.back().output);
    return OkStatus();
  }
  const bool const_first = a->is_const();
  const int in = const_first ? b->value : a->value;
  const int64_t w = g_.widths[in];
  ASSIGN_OR_RETURN(std::vector<float> c, RowVector(node, (const_first ? a : b)->constant, w));
  std::vector<float> scale(w, 1.0f), shift(w, 0.0f);
  if (op == "Add") {
    shift = c;
  } else if (op == "Mul") {
    scale = c;
  } else if (op == "Sub") {
    for (int64_t j = 0; j < w; ++j) {
      if (const_first) scale[j] = -1.0f;
      shift[j] = const_first ? c[j] : -c[j];
    }
  } else {
    if (const_first) return Error(node, "a constant divided by a value is not supported");
    for (int64_t j = 0; j < w; ++j) scale[j] = 1.0f / c[j];
  }
  return EmitAffine(node, in, std::move(scale), std::move(shift));
}

Status Importer::Act(const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  ActivationSpec act;
  if (op == "LeakyRelu") {
    RETURN_IF_ERROR(CheckAttrs(node, {"alpha"}));
    act = {Activation::kLeakyRelu, AttrF(node, "alpha", 0.01f), 0};
  } else if (op == "Gelu") {
    RETURN_IF_ERROR(CheckAttrs(node, {"approximate"}));
    const std::string approx = AttrS(node, "approximate", "none");
    if (approx != "none" && approx != "tanh") return Error(node, "approximate='" + approx + "'");
    act.kind = approx == "tanh" ? Activation::kGeluTanh : Activation::kGelu;
  } else {
    RETURN_IF_ERROR(CheckAttrs(node, {}));
    act.kind = op == "Relu"      ? Activation::kRelu
               : op == "Sigmoid" ? Activation::kSigmoid
                                 : Activation::kTanh;
  }
  RETURN_IF_ERROR(CheckArity(node, 1, 1));
  return EmitActivation(node, act);
}

Status Importer::Clip(const onnx::NodeProto& node) {
  ActivationSpec act{Activation::kClip, -std::numeric_limits<float>::infinity(),
                     std::numeric_limits<float>::infinity()};
  if (opset(node) < 11) {
    RETURN_IF_ERROR(CheckAttrs(node, {"min", "max"}));
    RETURN_IF_ERROR(CheckArity(node, 1, 1));
    act.alpha = AttrF(node, "min", act.alpha);
    act.beta = AttrF(node, "max", act.beta);
  } else {
    RETURN_IF_ERROR(CheckAttrs(node, {}));
    RETURN_IF_ERROR(CheckArity(node, 1, 3));
    for (int i = 1; i < node.input_size(); ++i) {
      if (node.input(i).empty()) continue;
      ASSIGN_OR_RETURN(const Operand* c, Input(node, i));
      if (!c->is_const() || c->constant.numel() != 1 || c->constant.is_int) {
        return Error(node, "min/max must be float scalar constants");
      }
      (i == 1 ? act.alpha : act.beta) = c->constant.f[0];
    }
  }
  if (!(act.alpha <= act.beta)) return Error(node, "min > max");
  return EmitActivation(node, act);
}

Status Importer::Softmax(const onnx::NodeProto& node) {
  RETURN_IF_ERROR(CheckAttrs(node, {"axis"}));
  RETURN_IF_ERROR(CheckArity(node, 1, 1));
  const int64_t axis = AttrI(node, "axis", opset(node) < 13 ? 1 : -1);
  if (axis != 1 && axis != -1)
    return Error(node, "axis " + std::to_string(axis) + " (only the last axis)");
  ASSIGN_OR_RETURN(const int in, ValueInput(node, 0));
  Node n;
  n.kind = OpKind::kSoftmax;
  n.name = node.name();
  n.inputs = {in};
  n.output = AddValue(g_.widths[in]);
  g_.nodes.push_back(std::move(n));
  Bind(node, g_.nodes.back().output);
  return OkStatus();
}

Status Importer::Alias(const onnx::NodeProto& node) {
  if (node.op_type() == "Dropout") {
    RETURN_IF_ERROR(CheckAttrs(node, {"ratio", "seed", "is_test"}));
    RETURN_IF_ERROR(CheckArity(node, 1, 3));
  } else {
    RETURN_IF_ERROR(CheckAttrs(node, {}));
    RETURN_IF_ERROR(CheckArity(node, 1, 1));
  }
  ASSIGN_OR_RETURN(const Operand* in, Input(node, 0));
  if (in->is_const()) {
    values_[node.output(0)] = *in;
  } else {
    BindAlias(node.output(0), in->value);
  }
  return OkStatus();
}

Status Importer::Flatten(const onnx::NodeProto& node) {
  RETURN_IF_ERROR(CheckAttrs(node, {"axis"}));
  RETURN_IF_ERROR(CheckArity(node, 1, 1));
  if (AttrI(node, "axis", 1) != 1) return Error(node, "only axis 1 keeps [rows, width]");
  ASSIGN_OR_RETURN(const int in, ValueInput(node, 0));
  BindAlias(node.output(0), in);
  return OkStatus();
}

Status Importer::Reshape(const onnx::NodeProto& node) {
  RETURN_IF_ERROR(CheckAttrs(node, {"allowzero"}));
  RETURN_IF_ERROR(CheckArity(node, 2, 2));
  ASSIGN_OR_RETURN(const int in, ValueInput(node, 0));
  ASSIGN_OR_RETURN(const Operand* shape, Input(node, 1));
  const int64_t w = g_.widths[in];
  if (!shape->is_const() || !shape->constant.is_int || shape->constant.i.size() != 2) {
    return Error(node, "shape must be a 2-element int64 constant");
  }
  const int64_t d0 = shape->constant.i[0], d1 = shape->constant.i[1];
  const bool zero_ok = AttrI(node, "allowzero", 0) == 0;
  const bool keeps =
      (d1 == w && (d0 == -1 || (d0 == 0 && zero_ok))) || (d1 == -1 && d0 == 0 && zero_ok);
  if (!keeps) return Error(node, "only reshapes that keep [rows, " + std::to_string(w) + "]");
  BindAlias(node.output(0), in);
  return OkStatus();
}

Status Importer::Cast(const onnx::NodeProto& node) {
  RETURN_IF_ERROR(CheckAttrs(node, {"to", "saturate"}));
  RETURN_IF_ERROR(CheckArity(node, 1, 1));
  if (AttrI(node, "to", 0) != onnx::TensorProto::FLOAT) return Error(node, "only casts to float");
  ASSIGN_OR_RETURN(const int in, ValueInput(node, 0));
  BindAlias(node.output(0), in);
  return OkStatus();
}

Status Importer::Concat(const onnx::NodeProto& node) {
  RETURN_IF_ERROR(CheckAttrs(node, {"axis"}));
  RETURN_IF_ERROR(CheckArity(node, 1, 1 << 16));
  const int64_t axis = AttrI(node, "axis", 0);
  if (axis != 1 && axis != -1) return Error(node, "only axis 1 (columns)");
  Node n;
  n.kind = OpKind::kConcat;
  n.name = node.name();
  int64_t width = 0;
  for (int i = 0; i < node.input_size(); ++i) {
    ASSIGN_OR_RETURN(const int v, ValueInput(node, i));
    n.inputs.push_back(v);
    width += g_.widths[v];
  }
  n.output = AddValue(width);
  g_.nodes.push_back(std::move(n));
  Bind(node, g_.nodes.back().output);
  return OkStatus();
}

Status Importer::BatchNorm(const onnx::NodeProto& node) {
  RETURN_IF_ERROR(CheckAttrs(node, {"epsilon", "momentum", "spatial", "training_mode"}));
  RETURN_IF_ERROR(CheckArity(node, 5, 5));
  if (AttrI(node, "training_mode", 0) != 0) return Error(node, "training_mode=1");
  ASSIGN_OR_RETURN(const int in, ValueInput(node, 0));
  const int64_t w = g_.widths[in];
  std::vector<float> p[4];
  for (int i = 0; i < 4; ++i) {
    ASSIGN_OR_RETURN(const Operand* c, Input(node, i + 1));
    if (!c->is_const()) return Error(node, "scale/bias/mean/var must be constants");
    ASSIGN_OR_RETURN(p[i], RowVector(node, c->constant, w));
  }
  const float eps = AttrF(node, "epsilon", 1e-5f);
  std::vector<float> scale(w), shift(w);
  for (int64_t j = 0; j < w; ++j) {
    if (!(p[3][j] + eps > 0)) return Error(node, "variance + epsilon is not positive");
    scale[j] = static_cast<float>(p[0][j] / std::sqrt(static_cast<double>(p[3][j]) + eps));
    shift[j] = p[1][j] - p[2][j] * scale[j];
  }
  return EmitAffine(node, in, std::move(scale), std::move(shift));
}

Status Importer::ConstantNode(const onnx::NodeProto& node) {
  RETURN_IF_ERROR(CheckAttrs(node, {"value"}));
  RETURN_IF_ERROR(CheckArity(node, 0, 0));
  const onnx::AttributeProto* a = FindAttr(node, "value");
  if (a == nullptr || !a->has_t()) return Error(node, "needs a 'value' tensor");
  ASSIGN_OR_RETURN(ConstTensor c, ReadTensor(a->t()));
  values_[node.output(0)] = Operand{-1, std::move(c)};
  return OkStatus();
}

Status Importer::Scaler(const onnx::NodeProto& node) {
  RETURN_IF_ERROR(CheckAttrs(node, {"offset", "scale"}));
  RETURN_IF_ERROR(CheckArity(node, 1, 1));
  ASSIGN_OR_RETURN(const int in, ValueInput(node, 0));
  const int64_t w = g_.widths[in];
  auto expand = [&](const char* name, float def, std::vector<float>* out) -> Status {
    const onnx::AttributeProto* a = FindAttr(node, name);
    const int n = a != nullptr ? a->floats_size() : 0;
    if (n != 0 && n != 1 && n != w) return Error(node, std::string(name) + " length mismatch");
    out->assign(w, def);
    for (int64_t j = 0; j < w && n > 0; ++j)
      (*out)[j] = a->floats(n == 1 ? 0 : static_cast<int>(j));
    return OkStatus();
  };
  std::vector<float> offset, scale;
  RETURN_IF_ERROR(expand("offset", 0.0f, &offset));
  RETURN_IF_ERROR(expand("scale", 1.0f, &scale));
  std::vector<float> shift(w);
  for (int64_t j = 0; j < w; ++j) shift[j] = -offset[j] * scale[j];
  return EmitAffine(node, in, std::move(scale), std::move(shift));
}

Status Importer::Normalizer(const onnx::NodeProto& node) {
  RETURN_IF_ERROR(CheckAttrs(node, {"norm"}));
  RETURN_IF_ERROR(CheckArity(node, 1, 1));
  const std::string norm = AttrS(node, "norm", "MAX");
  if (norm != "MAX" && norm != "L1" && norm != "L2") return Error(node, "norm '" + norm + "'");
  ASSIGN_OR_RETURN(const int in, ValueInput(node, 0));
  Node n;
  n.kind = OpKind::kNormalize;
  n.name = node.name();
  n.inputs = {in};
  n.norm = norm == "MAX" ? NormKind::kMax : norm == "L1" ? NormKind::kL1 : NormKind::kL2;
  n.output = AddValue(g_.widths[in]);
  g_.nodes.push_back(std::move(n));
  Bind(node, g_.nodes.back().output);
  return OkStatus();
}

// The trees run in the tree engine; the classifier's label output (output 0)
// is not served, its scores (output 1) are.
Status Importer::TreeEnsemble(const onnx::NodeProto& node) {
  const bool classifier = node.op_type() == "TreeEnsembleClassifier";
  if (node.input_size() != 1) {
    return Error(node, "has " + std::to_string(node.input_size()) + " inputs");
  }
  if (node.output_size() != (classifier ? 2 : 1)) {
    return Error(node, "has " + std::to_string(node.output_size()) + " outputs");
  }
  const std::string& scores = node.output(classifier ? 1 : 0);
  if (scores.empty()) return Error(node, "the scores output has no name");
  if (classifier && values_.count(scores) != 0) return Error(node, "redefines '" + scores + "'");
  ASSIGN_OR_RETURN(const int in, ValueInput(node, 0));
  Result<Node> n = internal::ImportTreeEnsemble(node, opset(node), g_.widths[in]);
  if (!n.ok()) return Error(node, n.status().message());
  n->name = node.name();
  n->inputs = {in};
  n->output = AddValue(TreeEnsembleWidth(*n));
  g_.nodes.push_back(std::move(n).value());
  if (classifier) labels_.insert(node.output(0));  // non-empty: ImportNode checks
  BindNew(scores, g_.nodes.back().output);
  return OkStatus();
}

// A map per row in ONNX; served as the probability tensor it is made from.
Status Importer::ZipMap(const onnx::NodeProto& node) {
  RETURN_IF_ERROR(CheckAttrs(node, {"classlabels_int64s", "classlabels_strings"}));
  RETURN_IF_ERROR(CheckArity(node, 1, 1));
  ASSIGN_OR_RETURN(const int in, ValueInput(node, 0));
  const onnx::AttributeProto* ints = FindAttr(node, "classlabels_int64s");
  const onnx::AttributeProto* strings = FindAttr(node, "classlabels_strings");
  const int labels = (ints ? ints->ints_size() : 0) + (strings ? strings->strings_size() : 0);
  if (labels != g_.widths[in]) {
    return Error(node, std::to_string(labels) + " class labels for " +
                           std::to_string(g_.widths[in]) + " columns");
  }
  BindAlias(node.output(0), in);
  return OkStatus();
}

Importer::Handler Importer::FindHandler(const onnx::NodeProto& node) const {
  static const std::map<std::string, Handler> kDefault = {
      {"Gemm", &Importer::Gemm},
      {"MatMul", &Importer::MatMul},
      {"Add", &Importer::Arith},
      {"Sub", &Importer::Arith},
      {"Mul", &Importer::Arith},
      {"Div", &Importer::Arith},
      {"Relu", &Importer::Act},
      {"LeakyRelu", &Importer::Act},
      {"Sigmoid", &Importer::Act},
      {"Tanh", &Importer::Act},
      {"Clip", &Importer::Clip},
      {"Softmax", &Importer::Softmax},
      {"Identity", &Importer::Alias},
      {"Dropout", &Importer::Alias},
      {"Flatten", &Importer::Flatten},
      {"Reshape", &Importer::Reshape},
      {"Cast", &Importer::Cast},
      {"Concat", &Importer::Concat},
      {"Constant", &Importer::ConstantNode},
      {"BatchNormalization", &Importer::BatchNorm}};
  const std::string& d = node.domain();
  if (d.empty() || d == "ai.onnx") {
    if (node.op_type() == "Gelu" && opset_ >= 20) return &Importer::Act;
    auto it = kDefault.find(node.op_type());
    return it == kDefault.end() ? nullptr : it->second;
  }
  static const std::map<std::string, Handler> kMl = {
      {"Scaler", &Importer::Scaler},
      {"Normalizer", &Importer::Normalizer},
      {"TreeEnsembleRegressor", &Importer::TreeEnsemble},
      {"TreeEnsembleClassifier", &Importer::TreeEnsemble},
      {"ZipMap", &Importer::ZipMap}};
  if (d == "ai.onnx.ml") {
    auto it = kMl.find(node.op_type());
    return it == kMl.end() ? nullptr : it->second;
  }
  if (d == "com.microsoft" && node.op_type() == "Gelu") return &Importer::Act;
  return nullptr;
}

Status Importer::ImportNode(const onnx::NodeProto& node) {
  const Handler h = FindHandler(node);
  if (h == nullptr) return Error(node, "unsupported op");
  if (node.output_size() < 1 || node.output(0).empty()) return Error(node, "has no output");
  if (values_.count(node.output(0)) != 0 || labels_.count(node.output(0)) != 0) {
    return Error(node, "redefines '" + node.output(0) + "'");
  }
  for (const std::string& in : node.input()) {
    if (labels_.count(in) == 0) continue;
    // Renaming the label keeps it an unserved output; computing on it is refused.
    const std::string& op = node.op_type();
    if (node.input_size() != 1 || (op != "Identity" && op != "Cast")) {
      return Error(node,
                   "reads the tree classifier's label output '" + in + "', which is not served");
    }
    labels_.insert(node.output(0));
    return OkStatus();
  }
  return (this->*h)(node);
}

Status Importer::ReadOpsets() {
  for (const auto& o : model_.opset_import()) {
    if (o.domain().empty() || o.domain() == "ai.onnx") opset_ = o.version();
    if (o.domain() == "ai.onnx.ml") ml_opset_ = o.version();
  }
  if (opset_ < kMinOpset || opset_ > kMaxOpset) {
    return InvalidArgumentError("ONNX model: default-domain opset " + std::to_string(opset_) +
                                " is outside the supported " + std::to_string(kMinOpset) + "-" +
                                std::to_string(kMaxOpset));
  }
  return OkStatus();
}

Status Importer::ReadInitializers() {
  for (const auto& t : model_.graph().initializer()) {
    ASSIGN_OR_RETURN(ConstTensor c, ReadTensor(t));
    values_[t.name()] = Operand{-1, std::move(c)};
  }
  return OkStatus();
}

Status Importer::ReadInput() {
  const onnx::GraphProto& graph = model_.graph();
  const onnx::ValueInfoProto* input = nullptr;
  for (const auto& in : graph.input()) {
    if (values_.count(in.name()) != 0) continue;  // an initializer listed as input
    if (input != nullptr) return InvalidArgumentError("ONNX model: more than one graph input");
    input = &in;
  }
  if (input == nullptr) return InvalidArgumentError("ONNX model: no graph input");
  const auto& type = input->type();
  if (!type.has_tensor_type() || type.tensor_type().elem_type() != onnx::TensorProto::FLOAT) {
    return InvalidArgumentError("ONNX model: input '" + input->name() + "' is not a float tensor");
  }
  const auto& shape = type.tensor_type().shape();
  if (shape.dim_size() != 2 || !shape.dim(1).has_dim_value() || shape.dim(1).dim_value() <= 0) {
    return InvalidArgumentError("ONNX model: input '" + input->name() +
                                "' must have shape [N, F] with F known");
  }
  g_.widths = {shape.dim(1).dim_value()};
  producer_ = {-1};
  g_.input_name = input->name();
  values_[input->name()].value = 0;
  reads_ = {uses_.count(input->name()) != 0 ? uses_.at(input->name()) : 0};
  return OkStatus();
}

// The one served output: every graph output but a tree classifier's label.
Status Importer::ReadOutput() {
  std::vector<const onnx::ValueInfoProto*> served;
  for (const auto& out : model_.graph().output()) {
    if (labels_.count(out.name()) == 0) served.push_back(&out);
  }
  if (served.size() != 1) {
    return InvalidArgumentError("ONNX model: " + std::to_string(served.size()) +
                                " graph outputs besides a tree classifier's label (exactly one "
                                "is supported)");
  }
  const std::string& name = served[0]->name();
  auto it = values_.find(name);
  if (it == values_.end() || it->second.is_const()) {
    return InvalidArgumentError("ONNX model: output '" + name + "' is not computed from the input");
  }
  g_.output = it->second.value;
  g_.output_name = name;
  return OkStatus();
}

void Importer::CountUses() {
  for (const auto& n : model_.graph().node()) {
    for (const auto& in : n.input()) ++uses_[in];
  }
  for (const auto& out : model_.graph().output()) ++uses_[out.name()];
}

Result<Graph> Importer::Run() {
  RETURN_IF_ERROR(ReadOpsets());
  RETURN_IF_ERROR(ReadInitializers());
  CountUses();
  RETURN_IF_ERROR(ReadInput());
  g_.output = -1;
  for (const auto& node : model_.graph().node()) RETURN_IF_ERROR(ImportNode(node));
  RETURN_IF_ERROR(ReadOutput());
  RETURN_IF_ERROR(ValidateGraph(g_));
  return std::move(g_);
}

}  // namespace

Result<Graph> ImportOnnx(std::string_view bytes) {
  onnx::ModelProto model;
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return InvalidArgumentError("not a valid ONNX ModelProto");
  }
  Importer importer(model);
  return importer.Run();
}

}  // namespace hotpath::dense
