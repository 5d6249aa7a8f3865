#include "serve/admission/fallback_router.h"

#include <gtest/gtest.h>

#include <string>

namespace hotpath {
namespace {

class FallbackRouterTest : public ::testing::Test {
 protected:
  FallbackRouterTest() {
    FallbackRouter::Options o;
    // One failure in two calls opens a breaker.
    o.breaker.window_size = 2;
    o.breaker.minimum_calls = 2;
    o.breaker.failure_rate_threshold = 0.5;
    o.models = {{"primary", "small"}, {"small", ""}, {"alone", ""}};
    auto r = FallbackRouter::Create(o, clock_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    router_ = std::move(r).value();
  }

  // Two calls to `model`'s breaker, one failed: opens it.
  void Trip(const std::string& model) {
    for (bool ok : {true, false}) {
      Result<FallbackRouter::Route> route = router_->RouteCall(model);
      ASSERT_TRUE(route.ok());
      ASSERT_EQ(route->model(), model);
      router_->Record(*route, ok);
    }
    ASSERT_EQ(router_->breaker(model)->state(), CircuitBreaker::State::kOpen);
  }

  FakeClock clock_;
  std::unique_ptr<FallbackRouter> router_;
};

TEST_F(FallbackRouterTest, RoutesToTheFallbackWhileThePrimaryIsOpen) {
  Result<FallbackRouter::Route> route = router_->RouteCall("primary");
  ASSERT_TRUE(route.ok());
  EXPECT_EQ(route->model(), "primary");
  EXPECT_FALSE(route->fallback);
  router_->Record(*route, true);

  Trip("primary");
  route = router_->RouteCall("primary");
  ASSERT_TRUE(route.ok());
  EXPECT_EQ(route->model(), "small");
  EXPECT_TRUE(route->fallback);
  router_->Record(*route, true);  // counts for the fallback's breaker
  EXPECT_EQ(router_->breaker("small")->snapshot().calls, 1);

  Trip("small");
  route = router_->RouteCall("primary");
  ASSERT_FALSE(route.ok());
  EXPECT_EQ(route.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(route.status().message().rfind("model 'primary' unavailable", 0), 0u);
  EXPECT_NE(route.status().message().find("; fallback model 'small' unavailable"),
            std::string::npos)
      << route.status().message();
}

TEST_F(FallbackRouterTest, FailsFastWithoutAFallback) {
  Trip("alone");
  Result<FallbackRouter::Route> route = router_->RouteCall("alone");
  ASSERT_FALSE(route.ok());
  EXPECT_EQ(route.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(route.status().message().find("model 'alone'"), std::string::npos);
  EXPECT_EQ(router_->RouteCall("nope").status().code(), StatusCode::kNotFound);
}

TEST(FallbackRouterCreateTest, RejectsBadFallbacks) {
  FakeClock clock;
  FallbackRouter::Options o;
  o.models = {{"a", "missing"}};
  Status s = FallbackRouter::Create(o, clock).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("fallback of 'a'"), std::string::npos) << s.message();
  o.models = {{"a", "a"}};
  EXPECT_EQ(FallbackRouter::Create(o, clock).status().code(), StatusCode::kInvalidArgument);
  o.models = {{"a", ""}, {"a", ""}};
  EXPECT_NE(FallbackRouter::Create(o, clock).status().message().find("twice"), std::string::npos);
}

}  // namespace
}  // namespace hotpath
