// End to end: the HTTP server on an ephemeral port, a real TreeModel trained
// through libxgboost, requests over real sockets. Scores are checked against
// XGBoost's own predictor; responses are parsed with nlohmann-json, not with
// the server's code.
#include "serve/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "runtime/tree/testing/xgboost_trainer.h"
#include "runtime/tree/tree_model.h"
#include "serve/model_map_service.h"
#include "serve/signal_drain.h"
#include "serve/testing/http_test_client.h"

// Counts allocations made by threads other than the test's own while
// g_count_allocations is set: the server's loops, in the steady-state test.
namespace {
std::atomic<bool> g_count_allocations{false};
std::atomic<long> g_server_allocations{0};
std::thread::id g_test_thread;
}  // namespace

void* operator new(size_t n) {
  if (g_count_allocations.load(std::memory_order_relaxed) &&
      std::this_thread::get_id() != g_test_thread) {
    g_server_allocations.fetch_add(1, std::memory_order_relaxed);
  }
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"  // malloc-backed on purpose
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace hotpath {
namespace {

using serve_testing::Get;
using serve_testing::HttpResponse;
using serve_testing::HttpTestClient;
using serve_testing::PostJson;
using testing::Dataset;
using testing::XGBoostBooster;

constexpr int kFeatures = 8;
constexpr const char* kInfer = "/v2/models/trees/infer";

Dataset MakeData(size_t rows, std::mt19937_64* rng) {
  Dataset d;
  d.rows = rows;
  d.cols = kFeatures;
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (size_t i = 0; i < rows * kFeatures; ++i) d.x.push_back(n(*rng));
  for (size_t r = 0; r < rows; ++r) {
    const float* x = &d.x[r * kFeatures];
    d.label.push_back(x[0] * x[1] + std::sin(x[2]) - x[3] > 0 ? 1.0f : 0.0f);
  }
  return d;
}

// {"inputs":[{"name":"input","shape":[rows,8],"datatype":"FP32","data":[...]}]}
std::string InferJson(const float* x, size_t rows, const std::string& extra = "") {
  nlohmann::json data = nlohmann::json::array();
  for (size_t i = 0; i < rows * kFeatures; ++i) {
    data.push_back(std::isnan(x[i]) ? nlohmann::json(nullptr) : nlohmann::json(x[i]));
  }
  nlohmann::json j = {
      {"id", "req"},
      {"inputs",
       {{{"name", "input"}, {"shape", {rows, kFeatures}}, {"datatype", "FP32"}, {"data", data}}}}};
  std::string s = j.dump();
  if (!extra.empty()) s.insert(s.size() - 1, "," + extra);
  return s;
}

// Forwards everything but Infer to `inner`.
class ForwardingService : public InferenceService {
 public:
  explicit ForwardingService(InferenceService* inner) : inner_(inner) {}
  bool ServerLive() const override { return true; }
  bool ServerReady() const override { return true; }
  ServerMetadata GetServerMetadata() const override { return inner_->GetServerMetadata(); }
  Result<bool> ModelReady(std::string_view n, std::string_view v) const override {
    return inner_->ModelReady(n, v);
  }
  Result<ModelMetadata> GetModelMetadata(std::string_view n, std::string_view v) const override {
    return inner_->GetModelMetadata(n, v);
  }

 protected:
  InferenceService* inner_;
};

// An InferenceService that completes every request on its own worker thread,
// as the batcher will; model names "unavailable", "late" and "limited" fail
// with UNAVAILABLE, DEADLINE_EXCEEDED and RESOURCE_EXHAUSTED. When `hold`
// is set, requests wait until Release().
class ThreadedService final : public ForwardingService {
 public:
  explicit ThreadedService(InferenceService* inner) : ForwardingService(inner), worker_([this] { Work(); }) {}
  ~ThreadedService() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
      hold_ = false;
    }
    cv_.notify_all();
    worker_.join();
  }
  void Infer(const InferRequest& req, InferResponse* resp, InferDone done) override {
    std::lock_guard<std::mutex> l(mu_);
    queue_.push_back({&req, resp, std::move(done)});
    ++received_;
    cv_.notify_all();
  }
  void Hold() {
    std::lock_guard<std::mutex> l(mu_);
    hold_ = true;
  }
  void Release() {
    std::lock_guard<std::mutex> l(mu_);
    hold_ = false;
    cv_.notify_all();
  }
  int received() {
    std::lock_guard<std::mutex> l(mu_);
    return received_;
  }

 private:
  struct Job {
    const InferRequest* req;
    InferResponse* resp;
    InferDone done;
  };
  void Work() {
    std::unique_lock<std::mutex> l(mu_);
    while (true) {
      cv_.wait(l, [this] { return stop_ || (!hold_ && !queue_.empty()); });
      if (queue_.empty()) return;
      Job job = std::move(queue_.front());
      queue_.pop_front();
      l.unlock();
      Run(job);
      l.lock();
    }
  }
  void Run(Job& job) {
    const std::string& m = job.req->model_name;
    if (m == "unavailable") return job.done(UnavailableError("queue full"));
    if (m == "late") return job.done(DeadlineExceededError("deadline passed in queue"));
    if (m == "limited") return job.done(ResourceExhaustedError("rate limit"));
    inner_->Infer(*job.req, job.resp, std::move(job.done));
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool hold_ = false;
  bool stop_ = false;
  int received_ = 0;
  std::thread worker_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::mt19937_64 rng(7);
    const Dataset train = MakeData(2000, &rng);
    auto booster = XGBoostBooster::Train(
        train, {{"objective", "binary:logistic"}, {"max_depth", "4"}, {"eta", "0.3"}}, 30);
    ASSERT_TRUE(booster.ok()) << booster.status().ToString();
    const std::string path =
        (std::filesystem::temp_directory_path() / "hotpath_serve_test.json").string();
    ASSERT_TRUE(booster->Save(path).ok());
    auto model = TreeModel::Load(path, {});
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    std::shared_ptr<const Model> shared(std::move(*model));
    ModelMapService::Options o;
    o.models = {{"trees", "1", shared},
                {"trees", "2", shared},
                {"strict", "1", shared, "hotpath", /*max_batch_size=*/4, /*allow_nan=*/false}};
    service_ = ModelMapService::Create(o).value().release();
    booster_ = new XGBoostBooster(std::move(*booster));
    rows_ = MakeData(64, &rng).x;
    for (size_t i = 3; i < rows_.size(); i += 11) rows_[i] = NAN;  // missing values
  }
  static void TearDownTestSuite() {
    delete service_;
    delete booster_;
  }

  void SetUp() override { server_ = Start(service_, DefaultOptions()); }

  static HttpServer::Options DefaultOptions() {
    HttpServer::Options o;
    o.address = "127.0.0.1";
    o.port = 0;
    o.num_loops = 2;
    o.max_body_bytes = 1 << 20;
    o.request_timeout = std::chrono::milliseconds(300);
    o.idle_timeout = std::chrono::milliseconds(1000);
    o.drain_timeout = std::chrono::milliseconds(2000);
    return o;
  }
  static std::unique_ptr<HttpServer> Start(InferenceService* service,
                                           const HttpServer::Options& o) {
    auto s = HttpServer::Create(o, service);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(*s);
  }
  HttpTestClient Client() { return Client(server_->port()); }
  static HttpTestClient Client(int port) {
    auto c = HttpTestClient::Connect(port);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(*c);
  }
  // XGBoost's own probabilities for rows [first, first + n).
  static std::vector<float> Oracle(size_t first, size_t n) {
    auto p =
        booster_->Predict(&rows_[first * kFeatures], n, kFeatures, XGBoostBooster::Kind::kValue);
    EXPECT_TRUE(p.ok());
    return *p;
  }
  // Checks a JSON infer response against XGBoost for rows [first, first + n).
  static void ExpectScores(const HttpResponse& r, size_t first, size_t n) {
    ASSERT_EQ(r.status, 200) << r.body;
    const auto j = nlohmann::json::parse(r.body);
    const auto& out = j["outputs"][0];
    EXPECT_EQ(out["name"], "output");
    EXPECT_EQ(out["datatype"], "FP32");
    EXPECT_EQ(out["shape"], nlohmann::json({n, 1}));
    const std::vector<float> want = Oracle(first, n);
    ASSERT_EQ(out["data"].size(), n);
    for (size_t i = 0; i < n; ++i) EXPECT_NEAR(out["data"][i].get<double>(), want[i], 1e-6) << i;
  }
  // Status and the error message of a response that must be {"error": ...}.
  static std::pair<int, std::string> Error(const HttpResponse& r) {
    const auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains("error")) return {r.status, "not an error body: " + r.body};
    return {r.status, j["error"].get<std::string>()};
  }

  static ModelMapService* service_;
  static XGBoostBooster* booster_;
  static std::vector<float> rows_;  // [64, 8]
  std::unique_ptr<HttpServer> server_;
};

ModelMapService* HttpServerTest::service_ = nullptr;
XGBoostBooster* HttpServerTest::booster_ = nullptr;
std::vector<float> HttpServerTest::rows_;

TEST_F(HttpServerTest, HealthAndMetadata) {
  HttpTestClient c = Client();
  auto r = c.Roundtrip(Get("/v2"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(nlohmann::json::parse(r->body)["extensions"][0], "binary_tensor_data");
  for (const char* path : {"/v2/health/live", "/v2/health/ready", "/v2/models/trees/ready",
                           "/v2/models/trees/versions/2/ready"}) {
    r = c.Roundtrip(Get(path));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200) << path << r->body;
  }
  r = c.Roundtrip(Get("/v2/models/trees"));
  ASSERT_TRUE(r.ok());
  const auto meta = nlohmann::json::parse(r->body);
  EXPECT_EQ(meta["versions"], nlohmann::json({"1", "2"}));
  EXPECT_EQ(meta["inputs"][0]["shape"], nlohmann::json({-1, kFeatures}));
  EXPECT_EQ(meta["inputs"][0]["datatype"], "FP32");
  r = c.Roundtrip(Get("/v2/models/trees/versions/1"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(nlohmann::json::parse(r->body)["versions"], nlohmann::json({"1"}));
  r = c.Roundtrip(Get("/v2/models/nope/ready"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Error(*r), std::make_pair(404, std::string("unknown model 'nope'")));
  r = c.Roundtrip(Get("/v2/models/trees/versions/9"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Error(*r).first, 404);
}

TEST_F(HttpServerTest, JsonInferMatchesXGBoost) {
  HttpTestClient c = Client();
  auto r = c.Roundtrip(PostJson(kInfer, InferJson(rows_.data(), 16)));
  ASSERT_TRUE(r.ok());
  ExpectScores(*r, 0, 16);
  EXPECT_EQ(nlohmann::json::parse(r->body)["id"], "req");
  EXPECT_EQ(nlohmann::json::parse(r->body)["model_version"], "2");  // latest
  // Nested rows, an explicit version, a requested output.
  nlohmann::json nested = nlohmann::json::array();
  for (size_t row = 16; row < 20; ++row) {
    nlohmann::json v = nlohmann::json::array();
    for (int f = 0; f < kFeatures; ++f) {
      const float x = rows_[row * kFeatures + f];
      v.push_back(std::isnan(x) ? nlohmann::json(nullptr) : nlohmann::json(x));
    }
    nested.push_back(v);
  }
  nlohmann::json j = {
      {"inputs",
       {{{"name", "input"}, {"shape", {4, kFeatures}}, {"datatype", "FP32"}, {"data", nested}}}},
      {"outputs", {{{"name", "output"}}}}};
  r = c.Roundtrip(PostJson("/v2/models/trees/versions/1/infer", j.dump()));
  ASSERT_TRUE(r.ok());
  ExpectScores(*r, 16, 4);
}

TEST_F(HttpServerTest, BinaryTensorExtension) {
  const size_t n = 8;
  const std::string json =
      R"({"inputs":[{"name":"input","shape":[8,8],"datatype":"FP32","parameters":{"binary_data_size":256}}],)"
      R"("outputs":[{"name":"output","parameters":{"binary_data":true}}]})";
  std::string body = json + std::string(reinterpret_cast<const char*>(&rows_[8 * kFeatures]),
                                        n * kFeatures * sizeof(float));
  HttpTestClient c = Client();
  auto r = c.Roundtrip("POST /v2/models/trees/infer HTTP/1.1\r\nInference-Header-Content-Length: " +
                       std::to_string(json.size()) +
                       "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  const size_t json_len = std::stoul(r->headers["inference-header-content-length"]);
  const auto head = nlohmann::json::parse(r->body.substr(0, json_len));
  EXPECT_EQ(head["outputs"][0]["parameters"]["binary_data_size"], n * sizeof(float));
  ASSERT_EQ(r->body.size(), json_len + n * sizeof(float));
  std::vector<float> got(n);
  std::memcpy(got.data(), r->body.data() + json_len, n * sizeof(float));
  const std::vector<float> want = Oracle(8, n);
  for (size_t i = 0; i < n; ++i) EXPECT_NEAR(got[i], want[i], 1e-6);
}

TEST_F(HttpServerTest, KeepAliveAndPipelining) {
  HttpTestClient c = Client();
  for (size_t i = 0; i < 40; ++i) {
    auto r = c.Roundtrip(PostJson(kInfer, InferJson(&rows_[i * kFeatures], 1)));
    ASSERT_TRUE(r.ok());
    ExpectScores(*r, i, 1);
  }
  // Five requests in one write; the answers come back in order.
  std::string burst = PostJson(kInfer, InferJson(&rows_[0], 2)) + Get("/v2/health/live") +
                      PostJson(kInfer, "{bad") +
                      PostJson(kInfer, InferJson(&rows_[2 * kFeatures], 3)) + Get("/v2/nothing");
  ASSERT_TRUE(c.Send(burst).ok());
  auto r = c.Read();
  ExpectScores(*r, 0, 2);
  EXPECT_EQ((r = c.Read())->status, 200);
  EXPECT_EQ((r = c.Read())->status, 400);
  ExpectScores(*(r = c.Read()), 2, 3);
  EXPECT_EQ((r = c.Read())->status, 404);
}

TEST_F(HttpServerTest, BusyPollingLoopsAnswerLikeBlockingOnes) {
  HttpServer::Options o = DefaultOptions();
  o.busy_poll_us = 500;
  std::unique_ptr<HttpServer> polling = Start(service_, o);
  HttpTestClient c = Client(polling->port());
  for (size_t i = 0; i < 40; ++i) {
    // Alternate back-to-back requests (caught while polling) with ones sent
    // after the poll window, when the loop has gone back to epoll_wait.
    if (i % 8 == 7) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    auto r = c.Roundtrip(PostJson(kInfer, InferJson(&rows_[i * kFeatures], 1)));
    ASSERT_TRUE(r.ok());
    ExpectScores(*r, i, 1);
  }
}

TEST_F(HttpServerTest, SteadyStateInferAllocatesNothingOnTheServer) {
  HttpTestClient c = Client();
  std::vector<std::string> requests;
  for (size_t i = 0; i < 32; ++i)
    requests.push_back(PostJson(kInfer, InferJson(&rows_[i * kFeatures], 2)));
  for (const std::string& r : requests) ASSERT_TRUE(c.Roundtrip(r).ok());  // warm the buffers
  g_test_thread = std::this_thread::get_id();
  g_server_allocations = 0;
  g_count_allocations = true;
  for (int round = 0; round < 3; ++round) {
    for (const std::string& r : requests) ASSERT_TRUE(c.Roundtrip(r).ok());
  }
  g_count_allocations = false;
  EXPECT_EQ(g_server_allocations.load(), 0);
  // The counter does see the server: a new connection's first request allocates.
  HttpTestClient fresh = Client();
  g_count_allocations = true;
  ASSERT_TRUE(fresh.Roundtrip(requests[0]).ok());
  g_count_allocations = false;
  EXPECT_GT(g_server_allocations.load(), 0);
}

TEST_F(HttpServerTest, BadInputGetsClearErrorsAndServerKeepsServing) {
  const std::string one_row = InferJson(rows_.data(), 1);
  std::vector<float> with_nan(kFeatures, 0.5f);
  with_nan[5] = NAN;
  struct Case {
    std::string request;
    int status;
    std::string mention;
  };
  const std::vector<Case> cases = {
      {PostJson(kInfer, R"({"inputs":[{"name":"input")"), 400, "malformed JSON"},
      {PostJson(
           kInfer,
           R"({"inputs":[{"name":"input","shape":[1,8],"datatype":"INT32","data":[1,2,3,4,5,6,7,8]}]})"),
       400, "inputs[0].datatype"},
      {PostJson(kInfer,
                R"({"inputs":[{"name":"input","shape":[1,8],"datatype":"FP32","data":[1,2,3]}]})"),
       400, "inputs[0].data: 3 values but shape [1,8] needs 8"},
      {PostJson(
           kInfer,
           R"({"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[1,2,3,4,5,6,7,8]}]})"),
       400, "inputs[0].shape"},
      {PostJson(
           kInfer,
           R"({"inputs":[{"name":"x","shape":[1,8],"datatype":"FP32","data":[1,2,3,4,5,6,7,8]}]})"),
       400, "inputs[0].name"},
      {PostJson("/v2/models/nope/infer", one_row), 404, "unknown model 'nope'"},
      {PostJson("/v2/models/trees/versions/7/infer", one_row), 404, "no version '7'"},
      {PostJson("/v2/models/strict/infer", InferJson(rows_.data(), 5)), 400,
       "inputs[0].shape[0]: batch 5"},
      {PostJson("/v2/models/strict/infer", InferJson(with_nan.data(), 1)), 400,
       "inputs[0].data[5]: NaN"},
      {"POST /v2/models/trees/infer HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n", 413,
       "larger than"},
      {"POST /v2/models/trees/infer HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411,
       "Content-Length"},
      {Get(kInfer), 405, "POST"},
      {PostJson("/v2/health/live", "{}"), 405, "GET"},
      {Get("/v1/models/trees"), 404, "no such endpoint"},
      {"GET /v2 HTTP/3.0\r\n\r\n", 505, "not supported"},
  };
  for (const Case& k : cases) {
    HttpTestClient c = Client();
    auto r = c.Roundtrip(k.request);
    ASSERT_TRUE(r.ok()) << k.request;
    const auto [status, message] = Error(*r);
    EXPECT_EQ(status, k.status) << k.request << " -> " << r->body;
    EXPECT_NE(message.find(k.mention), std::string::npos) << k.mention << " not in " << message;
    EXPECT_EQ(r->headers["content-type"], "application/json");
  }
  HttpTestClient c = Client();
  auto r = c.Roundtrip(PostJson(kInfer, one_row));
  ASSERT_TRUE(r.ok());
  ExpectScores(*r, 0, 1);
}

TEST_F(HttpServerTest, StalledClientTimesOutWithoutBlockingOthers) {
  HttpTestClient slow = Client();
  ASSERT_TRUE(slow.Send("POST /v2/models/trees/infer HTTP/1.1\r\nContent-Le").ok());
  HttpTestClient slow_body = Client();
  ASSERT_TRUE(
      slow_body.Send("POST /v2/models/trees/infer HTTP/1.1\r\nContent-Length: 100\r\n\r\n{").ok());
  const auto t0 = std::chrono::steady_clock::now();
  HttpTestClient fast = Client();
  for (size_t i = 0; i < 20; ++i) {
    auto r = fast.Roundtrip(PostJson(kInfer, InferJson(&rows_[i * kFeatures], 1)));
    ASSERT_TRUE(r.ok());
    ExpectScores(*r, i, 1);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(250));
  for (HttpTestClient* c : {&slow, &slow_body}) {
    auto r = c->Read();  // the 300 ms request timeout
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 408);
    EXPECT_EQ(r->headers["connection"], "close");
    EXPECT_TRUE(c->ServerClosed());
  }
}

TEST_F(HttpServerTest, IdleConnectionsAreClosed) {
  HttpTestClient c = Client();
  ASSERT_TRUE(c.Roundtrip(Get("/v2/health/live")).ok());
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.ServerClosed());  // idle_timeout 1 s
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(900));
}

TEST_F(HttpServerTest, CompletionsFromAnotherThreadAndStatusMapping) {
  ThreadedService threaded(service_);
  auto server = Start(&threaded, DefaultOptions());
  HttpTestClient c = Client(server->port());
  std::string burst;
  for (size_t i = 0; i < 10; ++i) burst += PostJson(kInfer, InferJson(&rows_[i * kFeatures], 2));
  ASSERT_TRUE(c.Send(burst).ok());
  for (size_t i = 0; i < 10; ++i) ExpectScores(*c.Read(), i, 2);
  for (auto [model, status] : {std::pair{"unavailable", 503}, {"late", 504}, {"limited", 429}}) {
    auto r = c.Roundtrip(
        PostJson("/v2/models/" + std::string(model) + "/infer", InferJson(rows_.data(), 1)));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(Error(*r).first, status) << r->body;
  }
}

// A service that answers one request from inside the call for another, on
// the loop thread (as an admission queue does when a release grants a waiter
// or an arrival sheds one): both clients get their answers.
class CrossCompletingService final : public ForwardingService {
 public:
  using ForwardingService::ForwardingService;
  // The first request is parked; the second answers the first, then itself.
  void Infer(const InferRequest& req, InferResponse* resp, InferDone done) override {
    if (!parked_) {
      parked_ = std::move(done);
      ++parked_count_;
      return;
    }
    InferDone first = std::move(parked_);
    parked_ = nullptr;
    first(UnavailableError("overloaded: shed from the queue"));
    inner_->Infer(req, resp, std::move(done));
  }

  int parked_count() const { return parked_count_; }

 private:
  InferDone parked_;  // touched on the single loop thread only
  std::atomic<int> parked_count_{0};
};

TEST_F(HttpServerTest, CompletionOfAnotherRequestOnTheLoopThreadIsNotLost) {
  CrossCompletingService cross(service_);
  HttpServer::Options o = DefaultOptions();
  o.num_loops = 1;
  auto server = Start(&cross, o);
  HttpTestClient a = Client(server->port()), b = Client(server->port());
  ASSERT_TRUE(a.Send(PostJson(kInfer, InferJson(rows_.data(), 1))).ok());
  for (int i = 0; i < 1000 && cross.parked_count() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(cross.parked_count(), 1);  // A is parked before B is sent
  auto rb = b.Roundtrip(PostJson(kInfer, InferJson(rows_.data(), 1)));
  ASSERT_TRUE(rb.ok());
  ExpectScores(*rb, 0, 1);
  auto ra = a.Read();
  ASSERT_TRUE(ra.ok()) << ra.status().ToString();
  EXPECT_EQ(Error(*ra).first, 503);
  server.reset();  // the drain finds nothing in flight
}

TEST_F(HttpServerTest, DrainFinishesInFlightThenStops) {
  ThreadedService threaded(service_);
  auto server = Start(&threaded, DefaultOptions());
  {
    HttpTestClient busy = Client(server->port());
    HttpTestClient idle = Client(server->port());
    threaded.Hold();
    ASSERT_TRUE(busy.Send(PostJson(kInfer, InferJson(rows_.data(), 1))).ok());
    while (threaded.received() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    server->BeginDrain();
    EXPECT_TRUE(idle.ServerClosed());
    // Every loop closes its listener as it sees the drain.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    bool refused = false;
    while (!refused && std::chrono::steady_clock::now() < deadline) {
      refused = !HttpTestClient::Connect(server->port()).ok();
    }
    EXPECT_TRUE(refused);
    threaded.Release();
    auto r = busy.Read();
    ASSERT_TRUE(r.ok());
    ExpectScores(*r, 0, 1);
    EXPECT_EQ(r->headers["connection"], "close");
    EXPECT_TRUE(busy.ServerClosed());
  }  // the clients close; the server's lingering closes end
  server->Wait();
}

TEST_F(HttpServerTest, SigtermDrains) {
  auto server = Start(service_, DefaultOptions());
  HttpTestClient c = Client(server->port());
  ASSERT_TRUE(c.Roundtrip(Get("/v2/health/live")).ok());
  auto drain = SignalDrain::Create(server.get());
  ASSERT_TRUE(drain.ok());
  EXPECT_EQ(SignalDrain::Create(server.get()).status().code(), StatusCode::kFailedPrecondition);
  ASSERT_EQ(raise(SIGTERM), 0);
  server->Wait();  // returns once drained
  EXPECT_TRUE(c.ServerClosed());
}

TEST_F(HttpServerTest, ConnectionLimit) {
  HttpServer::Options o = DefaultOptions();
  o.num_loops = 1;
  o.max_connections = 2;
  auto server = Start(service_, o);
  HttpTestClient a = Client(server->port()), b = Client(server->port());
  ASSERT_TRUE(a.Roundtrip(Get("/v2")).ok());
  ASSERT_TRUE(b.Roundtrip(Get("/v2")).ok());
  HttpTestClient third = Client(server->port());
  auto r = third.Read();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Error(*r), std::make_pair(503, std::string("too many connections")));
}

TEST_F(HttpServerTest, ExpectContinue) {
  HttpTestClient c = Client();
  const std::string json = InferJson(rows_.data(), 1);
  ASSERT_TRUE(
      c.Send("POST /v2/models/trees/infer HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: " +
             std::to_string(json.size()) + "\r\n\r\n")
          .ok());
  auto r = c.Read();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 100);
  r = c.Roundtrip(json);
  ASSERT_TRUE(r.ok());
  ExpectScores(*r, 0, 1);
}

TEST(HttpServerOptionsTest, RejectsInvalidOptions) {
  HttpServer::Options o;
  o.port = 70000;
  EXPECT_EQ(HttpServer::Create(o, nullptr).status().code(), StatusCode::kInvalidArgument);
  o.port = 0;
  o.busy_poll_us = -1;
  Result<std::unique_ptr<HttpServer>> bad_poll = HttpServer::Create(o, nullptr);
  EXPECT_EQ(bad_poll.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_poll.status().message().find("busy_poll_us"), std::string::npos);
  o.busy_poll_us = 0;
  o.address = "not-an-ip";
  ModelMapService* none = nullptr;
  EXPECT_FALSE(HttpServer::Create(o, none).ok());
}

}  // namespace
}  // namespace hotpath
