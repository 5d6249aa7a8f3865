// A deliberately naive double-precision ONNX evaluator: the tests' oracle.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#include "runtime/dense/testing/onnx_builder.h"

namespace hotpath::dense::testing {
namespace {

struct Mat {
  int64_t r = 0, c = 0;
  std::vector<double> v;
  std::vector<int64_t> ints;  // integer constants (Reshape shapes)
  double at(int64_t i, int64_t j) const { return v[(r == 1 ? 0 : i) * c + (c == 1 ? 0 : j)]; }
};

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "reference evaluator: %s\n", what.c_str());
  std::abort();
}

Mat FromTensor(const onnx::TensorProto& t) {
  Mat m;
  std::vector<int64_t> d(t.dims().begin(), t.dims().end());
  m.r = d.size() == 2 ? d[0] : 1;
  m.c = d.empty() ? 1 : d.back();
  if (t.data_type() == onnx::TensorProto::INT64) {
    m.ints.assign(t.int64_data().begin(), t.int64_data().end());
    return m;
  }
  if (t.has_raw_data()) {
    std::vector<float> f(t.raw_data().size() / 4);
    std::memcpy(f.data(), t.raw_data().data(), f.size() * 4);
    m.v.assign(f.begin(), f.end());
  } else {
    m.v.assign(t.float_data().begin(), t.float_data().end());
  }
  return m;
}

const onnx::AttributeProto* Attr(const onnx::NodeProto& n, const char* name) {
  for (const auto& a : n.attribute()) {
    if (a.name() == name) return &a;
  }
  return nullptr;
}
double F(const onnx::NodeProto& n, const char* name, double def) {
  const auto* a = Attr(n, name);
  return a ? a->f() : def;
}
int64_t I(const onnx::NodeProto& n, const char* name, int64_t def) {
  const auto* a = Attr(n, name);
  return a ? a->i() : def;
}

template <typename Fn>
Mat Map(const Mat& a, Fn fn) {
  Mat y = a;
  for (double& x : y.v) x = fn(x);
  return y;
}

Mat Broadcast(const Mat& a, const Mat& b, const std::string& op) {
  Mat y;
  y.r = std::max(a.r, b.r);
  y.c = std::max(a.c, b.c);
  y.v.resize(y.r * y.c);
  for (int64_t i = 0; i < y.r; ++i) {
    for (int64_t j = 0; j < y.c; ++j) {
      const double u = a.at(i, j), w = b.at(i, j);
      y.v[i * y.c + j] = op == "Add" ? u + w : op == "Sub" ? u - w : op == "Mul" ? u * w : u / w;
    }
  }
  return y;
}

Mat Product(const Mat& a, const Mat& b, bool trans_b, double alpha) {
  const int64_t k = a.c, n = trans_b ? b.r : b.c;
  Mat y{a.r, n, std::vector<double>(a.r * n, 0.0), {}};
  for (int64_t i = 0; i < a.r; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t t = 0; t < k; ++t)
        s += a.v[i * k + t] * (trans_b ? b.v[j * b.c + t] : b.v[t * b.c + j]);
      y.v[i * n + j] = alpha * s;
    }
  }
  return y;
}

Mat RowWise(const Mat& a, const std::string& mode) {
  Mat y = a;
  for (int64_t i = 0; i < a.r; ++i) {
    double* row = &y.v[i * a.c];
    double m = -INFINITY, s = 0;
    for (int64_t j = 0; j < a.c; ++j) m = std::max(m, row[j]);
    if (mode == "softmax") {
      for (int64_t j = 0; j < a.c; ++j) s += (row[j] = std::exp(row[j] - m));
      for (int64_t j = 0; j < a.c; ++j) row[j] /= s;
      continue;
    }
    for (int64_t j = 0; j < a.c; ++j) s += mode == "L1" ? std::fabs(row[j]) : row[j] * row[j];
    const double norm = mode == "MAX" ? m : mode == "L1" ? s : std::sqrt(s);
    if (norm != 0) {
      for (int64_t j = 0; j < a.c; ++j) row[j] /= norm;
    }
  }
  return y;
}

Mat Activation(const onnx::NodeProto& n, const Mat& a, const std::map<std::string, Mat>& env) {
  const std::string& op = n.op_type();
  if (op == "Relu") return Map(a, [](double x) { return x > 0 ? x : 0; });
  if (op == "Sigmoid") return Map(a, [](double x) { return 1 / (1 + std::exp(-x)); });
  if (op == "Tanh") return Map(a, [](double x) { return std::tanh(x); });
  if (op == "LeakyRelu") {
    const double al = F(n, "alpha", 0.01);
    return Map(a, [al](double x) { return x < 0 ? al * x : x; });
  }
  if (op == "Gelu") {
    const auto* ap = Attr(n, "approximate");
    if (ap && ap->s() == "tanh") {
      return Map(a, [](double x) {
        return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
      });
    }
    return Map(a, [](double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); });
  }
  double lo = F(n, "min", -INFINITY), hi = F(n, "max", INFINITY);
  if (n.input_size() > 1 && !n.input(1).empty()) lo = env.at(n.input(1)).v[0];
  if (n.input_size() > 2 && !n.input(2).empty()) hi = env.at(n.input(2)).v[0];
  return Map(a, [lo, hi](double x) { return std::min(std::max(x, lo), hi); });
}

Mat BatchNorm(const onnx::NodeProto& n, const std::map<std::string, Mat>& env) {
  Mat y = env.at(n.input(0));
  const Mat &s = env.at(n.input(1)), &b = env.at(n.input(2)), &m = env.at(n.input(3)),
            &var = env.at(n.input(4));
  const double eps = F(n, "epsilon", 1e-5);
  for (int64_t i = 0; i < y.r; ++i) {
    for (int64_t j = 0; j < y.c; ++j) {
      double& x = y.v[i * y.c + j];
      x = (x - m.v[j]) / std::sqrt(var.v[j] + eps) * s.v[j] + b.v[j];
    }
  }
  return y;
}

Mat Scaler(const onnx::NodeProto& n, Mat y) {
  const auto *off = Attr(n, "offset"), *sc = Attr(n, "scale");
  for (int64_t i = 0; i < y.r; ++i) {
    for (int64_t j = 0; j < y.c; ++j) {
      const double o = off ? off->floats(off->floats_size() == 1 ? 0 : j) : 0.0;
      const double s = sc ? sc->floats(sc->floats_size() == 1 ? 0 : j) : 1.0;
      y.v[i * y.c + j] = (y.v[i * y.c + j] - o) * s;
    }
  }
  return y;
}

Mat Concat(const onnx::NodeProto& n, const std::map<std::string, Mat>& env) {
  Mat y;
  y.r = env.at(n.input(0)).r;
  for (const auto& in : n.input()) y.c += env.at(in).c;
  y.v.resize(y.r * y.c);
  int64_t col = 0;
  for (const auto& in : n.input()) {
    const Mat& a = env.at(in);
    for (int64_t i = 0; i < y.r; ++i) {
      for (int64_t j = 0; j < a.c; ++j) y.v[i * y.c + col + j] = a.v[i * a.c + j];
    }
    col += a.c;
  }
  return y;
}

Mat Gemm(const onnx::NodeProto& n, const std::map<std::string, Mat>& env) {
  Mat y =
      Product(env.at(n.input(0)), env.at(n.input(1)), I(n, "transB", 0) != 0, F(n, "alpha", 1.0));
  if (n.input_size() < 3) return y;
  const Mat beta_c = Map(env.at(n.input(2)), [&](double x) { return F(n, "beta", 1.0) * x; });
  return Broadcast(y, beta_c, "Add");
}

// ---- Tree ensembles, read as the ONNX reference evaluator reads them.

std::vector<int64_t> Ints(const onnx::NodeProto& n, const std::string& name) {
  const auto* a = Attr(n, name.c_str());
  return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : std::vector<int64_t>();
}

// A FLOATS attribute or its `_as_tensor` form (float or double), as doubles.
std::vector<double> Reals(const onnx::NodeProto& n, const std::string& name) {
  if (const auto* a = Attr(n, name.c_str())) return {a->floats().begin(), a->floats().end()};
  const auto* a = Attr(n, (name + "_as_tensor").c_str());
  if (a == nullptr) return {};
  const onnx::TensorProto& t = a->t();
  if (t.data_type() == onnx::TensorProto::DOUBLE) {
    if (!t.has_raw_data()) return {t.double_data().begin(), t.double_data().end()};
    std::vector<double> d(t.raw_data().size() / 8);
    std::memcpy(d.data(), t.raw_data().data(), d.size() * 8);
    return d;
  }
  const Mat m = FromTensor(t);
  return m.v;
}

double Probit(double p) {
  const double y = 2 * p - 1, x = (1 - y) * (1 + y);
  if (x == 0) return 0;
  const double l = std::log(x), v = 2 / (M_PI * 0.147) + 0.5 * l;
  return std::sqrt(2.0) * (y < 0 ? -1 : 1) * std::sqrt(-v + std::sqrt(v * v - l / 0.147));
}

void PostTransform(const std::string& post, double* row, int64_t c) {
  const double m = *std::max_element(row, row + c);
  double s = 0;
  for (int64_t j = 0; j < c; ++j) {
    double& v = row[j];
    if (post == "LOGISTIC") v = 1 / (1 + std::exp(-v));
    if (post == "PROBIT") v = Probit(v);
    if (post == "SOFTMAX") s += (v = std::exp(v - m));
    if (post == "SOFTMAX_ZERO") s += (v = std::fabs(v) > 1e-7 ? std::exp(v - m) : v * std::exp(-m));
  }
  if (post != "SOFTMAX" && post != "SOFTMAX_ZERO") return;
  for (int64_t j = 0; j < c; ++j) row[j] = s == 0 ? 0.5 : row[j] / s;
}

bool Goes(const std::string& mode, double x, double t) {
  if (mode == "BRANCH_LEQ") return x <= t;
  if (mode == "BRANCH_LT") return x < t;
  if (mode == "BRANCH_GTE") return x >= t;
  if (mode == "BRANCH_GT") return x > t;
  if (mode == "BRANCH_EQ") return x == t;
  if (mode == "BRANCH_NEQ") return x != t;
  Fail("unknown mode " + mode);
}

// The scores output: per row, every tree's leaf weights summed (from
// base_values for a classifier), AVERAGE, base_values after it for a
// regressor, the binary expansion, post_transform.
Mat TreeScores(const onnx::NodeProto& n, const Mat& x) {
  const bool cls = n.op_type() == "TreeEnsembleClassifier";
  const std::vector<int64_t> tree = Ints(n, "nodes_treeids"), id = Ints(n, "nodes_nodeids"),
                             feat = Ints(n, "nodes_featureids"), tid = Ints(n, "nodes_truenodeids"),
                             fid = Ints(n, "nodes_falsenodeids"),
                             miss = Ints(n, "nodes_missing_value_tracks_true");
  const std::vector<double> th = Reals(n, "nodes_values");
  const auto* modes = Attr(n, "nodes_modes");
  const std::string p = cls ? "class_" : "target_";
  const std::vector<int64_t> wt = Ints(n, p + "treeids"), wn = Ints(n, p + "nodeids"),
                             wi = Ints(n, p + "ids");
  const std::vector<double> ww = Reals(n, p + "weights"), base = Reals(n, "base_values");
  std::map<std::pair<int64_t, int64_t>, size_t> index;
  std::map<int64_t, size_t> roots;
  for (size_t i = 0; i < tree.size(); ++i) {
    index[{tree[i], id[i]}] = i;
    roots.emplace(tree[i], i);
  }
  const auto* strings = Attr(n, "classlabels_strings");
  const int64_t outs = !cls      ? I(n, "n_targets", 1)
                       : strings ? strings->strings_size()
                                 : static_cast<int64_t>(Ints(n, "classlabels_int64s").size());
  std::string post = "NONE";
  if (const auto* a = Attr(n, "post_transform")) post = a->s();
  bool binary = cls && !wi.empty();
  for (int64_t c : wi) binary = binary && c == wi[0];
  Mat y{x.r, binary ? 2 : outs, {}, {}};
  for (int64_t r = 0; r < x.r; ++r) {
    std::vector<double> res(outs, 0.0);
    for (int64_t o = 0; o < outs && cls && !base.empty(); ++o)
      res[o] = base[base.size() == 1 ? 0 : o];
    for (const auto& [t, root] : roots) {
      size_t i = root;
      while (modes->strings(i) != "LEAF") {
        const double v = x.v[r * x.c + feat[i]];
        const bool go = std::isnan(v) ? miss[i] >= 1 : Goes(modes->strings(i), v, th[i]);
        i = index.at({t, go ? tid[i] : fid[i]});
      }
      for (size_t k = 0; k < wt.size(); ++k) {
        if (wt[k] == t && wn[k] == id[i]) res[wi[k]] += ww[k];
      }
    }
    if (!cls && Attr(n, "aggregate_function") && Attr(n, "aggregate_function")->s() == "AVERAGE") {
      for (double& v : res) v /= static_cast<double>(roots.size());
    }
    for (int64_t o = 0; o < outs && !cls && !base.empty(); ++o)
      res[o] += base[base.size() == 1 ? 0 : o];
    if (binary) res = {post == "NONE" || post == "PROBIT" ? 1 - res[0] : -res[0], res[0]};
    PostTransform(post, res.data(), y.c);
    y.v.insert(y.v.end(), res.begin(), res.end());
  }
  return y;
}

Mat Eval(const onnx::NodeProto& n, const std::map<std::string, Mat>& env) {
  const std::string& op = n.op_type();
  if (op == "Constant") return FromTensor(Attr(n, "value")->t());
  const Mat& a = env.at(n.input(0));
  if (op == "Gemm") return Gemm(n, env);
  if (op == "MatMul") return Product(a, env.at(n.input(1)), false, 1.0);
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div")
    return Broadcast(a, env.at(n.input(1)), op);
  if (op == "Relu" || op == "Sigmoid" || op == "Tanh" || op == "LeakyRelu" || op == "Gelu" ||
      op == "Clip") {
    return Activation(n, a, env);
  }
  if (op == "Softmax") return RowWise(a, "softmax");
  if (op == "Normalizer") return RowWise(a, Attr(n, "norm")->s());
  if (op == "Identity" || op == "Dropout" || op == "Flatten" || op == "Reshape" || op == "Cast" ||
      op == "ZipMap")
    return a;
  if (op == "TreeEnsembleRegressor" || op == "TreeEnsembleClassifier") return TreeScores(n, a);
  if (op == "Concat") return Concat(n, env);
  if (op == "BatchNormalization") return BatchNorm(n, env);
  if (op == "Scaler") return Scaler(n, a);
  Fail("unknown op " + op);
}

}  // namespace

std::vector<double> EvaluateOnnx(const onnx::ModelProto& model, const std::vector<float>& x,
                                 int64_t rows, int64_t* width, const std::string& output) {
  std::map<std::string, Mat> env;
  for (const auto& t : model.graph().initializer()) env[t.name()] = FromTensor(t);
  Mat in;
  in.r = rows;
  in.c = static_cast<int64_t>(x.size()) / rows;
  in.v.assign(x.begin(), x.end());
  env[model.graph().input(0).name()] = in;
  for (const auto& n : model.graph().node()) {
    // A classifier's scores are its second output (the label is not evaluated).
    env[n.op_type() == "TreeEnsembleClassifier" ? n.output(1) : n.output(0)] = Eval(n, env);
  }
  const Mat& out = env.at(output.empty() ? model.graph().output(0).name() : output);
  *width = out.c;
  return out.v;
}

}  // namespace hotpath::dense::testing
