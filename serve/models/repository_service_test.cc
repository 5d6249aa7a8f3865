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

// Fault injection: the "faulty" backend is an XGBoost model whose Predict
// fails while this is set.
std::atomic<bool> g_inject_faults{false};

class FaultyModel final : public Model {
 public:
  explicit FaultyModel(std::unique_ptr<Model> inner) : inner_(std::move(inner)) {}
  const ModelSignature& signature() const override { return inner_->signature(); }
  int64_t num_features() const override { return inner_->num_features(); }
  int64_t OutputWidth(OutputKind kind) const override { return inner_->OutputWidth(kind); }
  Status Predict(const float* x, size_t rows, OutputKind kind, float* out) const override {
    if (g_inject_faults) return InternalError("injected fault");
    return inner_->Predict(x, rows, kind, out);
  }
  size_t MemoryBytes() const override { return inner_->MemoryBytes(); }

 private:
  std::unique_ptr<Model> inner_;
};

std::shared_ptr<BackendRegistry> Backends() {
  auto registry = std::make_shared<BackendRegistry>(BackendRegistry::WithBuiltins());
  const BackendFactory xgboost = **registry->Find("xgboost");
  Status s = registry->Register("faulty", [xgboost](const BackendLoadRequest& r) -> Result<std::unique_ptr<Model>> {
    ASSIGN_OR_RETURN(std::unique_ptr<Model> m, xgboost(r));
    return std::unique_ptr<Model>(new FaultyModel(std::move(m)));
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return registry;
}

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
    ro.backends = Backends();
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

  // A second service over the fixture's repository, with `limiter` and `clock`.
  std::unique_ptr<RepositoryService> ServiceWith(ConcurrencyLimiter* limiter, const Clock* clock = &RealClock()) {
    RepositoryService::Options so;
    so.repository = repo_.get();
    so.metrics = &metrics_;
    so.limiter = limiter;
    so.clock = clock;
    auto service = RepositoryService::Create(so);
    EXPECT_TRUE(service.ok()) << service.status().ToString();
    return service.ok() ? std::move(*service) : nullptr;
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
  auto service = ServiceWith(limiter->get());
  ASSERT_NE(service, nullptr);
  std::vector<float> x = {0.1f, 0.2f, 0.3f, 0.4f};
  auto infer = [&]() {
    InferResponse resp;
    std::promise<Status> p;
    service->Infer(Request(x, 1), &resp, [&p](Status s) { p.set_value(s); });
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

// Far more requests than the concurrency limit admits at once: each one is
// answered exactly once (served, or refused/shed as overloaded), none is lost.
TEST_F(RepositoryServiceTest, OverloadThroughTheLimiterQueueAnswersEveryRequest) {
  ConcurrencyLimiter::Options lo;
  lo.limit.initial_limit = lo.limit.min_limit = lo.limit.max_limit = 2;
  lo.max_queue_size = 64;
  auto limiter = ConcurrencyLimiter::Create(lo);
  ASSERT_TRUE(limiter.ok()) << limiter.status().ToString();
  auto service = ServiceWith(limiter->get());
  ASSERT_NE(service, nullptr);
  constexpr int kRequests = 4000;
  std::vector<float> x(8 * 4, 0.25f);
  std::vector<InferRequest> requests(kRequests, Request(x, 8));
  std::vector<InferResponse> responses(kRequests);
  std::atomic<int> answered{0}, ok{0}, overloaded{0}, other{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      for (int i = t; i < kRequests; i += 4) {
        service->Infer(requests[i], &responses[i], [&](Status s) {
          (s.ok() ? ok : s.code() == StatusCode::kUnavailable ? overloaded : other)++;
          answered++;
        });
      }
    });
  }
  for (auto& c : clients) c.join();
  for (int i = 0; i < 500 && answered < kRequests; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(answered.load(), kRequests);
  EXPECT_GT(ok.load(), 0);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ((*limiter)->inflight(), 0);
  EXPECT_EQ((*limiter)->queued(), 0);
}

// Requests whose deadline passes while they wait for a batch are answered
// DEADLINE_EXCEEDED at the deadline, every one of them.
TEST_F(RepositoryServiceTest, DeadlinesPassingInTheQueueAreAnswered) {
  fs::create_directories(root_ / "queued" / "1");
  fs::copy_file(root_ / "risk" / "1" / "model.json", root_ / "queued" / "1" / "model.json");
  std::ofstream(root_ / "queued" / "config.json") << R"({"backend": "xgboost", "max_batch_size": 64,
      "inputs": [{"name": "features", "datatype": "FP32", "dims": [4]}],
      "outputs": [{"name": "probability", "datatype": "FP32", "dims": [1]}],
      "dynamic_batching": {"max_queue_delay_us": 50000, "preferred_batch_sizes": [64]}})";
  ASSERT_TRUE(repo_->Poll().ok());
  constexpr int kRequests = 300;
  std::vector<float> x(4, 0.25f);
  std::vector<InferRequest> requests(kRequests, Request(x, 1));
  for (auto& r : requests) {
    r.model_name = "queued";
    r.timeout = std::chrono::microseconds(1000);
  }
  std::vector<InferResponse> responses(kRequests);
  std::atomic<int> answered{0}, expired{0};
  for (int i = 0; i < kRequests; ++i) {
    service_->Infer(requests[i], &responses[i], [&](Status s) {
      if (s.code() == StatusCode::kDeadlineExceeded) expired++;
      answered++;
    });
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  for (int i = 0; i < 300 && answered < kRequests; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(answered.load(), kRequests);
  EXPECT_GT(expired.load(), kRequests / 2);
}

// A model whose breaker opens after injected faults: its requests go to the
// fallback (answered by the fallback, with XGBoost's values) until the breaker
// closes again; a model without a fallback fails fast. Client errors never
// count against a breaker.
TEST_F(RepositoryServiceTest, BreakerRoutesToTheFallbackAndRecovers) {
  const std::string breaker = R"("circuit_breaker": {"window_size": 4, "minimum_calls": 4,
      "failure_rate_threshold": 0.5, "open_duration_ms": 1000, "half_open_calls": 2})";
  for (const std::string model : {"primary", "alone"}) {
    fs::create_directories(root_ / model / "1");
    fs::copy_file(root_ / "risk" / "1" / "model.json", root_ / model / "1" / "model.json");
    std::ofstream(root_ / model / "config.json") << R"({"backend": "faulty", "max_batch_size": 8,
      "inputs": [{"name": "features", "datatype": "FP32", "dims": [4]}],
      "outputs": [{"name": "probability", "datatype": "FP32", "dims": [1]}],)"
        << (model == "primary" ? R"("fallback_model": "risk",)" : "") << breaker << "}";
  }
  ASSERT_TRUE(repo_->Poll().ok());
  FakeClock clock;
  auto service = ServiceWith(nullptr, &clock);
  ASSERT_NE(service, nullptr);
  std::vector<float> x = {0.5f, -1.0f, 2.0f, NAN};
  const float want = (*boosters_[1]->Predict(x.data(), 1, 4, testing::XGBoostBooster::Kind::kValue))[0];
  auto infer = [&](const std::string& model, InferResponse* resp) {
    InferRequest r = Request(x, 1);
    r.model_name = model;
    std::promise<Status> p;
    service->Infer(r, resp, [&p](Status s) { p.set_value(s); });
    return p.get_future().get();
  };
  InferResponse resp;
  for (int i = 0; i < 10; ++i) {  // client errors: not the model's fault
    InferRequest r = Request(x, 1);
    r.model_name = "primary";
    r.inputs[0].name = "wrong";
    std::promise<Status> p;
    service->Infer(r, &resp, [&p](Status s) { p.set_value(s); });
    EXPECT_EQ(p.get_future().get().code(), StatusCode::kInvalidArgument);
  }
  ASSERT_TRUE(infer("primary", &resp).ok());
  EXPECT_EQ(resp.model_name, "primary");

  g_inject_faults = true;
  for (int i = 0; i < 3; ++i) {  // with the success above: 3 of 4 failed
    Status s = infer("primary", &resp);
    EXPECT_EQ(s.code(), StatusCode::kInternal) << s.ToString();
  }
  ASSERT_EQ(service->breaker("primary")->state(), CircuitBreaker::State::kOpen);
  for (int i = 0; i < 3; ++i) {
    resp = InferResponse();
    ASSERT_TRUE(infer("primary", &resp).ok());
    EXPECT_EQ(resp.model_name, "risk");  // the fallback answered, and says so
    EXPECT_EQ(resp.outputs[0].as<float>()[0], want);
  }
  const std::string text = metrics_.ExpositionText();
  EXPECT_NE(text.find("hotpath_fallback_requests_total{model=\"primary\",fallback=\"risk\"} 3"),
            std::string::npos);
  EXPECT_NE(text.find("hotpath_circuit_breaker_state{model=\"primary\"} 1"), std::string::npos);

  // Recovery: after open_duration, two good trial calls close the breaker.
  g_inject_faults = false;
  clock.Advance(std::chrono::milliseconds(1000));
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(infer("primary", &resp).ok());
    EXPECT_EQ(resp.model_name, "primary");
  }
  EXPECT_EQ(service->breaker("primary")->state(), CircuitBreaker::State::kClosed);

  // No fallback: fail fast with UNAVAILABLE naming the model and the reason.
  g_inject_faults = true;
  for (int i = 0; i < 4; ++i) EXPECT_EQ(infer("alone", &resp).code(), StatusCode::kInternal);
  g_inject_faults = false;
  Status s = infer("alone", &resp);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("model 'alone' unavailable: circuit breaker open"), std::string::npos)
      << s.message();
}

// Applications that submit to a batcher directly share the model's breaker.
TEST_F(RepositoryServiceTest, DirectAdmissionSharesTheBreaker) {
  ASSERT_TRUE(repo_->Get("risk").ok());
  const ModelConfig& config = (*repo_->Get("risk"))->config();  // default breaker: 20 calls
  for (int i = 0; i < 20; ++i) {
    auto outcome = service_->AdmitDirect(config);
    ASSERT_TRUE(outcome.ok());
    (*outcome)(i % 2 ? OkStatus() : DeadlineExceededError("missed"));  // a miss counts here
  }
  EXPECT_EQ(service_->breaker("risk")->state(), CircuitBreaker::State::kOpen);
  EXPECT_EQ(service_->AdmitDirect(config).status().code(), StatusCode::kUnavailable);
  std::vector<float> x = {0.1f, 0.2f, 0.3f, 0.4f};
  InferResponse resp;
  EXPECT_EQ(InferSync(Request(x, 1), &resp).code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace hotpath
