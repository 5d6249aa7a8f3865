// TorchModel against the native engine, and the native engine against
// LibTorch's own eager kernels, on the same random MLP weights.
#include "runtime/torch/torch_model.h"

#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "runtime/dense/dense_model.h"

namespace hotpath {
namespace {

struct Mlp {
  std::vector<at::Tensor> w, b;  // w[l]: [out, in] (torch layout)
};

Mlp RandomMlp(const std::vector<int64_t>& widths) {
  torch::manual_seed(7);
  Mlp m;
  for (size_t l = 1; l < widths.size(); ++l) {
    m.w.push_back(torch::randn({widths[l], widths[l - 1]}) / std::sqrt(double(widths[l - 1])));
    m.b.push_back(torch::randn({widths[l]}) * 0.1);
  }
  return m;
}

dense::Graph ToGraph(const Mlp& mlp) {
  dense::Graph g;
  g.widths = {mlp.w[0].size(1)};
  for (size_t l = 0; l < mlp.w.size(); ++l) {
    dense::Node n;
    n.kind = dense::OpKind::kDense;
    n.inputs = {static_cast<int>(l)};
    n.output = static_cast<int>(l) + 1;
    const at::Tensor wt = mlp.w[l].t().contiguous();
    n.weights.assign(wt.data_ptr<float>(), wt.data_ptr<float>() + wt.numel());
    n.bias.assign(mlp.b[l].data_ptr<float>(), mlp.b[l].data_ptr<float>() + mlp.b[l].numel());
    n.act.kind = l + 1 < mlp.w.size() ? dense::Activation::kRelu : dense::Activation::kSigmoid;
    g.widths.push_back(mlp.w[l].size(0));
    g.nodes.push_back(std::move(n));
  }
  g.output = static_cast<int>(mlp.w.size());
  return g;
}

// A TorchScript module written by LibTorch itself (Module::define + save).
std::filesystem::path SaveScript(const Mlp& mlp, const std::string& name) {
  torch::jit::Module m("Mlp");
  std::string body = "def forward(self, x):\n    h = x\n";
  for (size_t l = 0; l < mlp.w.size(); ++l) {
    m.register_parameter("w" + std::to_string(l), mlp.w[l], false);
    m.register_parameter("b" + std::to_string(l), mlp.b[l], false);
    const std::string lin =
        "torch.addmm(self.b" + std::to_string(l) + ", h, self.w" + std::to_string(l) + ".t())";
    body += "    h = " + std::string(l + 1 < mlp.w.size() ? "torch.relu(" : "torch.sigmoid(") +
            lin + ")\n";
  }
  body += "    return h\n";
  m.define(body);
  const auto path = std::filesystem::temp_directory_path() / name;
  m.save(path.string());
  return path;
}

void ExpectClose(const std::vector<float>& got, const float* want, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    ASSERT_NEAR(got[i], want[i], 1e-5 * std::max(1.0f, std::fabs(want[i]))) << i;
  }
}

TEST(TorchModelTest, TorchScriptMatchesNativeEngine) {
  const Mlp mlp = RandomMlp({32, 128, 64, 1});
  const auto path = SaveScript(mlp, "hotpath_torch_test_mlp.pt");
  auto torch_model = torch_backend::TorchModel::Create(path, {32, 1});
  ASSERT_TRUE(torch_model.ok()) << torch_model.status().ToString();
  auto native = dense::DenseModel::Create(ToGraph(mlp), {});
  ASSERT_TRUE(native.ok());
  const at::Tensor x = torch::randn({200, 32});
  for (size_t rows : {size_t{1}, size_t{200}}) {
    std::vector<float> a(rows), b(rows);
    ASSERT_TRUE(
        (*torch_model)->Predict(x.data_ptr<float>(), rows, OutputKind::kValue, a.data()).ok());
    ASSERT_TRUE((*native)->Predict(x.data_ptr<float>(), rows, OutputKind::kValue, b.data()).ok());
    ExpectClose(b, a.data(), rows);
  }
  std::filesystem::remove(path);
}

TEST(TorchModelTest, NativeEngineMatchesLibTorchEagerOnRankingShape) {
  const Mlp mlp = RandomMlp({256, 1024, 1024, 256, 1});
  auto native = dense::DenseModel::Create(ToGraph(mlp), {});
  ASSERT_TRUE(native.ok());
  c10::InferenceMode guard;
  const at::Tensor x = torch::randn({300, 256});
  at::Tensor h = x;
  for (size_t l = 0; l < mlp.w.size(); ++l) {
    h = torch::addmm(mlp.b[l], h, mlp.w[l].t());
    h = l + 1 < mlp.w.size() ? torch::relu(h) : torch::sigmoid(h);
  }
  std::vector<float> got(300);
  ASSERT_TRUE((*native)->Predict(x.data_ptr<float>(), 300, OutputKind::kValue, got.data()).ok());
  ExpectClose(got, h.contiguous().data_ptr<float>(), 300);
}

TEST(TorchModelTest, RefusesGarbageAndMissingFiles) {
  const auto path = std::filesystem::temp_directory_path() / "hotpath_torch_garbage.pt";
  std::ofstream(path) << "not a zip archive";
  EXPECT_EQ(torch_backend::TorchModel::Create(path, {4, 1}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(torch_backend::TorchModel::Create(path.string() + ".missing", {4, 1}).status().code(),
            StatusCode::kNotFound);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace hotpath
