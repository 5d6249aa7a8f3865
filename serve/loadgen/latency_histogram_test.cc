// The load generator's parts against independent oracles: histogram
// quantiles against exact order statistics of the same samples, and request
// accounting against a real HttpServer whose answers are known.
#include "serve/loadgen/latency_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "serve/loadgen/load_generator.h"
#include "serve/http_server.h"
#include "serve/inference_service.h"

namespace hotpath::loadgen {
namespace {

TEST(LatencyHistogramTest, QuantilesWithinRelativeError) {
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> d(10.0, 1.5);  // ~22 us median, long tail
  std::vector<uint64_t> v;
  LatencyHistogram h;
  for (int i = 0; i < 200000; ++i) {
    v.push_back(static_cast<uint64_t>(d(rng)));
    h.Record(v.back());
  }
  std::sort(v.begin(), v.end());
  for (double q : {0.0, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0}) {
    const uint64_t exact = v[static_cast<size_t>(std::max(1.0, std::ceil(q * v.size()))) - 1];
    EXPECT_NEAR(static_cast<double>(h.Quantile(q)), static_cast<double>(exact), exact / 128.0 + 1)
        << "q=" << q;
  }
  EXPECT_EQ(h.count(), v.size());
  EXPECT_EQ(h.max(), v.back());
  EXPECT_EQ(h.min(), v.front());
}

TEST(LatencyHistogramTest, SmallValuesAreExactAndMergeAdds) {
  LatencyHistogram a, b;
  for (uint64_t i = 1; i <= 100; ++i) (i % 2 ? a : b).Record(i);
  a.Merge(b);
  EXPECT_EQ(a.count(), 100u);
  EXPECT_EQ(a.Quantile(0.5), 50u);
  EXPECT_EQ(a.Quantile(0.99), 99u);
  EXPECT_DOUBLE_EQ(a.mean(), 50.5);
  a.Reset();
  EXPECT_EQ(a.Quantile(0.5), 0u);
}

// A service with no models: health endpoints answer 200, model paths 404.
class NoModels final : public InferenceService {
 public:
  bool ServerLive() const override { return true; }
  bool ServerReady() const override { return true; }
  ServerMetadata GetServerMetadata() const override { return {"t", "0", {}}; }
  Result<bool> ModelReady(std::string_view, std::string_view) const override {
    return NotFoundError("no models");
  }
  Result<ModelMetadata> GetModelMetadata(std::string_view, std::string_view) const override {
    return NotFoundError("no models");
  }
  void Infer(const InferRequest&, InferResponse*, InferDone done) override {
    done(NotFoundError("no models"));
  }
};

TEST(LoadGeneratorTest, CountsAnswersByStatusInBothModes) {
  NoModels service;
  HttpServer::Options so;
  so.address = "127.0.0.1";
  so.port = 0;
  so.num_loops = 1;
  auto server = HttpServer::Create(so, &service);
  ASSERT_TRUE(server.ok());
  LoadOptions o;
  o.port = (*server)->port();
  o.requests = {"GET /v2/health/live HTTP/1.1\r\n\r\n", "GET /v2/models/x HTTP/1.1\r\n\r\n"};
  o.connections = 4;
  o.warmup = std::chrono::milliseconds(50);
  o.duration = std::chrono::milliseconds(200);
  auto closed = RunLoad(o);
  ASSERT_TRUE(closed.ok());
  EXPECT_GT(closed->ok, 100u);
  EXPECT_EQ(closed->by_status[200] + closed->by_status[404], closed->completed);
  EXPECT_NEAR(static_cast<double>(closed->by_status[404]),
              static_cast<double>(closed->by_status[200]),
              8.0);  // the two requests alternate over 4 connections
  EXPECT_EQ(closed->io_errors, 0u);
  EXPECT_EQ(closed->latency.count(), closed->ok);

  o.mode = LoadOptions::Mode::kOpenLoop;
  o.rate_rps = 2000;
  o.requests.pop_back();
  auto open = RunLoad(o);
  ASSERT_TRUE(open.ok());
  // Poisson arrivals: 400 expected in 200 ms; 5 sigma is 100.
  EXPECT_NEAR(static_cast<double>(open->ok), 400.0, 100.0);
  EXPECT_EQ(open->unfinished, 0u);
  EXPECT_EQ(open->client_dropped, 0u);

  // Spinning before each send changes when the driver wakes, not what it
  // sends: the same Poisson schedule, every request answered.
  o.spin_before_send = std::chrono::microseconds(100);
  auto spun = RunLoad(o);
  ASSERT_TRUE(spun.ok());
  EXPECT_NEAR(static_cast<double>(spun->ok), 400.0, 100.0);
  EXPECT_EQ(spun->unfinished, 0u);
  EXPECT_EQ(spun->latency.count(), spun->ok);
  o.spin_before_send = std::chrono::microseconds(-1);
  EXPECT_EQ(RunLoad(o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hotpath::loadgen
