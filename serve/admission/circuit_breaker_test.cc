#include "serve/admission/circuit_breaker.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hotpath {
namespace {

using std::chrono::milliseconds;
using State = CircuitBreaker::State;

class CircuitBreakerTest : public ::testing::Test {
 protected:
  CircuitBreakerTest() {
    CircuitBreaker::Options o;
    o.name = "fraud-v3";
    o.failure_rate_threshold = 0.5;
    o.slow_call_rate_threshold = 0.6;
    o.slow_call_duration = milliseconds(100);
    o.window_size = 4;
    o.minimum_calls = 3;
    o.open_duration = std::chrono::seconds(1);
    o.half_open_calls = 2;
    auto r = CircuitBreaker::Create(
        o, clock_, [this](std::string_view name, State from, State to, const std::string& reason) {
          log_.push_back(std::string(name) + " " + std::string(CircuitStateName(from)) + "->" +
                         std::string(CircuitStateName(to)) + ": " + reason);
        });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    breaker_ = std::move(r).value();
  }

  CircuitBreaker::Ticket Allow() {
    Result<CircuitBreaker::Ticket> t = breaker_->Allow();
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? *t : CircuitBreaker::Ticket{};
  }
  // One call lasting `took`.
  void Call(bool ok, Nanos took = milliseconds(1)) {
    CircuitBreaker::Ticket t = Allow();
    clock_.Advance(took);
    breaker_->Record(t, ok);
  }
  std::string Refusal() {
    Result<CircuitBreaker::Ticket> t = breaker_->Allow();
    EXPECT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), StatusCode::kUnavailable);
    return t.status().message();
  }

  FakeClock clock_;
  std::vector<std::string> log_;
  std::unique_ptr<CircuitBreaker> breaker_;
};

TEST_F(CircuitBreakerTest, WalksEveryTransition) {
  // Closed. Failures below minimum_calls (3) do not count yet.
  Call(true);
  Call(false);
  Call(true);  // 1 of 3 failed: 33% < 50%
  Call(true);  // 1 of 4: 25%
  EXPECT_EQ(breaker_->state(), State::kClosed);
  const CircuitBreaker::Snapshot s = breaker_->snapshot();
  EXPECT_EQ(s.calls, 4);
  EXPECT_DOUBLE_EQ(s.failure_rate, 0.25);
  Call(false);  // the window slides to [fail, ok, ok, fail]: 2 of 4 = 50% >= 50%
  EXPECT_EQ(breaker_->state(), State::kOpen);
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_EQ(log_[0], "fraud-v3 closed->open: failure rate 50.0% >= 50.0% over 4 calls");

  // Open: fail fast, naming the model, the reason and the wait.
  EXPECT_EQ(Refusal(),
            "model 'fraud-v3' unavailable: circuit breaker open (failure rate 50.0% >= 50.0% "
            "over 4 calls); retry in 1.000 s");
  clock_.Advance(milliseconds(999));
  EXPECT_NE(Refusal().find("retry in 0.001 s"), std::string::npos);
  clock_.Advance(milliseconds(1));

  // Half-open after open_duration: 2 trial calls, the third is refused.
  CircuitBreaker::Ticket t1 = Allow();
  EXPECT_EQ(breaker_->state(), State::kHalfOpen);
  EXPECT_EQ(log_.back(), "fraud-v3 open->half-open: open for 1.000 s");
  CircuitBreaker::Ticket t2 = Allow();
  EXPECT_NE(Refusal().find("half-open, all 2 trial calls in flight"), std::string::npos);
  breaker_->Record(t1, true);
  clock_.Advance(milliseconds(150));
  breaker_->Record(t2, true);  // slow: 1 of 2 = 50% < 60%; failures 0%
  EXPECT_EQ(breaker_->state(), State::kClosed);
  EXPECT_EQ(log_.back(),
            "fraud-v3 half-open->closed: trial calls passed (failure rate 0.0%, slow-call rate "
            "50.0% over 2 calls)");
  EXPECT_EQ(breaker_->snapshot().calls, 0);  // a fresh window

  // Slow calls trip it too: 2 of 3 slow = 66.7% >= 60% (successes, all of them).
  Call(true, milliseconds(101));
  Call(true, milliseconds(100));  // exactly the threshold is not slow
  EXPECT_EQ(breaker_->state(), State::kClosed);
  Call(true, milliseconds(200));
  EXPECT_EQ(breaker_->state(), State::kOpen);
  EXPECT_EQ(log_.back(),
            "fraud-v3 closed->open: slow-call rate 66.7% >= 60.0% (calls over 0.100 s) over 3 "
            "calls");

  // Half-open again; a failed trial reopens it.
  clock_.Advance(std::chrono::seconds(1));
  Call(true);
  Call(false);  // 1 of 2 failed = 50%
  EXPECT_EQ(breaker_->state(), State::kOpen);
  EXPECT_EQ(log_.back(),
            "fraud-v3 half-open->open: trial calls: failure rate 50.0% >= 50.0% "
            "over 2 calls");
  EXPECT_EQ(log_.size(), 6u);
}

TEST_F(CircuitBreakerTest, IgnoresOutcomesOfCallsFromAnEarlierState) {
  CircuitBreaker::Ticket old = Allow();  // allowed while closed
  Call(false);
  Call(false);
  Call(false);  // 3 of 3 failed: open
  ASSERT_EQ(breaker_->state(), State::kOpen);
  clock_.Advance(std::chrono::seconds(1));
  CircuitBreaker::Ticket trial = Allow();
  ASSERT_EQ(breaker_->state(), State::kHalfOpen);
  breaker_->Record(old, false);  // from the closed state: ignored
  EXPECT_EQ(breaker_->snapshot().calls, 0);
  breaker_->Record(trial, true);
  Call(true);
  EXPECT_EQ(breaker_->state(), State::kClosed);
}

TEST(CircuitBreakerCreateTest, NamesTheBadField) {
  FakeClock clock;
  CircuitBreaker::Options o;
  EXPECT_NE(CircuitBreaker::Create(o, clock).status().message().find("name"), std::string::npos);
  o.name = "m";
  o.minimum_calls = o.window_size + 1;
  EXPECT_NE(CircuitBreaker::Create(o, clock).status().message().find("minimum_calls"),
            std::string::npos);
  o = {};
  o.name = "m";
  o.failure_rate_threshold = 0;
  EXPECT_NE(CircuitBreaker::Create(o, clock).status().message().find("failure_rate_threshold"),
            std::string::npos);
  o.failure_rate_threshold = 0.5;
  EXPECT_TRUE(CircuitBreaker::Create(o, clock).ok());
}

}  // namespace
}  // namespace hotpath
