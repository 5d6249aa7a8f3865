#include "serve/admission/fallback_router.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace hotpath {
namespace {

class FallbackRouterTest : public ::testing::Test {
 protected:
  FallbackRouterTest()
      : router_([this](std::string_view m) -> Result<FallbackRouter::Policy> {
          ++lookups_;
          auto it = policies_.find(std::string(m));
          if (it == policies_.end()) return NotFoundError("unknown model '" + std::string(m) + "'");
          return it->second;
        }, clock_) {
    // One failure in two calls opens a breaker.
    FallbackRouter::Policy p;
    p.breaker.window_size = 2;
    p.breaker.minimum_calls = 2;
    p.breaker.failure_rate_threshold = 0.5;
    policies_["small"] = p;
    policies_["alone"] = p;
    p.fallback = "small";
    policies_["primary"] = p;
  }

  Result<FallbackRouter::Route> Call(const std::string& model) {
    return router_.RouteCall(model, policies_.at(model));
  }

  // Two calls to `model`'s breaker, one failed: opens it.
  void Trip(const std::string& model) {
    for (bool ok : {true, false}) {
      Result<FallbackRouter::Route> route = Call(model);
      ASSERT_TRUE(route.ok());
      ASSERT_FALSE(route->fallback);
      ASSERT_EQ(route->breaker->name(), model);
      FallbackRouter::Record(*route, ok);
    }
    ASSERT_EQ(router_.breaker(model)->state(), CircuitBreaker::State::kOpen);
  }

  FakeClock clock_;
  std::map<std::string, FallbackRouter::Policy> policies_;
  int lookups_ = 0;
  FallbackRouter router_;
};

TEST_F(FallbackRouterTest, RoutesToTheFallbackWhileThePrimaryIsOpen) {
  Result<FallbackRouter::Route> route = Call("primary");
  ASSERT_TRUE(route.ok());
  EXPECT_EQ(route->breaker->name(), "primary");
  EXPECT_FALSE(route->fallback);
  FallbackRouter::Record(*route, true);
  EXPECT_EQ(lookups_, 0);  // the fallback's policy is read only when needed

  Trip("primary");
  route = Call("primary");
  ASSERT_TRUE(route.ok());
  EXPECT_EQ(route->breaker->name(), "small");
  EXPECT_TRUE(route->fallback);
  EXPECT_EQ(lookups_, 1);
  FallbackRouter::Record(*route, true);  // counts for the fallback's breaker
  EXPECT_EQ(router_.breaker("small")->snapshot().calls, 1);

  Trip("small");
  route = Call("primary");
  ASSERT_FALSE(route.ok());
  EXPECT_EQ(route.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(route.status().message().rfind("model 'primary' unavailable", 0), 0u);
  EXPECT_NE(route.status().message().find("; fallback model 'small' unavailable"), std::string::npos)
      << route.status().message();

  // After open_duration the primary is tried again (half-open).
  clock_.Advance(policies_["primary"].breaker.open_duration);
  route = Call("primary");
  ASSERT_TRUE(route.ok());
  EXPECT_FALSE(route->fallback);
  EXPECT_EQ(router_.breaker("primary")->state(), CircuitBreaker::State::kHalfOpen);
}

TEST_F(FallbackRouterTest, FailsFastWithoutAFallback) {
  Trip("alone");
  Result<FallbackRouter::Route> route = Call("alone");
  ASSERT_FALSE(route.ok());
  EXPECT_EQ(route.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(route.status().message().find("model 'alone'"), std::string::npos);
}

TEST_F(FallbackRouterTest, AFallbackThatIsNotServedIsNamed) {
  policies_["primary"].fallback = "gone";
  Trip("primary");
  Result<FallbackRouter::Route> route = Call("primary");
  ASSERT_FALSE(route.ok());
  EXPECT_EQ(route.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(route.status().message().find("fallback model 'gone' unavailable: unknown model 'gone'"),
            std::string::npos)
      << route.status().message();
}

TEST_F(FallbackRouterTest, NewSettingsReplaceTheBreaker) {
  Trip("alone");
  FallbackRouter::Policy p = policies_["alone"];
  p.breaker.window_size = 4;  // e.g. a new version's config
  p.breaker.minimum_calls = 4;
  Result<FallbackRouter::Route> route = router_.RouteCall("alone", p);
  ASSERT_TRUE(route.ok());
  EXPECT_EQ(router_.breaker("alone")->state(), CircuitBreaker::State::kClosed);
  FallbackRouter::Record(*route, false);
  EXPECT_EQ(router_.breaker("alone")->snapshot().calls, 1);
}

TEST_F(FallbackRouterTest, ADisabledBreakerAlwaysRoutesToTheModel) {
  FallbackRouter::Policy p = policies_["alone"];
  p.breaker_enabled = false;
  for (int i = 0; i < 10; ++i) {
    Result<FallbackRouter::Route> route = router_.RouteCall("alone", p);
    ASSERT_TRUE(route.ok());
    EXPECT_EQ(route->breaker, nullptr);
    EXPECT_FALSE(route->fallback);
    FallbackRouter::Record(*route, false);
  }
  EXPECT_EQ(router_.breaker("alone"), nullptr);
}

TEST_F(FallbackRouterTest, RejectsBadPolicies) {
  FallbackRouter::Policy p = policies_["alone"];
  p.fallback = "alone";
  EXPECT_EQ(router_.RouteCall("alone", p).status().code(), StatusCode::kInvalidArgument);
  p.fallback.clear();
  p.breaker.minimum_calls = 0;
  Status s = router_.RouteCall("alone", p).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("minimum_calls"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace hotpath
