// Test helpers: ONNX models built with the ONNX protobuf API (independently of
// the importer) and a double-precision reference evaluator of such models.
#ifndef HOTPATH_RUNTIME_DENSE_TESTING_ONNX_BUILDER_H_
#define HOTPATH_RUNTIME_DENSE_TESTING_ONNX_BUILDER_H_

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace hotpath::dense::testing {

class OnnxBuilder {
 public:
  // A model with one float input "x" of shape [N, features].
  OnnxBuilder(int64_t features, int opset, int ml_opset = 0);

  std::string Const(const std::vector<int64_t>& dims, const std::vector<float>& v);
  std::string ConstInt(const std::vector<int64_t>& dims, const std::vector<int64_t>& v);
  // A random N(0, stddev) float initializer.
  std::string Random(const std::vector<int64_t>& dims, float stddev, std::mt19937_64* rng);
  // Adds a node with one fresh output; returns it for attributes.
  onnx::NodeProto* Node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::string& domain = "");
  static std::string Out(const onnx::NodeProto* n) { return n->output(0); }
  void Output(const std::string& name);
  std::string Serialize() const { return model_.SerializeAsString(); }
  const onnx::ModelProto& model() const { return model_; }

 private:
  onnx::ModelProto model_;
  int counter_ = 0;
};

void SetAttr(onnx::NodeProto* n, const std::string& name, float f);
void SetAttr(onnx::NodeProto* n, const std::string& name, int64_t i);
void SetAttr(onnx::NodeProto* n, const std::string& name, const std::string& s);
void SetAttr(onnx::NodeProto* n, const std::string& name, const std::vector<float>& fs);
void SetInts(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& is);
void SetStrings(onnx::NodeProto* n, const std::string& name, const std::vector<std::string>& ss);

// One entry of a TreeEnsemble node's nodes_* attributes.
struct TreeNodeSpec {
  int64_t tree = 0;
  int64_t id = 0;
  std::string mode = "LEAF";  // BRANCH_LEQ, BRANCH_LT, BRANCH_GTE, BRANCH_GT, BRANCH_EQ, BRANCH_NEQ
  int64_t feature = 0;
  float value = 0;
  int64_t true_id = 0;
  int64_t false_id = 0;
  int64_t missing_true = 0;
};
// One leaf weight: weight for output `target` when a row reaches (tree, id).
struct TreeWeightSpec {
  int64_t tree = 0;
  int64_t id = 0;
  int64_t target = 0;
  float weight = 0;
};
// Sets the nodes_* attributes of `n`, and its weights under `prefix`
// ("target_" for a regressor, "class_" for a classifier).
void SetTreeAttrs(onnx::NodeProto* n, const std::vector<TreeNodeSpec>& nodes,
                  const std::vector<TreeWeightSpec>& weights, const std::string& prefix);

// Evaluates `model` on x [rows, features] in double with naive loops;
// returns graph output `output` (default: the first) as [rows, width] and
// sets *width. Tree ensembles follow the ONNX reference evaluator
// (onnx/reference/ops/aionnxml), ZipMap passes its probabilities through.
// Aborts the test on unknown ops.
std::vector<double> EvaluateOnnx(const onnx::ModelProto& model, const std::vector<float>& x,
                                 int64_t rows, int64_t* width, const std::string& output = "");

}  // namespace hotpath::dense::testing

#endif  // HOTPATH_RUNTIME_DENSE_TESTING_ONNX_BUILDER_H_
