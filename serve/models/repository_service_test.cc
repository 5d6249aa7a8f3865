// The model server's service over a real repository of XGBoost models:
// outputs against XGBoost's own predictions, every validation error, and a
// version swap under traffic that loses no request.
#include "serve/models/repository_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <thread>

#include "runtime/repository/backend_registry.h"
#include "runtime/tree/testing/xgboost_trainer.h"

namespace hotpath {
namespace {

namespace fs = std::filesystem;

class RepositoryServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("hotpath_repo_service_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "risk");
    std::ofstream(root_ / "risk" / "config.json") << R"({
      "backend": "xgboost", "max_batch_size": 8,
      "inputs": [{"name": "features", "datatype": "FP32", "dims": [4]}],
      "outputs": [{"name": "probability", "datatype": "FP32", "dims": [1]}],
      "dynamic_batching": {"max_queue_delay_us": 100, "max_queue_size": 256}})";
    AddVersion(1, 10);
    ModelRepository::Options ro;
    ro.path = root_.string();
    ro.backends = std::make_shared<BackendRegistry>(BackendRegistry::WithBuiltins());
    ro.log = [](std::string_view) {};
    auto repo = ModelRepository::Create(ro);
    ASSERT_TRUE(repo.ok()) << repo.status().ToString();
    repo_ = std::move(*repo);
    RepositoryService::Options so;
    so.repository = repo_.get();
    so.metrics = &metrics_;
    auto service = RepositoryService::Create(so);
    ASSERT_TRUE(service.ok());
    service_ = std::move(*service);
  }
  void TearDown() override {
    service_.reset();
    repo_.reset();
    fs::remove_all(root_);
  }

  // Trains a model with `rounds` trees and saves it as version `v`.
  void AddVersion(int v, int rounds) {
    testing::Dataset d;
    d.rows = 300;
    d.cols = 4;
    std::mt19937_64 rng(v);
    std::normal_distribution<float> n(0, 1);
    for (size_t i = 0; i < d.rows * 4; ++i) d.x.push_back(n(rng));
    for (size_t r = 0; r < d.rows; ++r) d.label.push_back(d.x[r * 4] - d.x[r * 4 + 2] > 0);
    auto b = testing::XGBoostBooster::Train(d, {{"objective", "binary:logistic"}, {"max_depth", "3"}}, rounds);
    ASSERT_TRUE(b.ok());
    fs::create_directories(root_ / "risk" / std::to_string(v));
    ASSERT_TRUE(b->Save((root_ / "risk" / std::to_string(v) / "model.json").string()).ok());
    boosters_.emplace(v, std::make_unique<testing::XGBoostBooster>(std::move(*b)));
  }

  static InferRequest Request(const std::vector<float>& x, size_t rows) {
    InferRequest r;
    r.model_name = "risk";
    r.inputs.resize(1);
    r.inputs[0].name = "features";
    r.inputs[0].shape = {static_cast<int64_t>(rows), 4};
    r.inputs[0].data.resize(x.size() * sizeof(float));
    std::memcpy(r.inputs[0].data.data(), x.data(), x.size() * sizeof(float));
    return r;
  }

  Status InferSync(const InferRequest& r, InferResponse* resp) {
    std::promise<Status> p;
    service_->Infer(r, resp, [&p](Status s) { p.set_value(s); });
    return p.get_future().get();
  }

  fs::path root_;
  MetricsRegistry metrics_;
  std::unique_ptr<ModelRepository> repo_;
  std::unique_ptr<RepositoryService> service_;
  std::map<int, std::unique_ptr<testing::XGBoostBooster>> boosters_;
};

TEST_F(RepositoryServiceTest, PredictionsAreXGBoosts) {
  std::vector<float> x = {0.5f, -1.0f, 2.0f, NAN, -0.3f, 0.1f, 0.2f, 1.5f, 1.0f, 1.0f, -1.0f, 0.0f};
  InferResponse resp;
  ASSERT_TRUE(InferSync(Request(x, 3), &resp).ok());
  EXPECT_EQ(resp.model_version, "1");
  ASSERT_EQ(resp.outputs.size(), 1u);
  EXPECT_EQ(resp.outputs[0].name, "probability");
  EXPECT_EQ(resp.outputs[0].shape, (Shape{3, 1}));
  auto want = boosters_[1]->Predict(x.data(), 3, 4, testing::XGBoostBooster::Kind::kValue);
  ASSERT_TRUE(want.ok());
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(resp.outputs[0].as<float>()[i], (*want)[i], 1e-6);
  auto meta = service_->GetModelMetadata("risk", "");
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->inputs[0].shape, (Shape{-1, 4}));
  EXPECT_TRUE(*service_->ModelReady("risk", "1"));
  EXPECT_TRUE(service_->ServerReady());
}

TEST_F(RepositoryServiceTest, BadRequestsNameTheProblem) {
  std::vector<float> x(4, 0.0f);
  InferResponse resp;
  auto expect = [&](InferRequest r, StatusCode code, const std::string& msg) {
    Status s = InferSync(r, &resp);
    EXPECT_EQ(s.code(), code) << s.ToString();
    EXPECT_NE(s.message().find(msg), std::string::npos) << s.message();
  };
  InferRequest r = Request(x, 1);
  r.model_name = "nope";
  expect(r, StatusCode::kNotFound, "nope");
  r = Request(x, 1);
  r.model_version = "x1";
  expect(r, StatusCode::kInvalidArgument, "model_version 'x1' is not a positive integer");
  r = Request(x, 1);
  r.inputs[0].name = "wrong";
  expect(r, StatusCode::kInvalidArgument, "unknown input 'wrong', model 'risk' takes 'features'");
  r = Request(x, 1);
  r.inputs[0].shape = {2, 2};
  expect(r, StatusCode::kInvalidArgument, "shape must be [rows, 4]");
  std::vector<float> big(4 * 9, 0.0f);
  expect(Request(big, 9), StatusCode::kInvalidArgument, "batch of 9 rows, model 'risk' takes 1 to 8");
  r = Request(x, 1);
  r.requested_outputs = {"logits"};
  expect(r, StatusCode::kInvalidArgument, "unknown output 'logits'");
  r = Request(x, 1);
  r.model_version = "7";
  Status s = InferSync(r, &resp);
  EXPECT_FALSE(s.ok());
}

TEST_F(RepositoryServiceTest, VersionSwapUnderTrafficDropsNothing) {
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t) {
    clients.emplace_back([&] {
      std::vector<float> x = {0.1f, 0.2f, 0.3f, 0.4f};
      while (!stop) {
        InferResponse resp;
        (InferSync(Request(x, 1), &resp).ok() ? ok : failed)++;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  AddVersion(2, 20);
  ASSERT_TRUE(repo_->Poll().ok());
  service_->Maintain();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  stop = true;
  for (auto& c : clients) c.join();
  EXPECT_GT(ok.load(), 0);
  EXPECT_EQ(failed.load(), 0);
  InferResponse resp;
  std::vector<float> x = {0.1f, 0.2f, 0.3f, 0.4f};
  ASSERT_TRUE(InferSync(Request(x, 1), &resp).ok());
  EXPECT_EQ(resp.model_version, "2");
}

TEST_F(RepositoryServiceTest, ConcurrencyLimitRefusesWithUnavailable) {
  ConcurrencyLimiter::Options lo;
  lo.limit.initial_limit = lo.limit.min_limit = lo.limit.max_limit = 1;
  lo.priority_levels = 1;
  lo.max_queue_size = 0;
  auto limiter = ConcurrencyLimiter::Create(lo);
  ASSERT_TRUE(limiter.ok()) << limiter.status().ToString();
  RepositoryService::Options so;
  so.repository = repo_.get();
  so.metrics = &metrics_;
  so.limiter = limiter->get();
  auto service = RepositoryService::Create(so);
  ASSERT_TRUE(service.ok());
  std::vector<float> x = {0.1f, 0.2f, 0.3f, 0.4f};
  auto infer = [&]() {
    InferResponse resp;
    std::promise<Status> p;
    (*service)->Infer(Request(x, 1), &resp, [&p](Status s) { p.set_value(s); });
    return p.get_future().get();
  };
  {
    auto held = (*limiter)->TryAcquire(1);  // the only slot
    ASSERT_TRUE(held.ok());
    Status s = infer();
    EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
    held->Release(true);
  }
  EXPECT_TRUE(infer().ok());
  EXPECT_EQ((*limiter)->inflight(), 0);  // the request's permit was released
}

}  // namespace
}  // namespace hotpath
