// The HTTP front's per-client rate limit: 429 with the exact Retry-After,
// health checks exempt, the budget refilled by the (fake) clock.
#include <gtest/gtest.h>

#include <filesystem>

#include "runtime/tree/testing/xgboost_trainer.h"
#include "runtime/tree/tree_model.h"
#include "serve/admission/rate_limiter.h"
#include "serve/http_server.h"
#include "serve/model_map_service.h"
#include "serve/testing/http_test_client.h"

namespace hotpath {
namespace {

TEST(RateLimitHttpTest, OverTheLimitIs429WithRetryAfter) {
  testing::Dataset d;
  d.rows = 50;
  d.cols = 2;
  for (size_t i = 0; i < 100; ++i) d.x.push_back(static_cast<float>(i % 7));
  for (size_t r = 0; r < 50; ++r) d.label.push_back(r % 2);
  auto booster = testing::XGBoostBooster::Train(d, {{"objective", "binary:logistic"}}, 2);
  ASSERT_TRUE(booster.ok());
  const std::string path = (std::filesystem::temp_directory_path() / "hotpath_rl_model.json").string();
  ASSERT_TRUE(booster->Save(path).ok());
  auto model = TreeModel::Load(path, {});
  std::filesystem::remove(path);
  ASSERT_TRUE(model.ok());
  ModelMapService::Options mo;
  ModelMapService::Entry e;
  e.name = "m";
  e.model = std::shared_ptr<const Model>(std::move(*model));
  mo.models.push_back(e);
  auto service = ModelMapService::Create(mo);
  ASSERT_TRUE(service.ok());

  FakeClock clock;
  RateLimiter::Options ro;
  ro.rate_per_s = 0.5;  // one request per 2 s after the burst
  ro.burst = 2;
  auto limiter = RateLimiter::Create(ro, clock);
  ASSERT_TRUE(limiter.ok());
  HttpServer::Options ho;
  ho.address = "127.0.0.1";
  ho.port = 0;
  ho.num_loops = 1;
  ho.rate_limiter = limiter->get();
  auto server = HttpServer::Create(ho, service->get());
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto c = serve_testing::HttpTestClient::Connect((*server)->port());
  ASSERT_TRUE(c.ok());
  for (int i = 0; i < 2; ++i) EXPECT_EQ(c->Roundtrip(serve_testing::Get("/v2"))->status, 200) << i;
  auto limited = c->Roundtrip(serve_testing::Get("/v2/models/m"));
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->status, 429);
  EXPECT_EQ(limited->headers["retry-after"], "2");  // the next token is 2 s away
  EXPECT_NE(limited->body.find("\"error\""), std::string::npos);
  EXPECT_EQ(c->Roundtrip(serve_testing::Get("/v2/health/live"))->status, 200);  // never limited
  clock.Advance(std::chrono::seconds(2));
  EXPECT_EQ(c->Roundtrip(serve_testing::Get("/v2"))->status, 200);
  EXPECT_EQ(c->Roundtrip(serve_testing::Get("/v2"))->status, 429);
}

}  // namespace
}  // namespace hotpath
