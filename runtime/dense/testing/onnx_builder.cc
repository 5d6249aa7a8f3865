#include "runtime/dense/testing/onnx_builder.h"

namespace hotpath::dense::testing {

OnnxBuilder::OnnxBuilder(int64_t features, int opset, int ml_opset) {
  model_.set_ir_version(7);
  auto* o = model_.add_opset_import();
  o->set_domain("");
  o->set_version(opset);
  if (ml_opset > 0) {
    auto* m = model_.add_opset_import();
    m->set_domain("ai.onnx.ml");
    m->set_version(ml_opset);
  }
  auto* in = model_.mutable_graph()->add_input();
  in->set_name("x");
  auto* tt = in->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  tt->mutable_shape()->add_dim()->set_dim_param("N");
  tt->mutable_shape()->add_dim()->set_dim_value(features);
}

std::string OnnxBuilder::Const(const std::vector<int64_t>& dims, const std::vector<float>& v) {
  auto* t = model_.mutable_graph()->add_initializer();
  t->set_name("c" + std::to_string(counter_++));
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t->add_dims(d);
  // Alternate the two encodings an exporter may use.
  if (counter_ % 2 == 0) {
    t->set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4));
  } else {
    for (float f : v) t->add_float_data(f);
  }
  return t->name();
}

std::string OnnxBuilder::ConstInt(const std::vector<int64_t>& dims, const std::vector<int64_t>& v) {
  auto* t = model_.mutable_graph()->add_initializer();
  t->set_name("c" + std::to_string(counter_++));
  t->set_data_type(onnx::TensorProto::INT64);
  for (int64_t d : dims) t->add_dims(d);
  for (int64_t i : v) t->add_int64_data(i);
  return t->name();
}

std::string OnnxBuilder::Random(const std::vector<int64_t>& dims, float stddev,
                                std::mt19937_64* rng) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  std::normal_distribution<float> dist(0.0f, stddev);
  std::vector<float> v(n);
  for (float& f : v) f = dist(*rng);
  return Const(dims, v);
}

onnx::NodeProto* OnnxBuilder::Node(const std::string& op, const std::vector<std::string>& inputs,
                                   const std::string& domain) {
  auto* n = model_.mutable_graph()->add_node();
  n->set_op_type(op);
  n->set_domain(domain);
  n->set_name(op + "_" + std::to_string(counter_));
  for (const auto& i : inputs) n->add_input(i);
  n->add_output("v" + std::to_string(counter_++));
  return n;
}

void OnnxBuilder::Output(const std::string& name) {
  auto* out = model_.mutable_graph()->add_output();
  out->set_name(name);
  out->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
}

void SetAttr(onnx::NodeProto* n, const std::string& name, float f) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(f);
}
void SetAttr(onnx::NodeProto* n, const std::string& name, int64_t i) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(i);
}
void SetAttr(onnx::NodeProto* n, const std::string& name, const std::string& s) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(s);
}
void SetAttr(onnx::NodeProto* n, const std::string& name, const std::vector<float>& fs) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOATS);
  for (float f : fs) a->add_floats(f);
}

void SetInts(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& is) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t i : is) a->add_ints(i);
}
void SetStrings(onnx::NodeProto* n, const std::string& name, const std::vector<std::string>& ss) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRINGS);
  for (const auto& s : ss) a->add_strings(s);
}

void SetTreeAttrs(onnx::NodeProto* n, const std::vector<TreeNodeSpec>& nodes,
                  const std::vector<TreeWeightSpec>& weights, const std::string& prefix) {
  std::vector<int64_t> tree, id, feature, t, f, missing;
  std::vector<std::string> modes;
  std::vector<float> values;
  for (const TreeNodeSpec& s : nodes) {
    tree.push_back(s.tree);
    id.push_back(s.id);
    modes.push_back(s.mode);
    feature.push_back(s.feature);
    values.push_back(s.value);
    t.push_back(s.true_id);
    f.push_back(s.false_id);
    missing.push_back(s.missing_true);
  }
  SetInts(n, "nodes_treeids", tree);
  SetInts(n, "nodes_nodeids", id);
  SetStrings(n, "nodes_modes", modes);
  SetInts(n, "nodes_featureids", feature);
  SetAttr(n, "nodes_values", values);
  SetInts(n, "nodes_truenodeids", t);
  SetInts(n, "nodes_falsenodeids", f);
  SetInts(n, "nodes_missing_value_tracks_true", missing);
  std::vector<int64_t> wt, wn, wi;
  std::vector<float> ww;
  for (const TreeWeightSpec& w : weights) {
    wt.push_back(w.tree);
    wn.push_back(w.id);
    wi.push_back(w.target);
    ww.push_back(w.weight);
  }
  SetInts(n, prefix + "treeids", wt);
  SetInts(n, prefix + "nodeids", wn);
  SetInts(n, prefix + "ids", wi);
  SetAttr(n, prefix + "weights", ww);
}

}  // namespace hotpath::dense::testing
