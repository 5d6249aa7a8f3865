#include "sched/batcher.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "sched/testing/dot_model.h"

namespace hotpath {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using testing::DotModel;
using Mode = DynamicBatcher::ShutdownMode;

// DotModel's output for one row, computed directly in double.
std::vector<double> Expected(const DotModel& m, const float* row) {
  const size_t f = static_cast<size_t>(m.num_features());
  const size_t outs = static_cast<size_t>(m.OutputWidth(OutputKind::kValue));
  const size_t passes = m.refs().size() / f;
  std::vector<double> y(outs);
  for (size_t j = 0; j < outs; ++j) {
    double center = 0;
    for (size_t p = 0; p < passes; ++p) {
      for (size_t k = 0; k < f; ++k) center += double{m.weights()[j * f + k]} * m.refs()[p * f + k];
    }
    double dot = 0;
    for (size_t k = 0; k < f; ++k) dot += double{m.weights()[j * f + k]} * row[k];
    y[j] = m.bias()[j] + dot - (passes > 0 ? center / static_cast<double>(passes) : 0.0);
  }
  return y;
}

// A DotModel whose Predict calls wait until Open(), so tests can hold a worker busy.
class GatedModel final : public Model {
 public:
  explicit GatedModel(const DotModel::Options& o) : inner_(o) {}
  const ModelSignature& signature() const override { return inner_.signature(); }
  int64_t num_features() const override { return inner_.num_features(); }
  int64_t OutputWidth(OutputKind k) const override { return inner_.OutputWidth(k); }
  size_t MemoryBytes() const override { return inner_.MemoryBytes(); }
  Status Predict(const float* x, size_t rows, OutputKind kind, float* out) const override {
    std::unique_lock<std::mutex> lock(mu_);
    ++entered_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
    lock.unlock();
    return inner_.Predict(x, rows, kind, out);
  }
  void WaitEntered(int n) const {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return entered_ >= n; });
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  DotModel inner_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  mutable int entered_ = 0;
  bool open_ = false;
};

// Collects callback outcomes: status, completion time and order.
class Outcomes {
 public:
  explicit Outcomes(size_t n) : statuses_(n), at_(n) {}
  DynamicBatcher::DoneCallback For(size_t i) {
    return [this, i](Status s) { Record(i, std::move(s)); };
  }
  // Waits until `n` callbacks ran; false after 10 s.
  bool WaitFor(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return order_.size() >= n; });
  }
  Status status(size_t i) {
    std::lock_guard<std::mutex> lock(mu_);
    return statuses_[i];
  }
  TimePoint at(size_t i) {
    std::lock_guard<std::mutex> lock(mu_);
    return at_[i];
  }
  std::vector<size_t> order() {
    std::lock_guard<std::mutex> lock(mu_);
    return order_;
  }

 private:
  void Record(size_t i, Status s) {
    const TimePoint now = RealClock().Now();
    std::lock_guard<std::mutex> lock(mu_);
    statuses_[i] = std::move(s);
    at_[i] = now;
    order_.push_back(i);
    cv_.notify_all();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Status> statuses_;
  std::vector<TimePoint> at_;
  std::vector<size_t> order_;
};

DynamicBatcher::Request Req(const float* x, size_t rows, float* out, int priority = 0) {
  DynamicBatcher::Request r;
  r.x = x;
  r.rows = rows;
  r.out = out;
  r.priority = priority;
  return r;
}

DynamicBatcher::Request Expired(const float* x, float* out) {
  DynamicBatcher::Request r = Req(x, 1, out);
  r.deadline = Deadline(RealClock().Now() - milliseconds(1));
  return r;
}

DynamicBatcher::Options BaseOptions() {
  DynamicBatcher::Options o;
  o.model_name = "dot";
  return o;
}

uint64_t CounterValue(MetricsRegistry& r, const std::string& name,
                      const std::vector<std::string>& labels) {
  const FamilyBase* f = r.Find(name);
  EXPECT_NE(f, nullptr) << name;
  std::vector<std::string> names = f->spec().label_names;
  return r.AddCounter({name, f->spec().help, names}).value()->WithLabels(labels).value()->Value();
}

HistogramSnapshot HistogramValue(MetricsRegistry& r, const std::string& name,
                                 const std::vector<std::string>& labels) {
  const FamilyBase* f = r.Find(name);
  EXPECT_NE(f, nullptr) << name;
  auto buckets = HistogramBuckets::Explicit(f->bucket_bounds()).value();
  return r.AddHistogram({name, f->spec().help, f->spec().label_names}, buckets)
      .value()
      ->WithLabels(labels)
      .value()
      ->Snapshot();
}

TEST(DynamicBatcherTest, CreateNamesTheBadField) {
  auto model = std::make_shared<DotModel>(DotModel::Options{});
  struct Case {
    void (*mutate)(DynamicBatcher::Options&);
    const char* field;
  };
  const Case cases[] = {
      {[](auto& o) { o.model_name = ""; }, "model_name"},
      {[](auto& o) { o.max_batch_size = 0; }, "max_batch_size"},
      {[](auto& o) { o.max_queue_delay_us = -1; }, "max_queue_delay_us"},
      {[](auto& o) {
         o.preferred_batch_sizes = {4, 2};
       },
       "preferred_batch_sizes"},
      {[](auto& o) { o.preferred_batch_sizes = {64}; }, "preferred_batch_sizes"},
      {[](auto& o) { o.priority_levels = 0; }, "priority_levels"},
      {[](auto& o) { o.default_priority = 2; }, "default_priority"},
      {[](auto& o) { o.priority_aging_us = -5; }, "priority_aging_us"},
      {[](auto& o) { o.default_timeout_us = -1; }, "default_timeout_us"},
      {[](auto& o) { o.max_queue_size = 0; }, "max_queue_size"},
      {[](auto& o) { o.instance_count = 0; }, "instance_count"},
      {[](auto& o) { o.adaptive_p99_target_us = -1; }, "adaptive_p99_target_us"},
      {[](auto& o) { o.idle_spin_us = -1; }, "idle_spin_us"},
      {[](auto& o) { o.timer_fifo_priority = 100; }, "timer_fifo_priority"},
  };
  for (const Case& c : cases) {
    MetricsRegistry registry;
    DynamicBatcher::Options o = BaseOptions();
    c.mutate(o);
    Status s = DynamicBatcher::Create(o, model, registry).status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.field;
    EXPECT_NE(s.message().find(c.field), std::string::npos) << s.message();
  }
  MetricsRegistry registry;
  EXPECT_EQ(DynamicBatcher::Create(BaseOptions(), nullptr, registry).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(DynamicBatcherTest, RealTimeTimerIsSetOrRefused) {
  // The oracle: whether this process may make a thread SCHED_FIFO.
  bool permitted = false;
  std::thread probe([&] {
    sched_param param{};
    param.sched_priority = 1;
    permitted = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) == 0;
  });
  probe.join();
  auto model = std::make_shared<DotModel>(DotModel::Options{});
  MetricsRegistry registry;
  DynamicBatcher::Options o = BaseOptions();
  o.timer_fifo_priority = 1;
  Result<std::unique_ptr<DynamicBatcher>> b = DynamicBatcher::Create(o, model, registry);
  if (permitted) {
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    std::vector<float> x(8, 1.0f), out(2);
    DynamicBatcher::Request r = Req(x.data(), 1, out.data());
    r.deadline = Deadline::After(RealClock(), std::chrono::seconds(5));
    EXPECT_TRUE((*b)->SubmitWithFuture(r).get().ok());
  } else {
    EXPECT_EQ(b.status().code(), StatusCode::kPermissionDenied);
    EXPECT_NE(b.status().message().find("timer_fifo_priority"), std::string::npos);
  }
}

TEST(DynamicBatcherTest, OutputsMatchDirectComputation) {
  auto model = std::make_shared<DotModel>(
      DotModel::Options{.features = 8, .outputs = 3, .call_passes = 2, .seed = 3});
  MetricsRegistry registry;
  DynamicBatcher::Options o = BaseOptions();
  o.max_batch_size = 16;
  o.max_queue_delay_us = 500;
  o.instance_count = 2;
  auto batcher = DynamicBatcher::Create(o, model, registry).value();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 300;
  std::atomic<uint64_t> total_rows{0};
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 gen(static_cast<uint32_t>(t));
      std::uniform_real_distribution<float> u(-2, 2);
      for (int i = 0; i < kPerThread; ++i) {
        const size_t rows = 1 + gen() % 4;
        std::vector<float> x(rows * 8), out(rows * 3, -1e9f);
        for (float& v : x) v = u(gen);
        Status s = batcher->SubmitWithFuture(Req(x.data(), rows, out.data())).get();
        ASSERT_TRUE(s.ok()) << s.ToString();
        total_rows += rows;
        for (size_t r = 0; r < rows; ++r) {
          const std::vector<double> want = Expected(*model, &x[r * 8]);
          for (size_t j = 0; j < 3; ++j) {
            if (std::abs(out[r * 3 + j] - want[j]) > 1e-4) ++mismatches;
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_EQ(CounterValue(registry, "hotpath_sched_inferences_total", {"dot", "1"}),
            total_rows.load());
  EXPECT_EQ(CounterValue(registry, "hotpath_sched_request_success_total", {"dot", "1", "1"}),
            static_cast<uint64_t>(kThreads * kPerThread));
  const HistogramSnapshot rows = HistogramValue(registry, "hotpath_sched_batch_rows", {"dot", "1"});
  EXPECT_EQ(rows.sum, static_cast<double>(total_rows.load()));
  EXPECT_EQ(rows.Count(), CounterValue(registry, "hotpath_sched_executions_total", {"dot", "1"}));
}

TEST(DynamicBatcherTest, FullBatchRunsWithoutWaitingTheDelay) {
  auto model = std::make_shared<DotModel>(DotModel::Options{});
  MetricsRegistry registry;
  DynamicBatcher::Options o = BaseOptions();
  o.max_batch_size = 8;
  o.max_queue_delay_us = 10'000'000;  // 10 s: only a full batch can go early
  auto batcher = DynamicBatcher::Create(o, model, registry).value();
  std::vector<float> x(8 * 8, 1.0f), out(8 * 2);
  Outcomes done(8);
  const TimePoint start = RealClock().Now();
  for (size_t i = 0; i < 8; ++i) {
    ASSERT_TRUE(batcher->Submit(Req(&x[i * 8], 1, &out[i * 2]), done.For(i)).ok());
  }
  ASSERT_TRUE(done.WaitFor(8));
  EXPECT_LT(RealClock().Now() - start, std::chrono::seconds(5));
  EXPECT_EQ(CounterValue(registry, "hotpath_sched_executions_total", {"dot", "1"}), 1u);
  EXPECT_EQ(HistogramValue(registry, "hotpath_sched_batch_rows", {"dot", "1"}).sum, 8.0);
}

TEST(DynamicBatcherTest, PartialBatchWaitsTheQueueDelay) {
  auto model = std::make_shared<DotModel>(DotModel::Options{});
  MetricsRegistry registry;
  DynamicBatcher::Options o = BaseOptions();
  o.max_queue_delay_us = 30'000;
  auto batcher = DynamicBatcher::Create(o, model, registry).value();
  std::vector<float> x(8, 1.0f), out(2);
  Outcomes done(1);
  const TimePoint start = RealClock().Now();
  ASSERT_TRUE(batcher->Submit(Req(x.data(), 1, out.data()), done.For(0)).ok());
  ASSERT_TRUE(done.WaitFor(1));
  const Nanos waited = done.at(0) - start;
  EXPECT_GE(waited, microseconds(30'000));
  EXPECT_LT(waited, milliseconds(530));
}

TEST(DynamicBatcherTest, QueueBeyondMaxIsUnavailable) {
  auto model = std::make_shared<GatedModel>(DotModel::Options{});
  MetricsRegistry registry;
  DynamicBatcher::Options o = BaseOptions();
  o.max_batch_size = 1;
  o.max_queue_delay_us = 0;
  o.max_queue_size = 2;
  auto batcher = DynamicBatcher::Create(o, model, registry).value();
  std::vector<float> x(8, 1.0f), out(4 * 2);
  Outcomes done(4);
  ASSERT_TRUE(batcher->Submit(Req(x.data(), 1, &out[0]), done.For(0)).ok());
  model->WaitEntered(1);  // the first runs; two more fill the queue
  ASSERT_TRUE(batcher->Submit(Req(x.data(), 1, &out[2]), done.For(1)).ok());
  ASSERT_TRUE(batcher->Submit(Req(x.data(), 1, &out[4]), done.For(2)).ok());
  Status full = batcher->Submit(Req(x.data(), 1, &out[6]), done.For(3));
  EXPECT_EQ(full.code(), StatusCode::kUnavailable);
  EXPECT_EQ(CounterValue(registry, "hotpath_sched_rejected_total", {"dot", "1", "1", "queue_full"}),
            1u);
  model->Open();
  ASSERT_TRUE(done.WaitFor(3));
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(done.status(i).ok());
}

// The worker is stuck in a long batch; the queued request must still be
// answered at its deadline, not when the batch finishes.
void ExpectAnsweredAtDeadline(DynamicBatcher::Options o, bool explicit_deadline) {
  auto model = std::make_shared<GatedModel>(DotModel::Options{});
  MetricsRegistry registry;
  o.max_batch_size = 1;
  o.max_queue_delay_us = 0;
  auto batcher = DynamicBatcher::Create(o, model, registry).value();
  std::vector<float> x(8, 1.0f), out(4);
  Outcomes done(2);
  ASSERT_TRUE(batcher->Submit(Req(x.data(), 1, &out[0]), done.For(0)).ok());
  model->WaitEntered(1);
  const Deadline deadline = Deadline::After(RealClock(), milliseconds(20));
  DynamicBatcher::Request r = Req(x.data(), 1, &out[2]);
  if (explicit_deadline) r.deadline = deadline;
  ASSERT_TRUE(batcher->Submit(r, done.For(1)).ok());
  ASSERT_TRUE(done.WaitFor(1));  // while the gate is still closed
  EXPECT_EQ(done.status(1).code(), StatusCode::kDeadlineExceeded);
  const Nanos late = done.at(1) - deadline.at();
  EXPECT_GE(late, Nanos(0));
  EXPECT_LT(late, milliseconds(10));
  EXPECT_EQ(CounterValue(registry, "hotpath_sched_request_failure_total",
                         {"dot", "1", "1", "deadline_exceeded"}),
            1u);
  model->Open();
  ASSERT_TRUE(done.WaitFor(2));
  EXPECT_TRUE(done.status(0).ok());
}

TEST(DynamicBatcherTest, ExpiredRequestIsAnsweredAtItsDeadline) {
  ExpectAnsweredAtDeadline(BaseOptions(), /*explicit_deadline=*/true);
}

TEST(DynamicBatcherTest, DefaultTimeoutGivesADeadline) {
  DynamicBatcher::Options o = BaseOptions();
  o.default_timeout_us = 20'000;
  ExpectAnsweredAtDeadline(o, /*explicit_deadline=*/false);
}

TEST(DynamicBatcherTest, RejectsBadRequestsNamingTheField) {
  auto model = std::make_shared<DotModel>(DotModel::Options{});
  MetricsRegistry registry;
  DynamicBatcher::Options o = BaseOptions();
  o.max_batch_size = 4;
  o.priority_levels = 2;
  auto batcher = DynamicBatcher::Create(o, model, registry).value();
  std::vector<float> x(5 * 8), out(5 * 2);
  bool called = false;
  auto cb = [&called](Status) { called = true; };
  struct Case {
    DynamicBatcher::Request r;
    StatusCode code;
    const char* field;
  };
  const Case cases[] = {
      {Req(nullptr, 1, out.data()), StatusCode::kInvalidArgument, "x"},
      {Req(x.data(), 1, nullptr), StatusCode::kInvalidArgument, "out"},
      {Req(x.data(), 0, out.data()), StatusCode::kInvalidArgument, "rows"},
      {Req(x.data(), 5, out.data()), StatusCode::kInvalidArgument, "rows"},
      {Req(x.data(), 1, out.data(), 3), StatusCode::kInvalidArgument, "priority"},
      {Expired(x.data(), out.data()), StatusCode::kDeadlineExceeded, "deadline"},
  };
  for (const Case& c : cases) {
    Status s = batcher->Submit(c.r, cb);
    EXPECT_EQ(s.code(), c.code) << c.field;
    EXPECT_NE(s.message().find(c.field), std::string::npos) << s.message();
  }
  batcher->Shutdown(Mode::kDrain);
  EXPECT_FALSE(called);
  EXPECT_EQ(
      CounterValue(registry, "hotpath_sched_rejected_total", {"dot", "1", "1", "invalid_argument"}),
      5u);
}

TEST(DynamicBatcherTest, HigherPriorityRunsFirst) {
  auto model = std::make_shared<GatedModel>(DotModel::Options{});
  MetricsRegistry registry;
  DynamicBatcher::Options o = BaseOptions();
  o.max_batch_size = 1;
  o.max_queue_delay_us = 0;
  o.priority_levels = 3;
  o.default_priority = 2;
  o.priority_aging_us = 10'000'000;
  auto batcher = DynamicBatcher::Create(o, model, registry).value();
  std::vector<float> x(8, 1.0f), out(4 * 2);
  Outcomes done(4);
  ASSERT_TRUE(batcher->Submit(Req(x.data(), 1, &out[0]), done.For(0)).ok());
  model->WaitEntered(1);
  ASSERT_TRUE(batcher->Submit(Req(x.data(), 1, &out[2], 3), done.For(1)).ok());
  ASSERT_TRUE(batcher->Submit(Req(x.data(), 1, &out[4]), done.For(2)).ok());
  ASSERT_TRUE(batcher->Submit(Req(x.data(), 1, &out[6], 1), done.For(3)).ok());
  model->Open();
  ASSERT_TRUE(done.WaitFor(4));
  EXPECT_EQ(done.order(), (std::vector<size_t>{0, 3, 2, 1}));
}

TEST(DynamicBatcherTest, ShutdownFailAnswersQueuedRequestsUnavailable) {
  auto model = std::make_shared<GatedModel>(DotModel::Options{});
  MetricsRegistry registry;
  DynamicBatcher::Options o = BaseOptions();
  o.max_batch_size = 1;
  o.max_queue_delay_us = 0;
  auto batcher = DynamicBatcher::Create(o, model, registry).value();
  std::vector<float> x(8, 1.0f), out(3 * 2);
  Outcomes done(3);
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(batcher->Submit(Req(x.data(), 1, &out[2 * i]), done.For(i)).ok());
    if (i == 0) model->WaitEntered(1);
  }
  std::thread stopper([&] { batcher->Shutdown(Mode::kFail); });
  ASSERT_TRUE(done.WaitFor(2));  // the queued two, while the first still runs
  EXPECT_EQ(done.status(1).code(), StatusCode::kUnavailable);
  EXPECT_EQ(done.status(2).code(), StatusCode::kUnavailable);
  std::vector<float> late_out(2);
  EXPECT_EQ(batcher->Submit(Req(x.data(), 1, late_out.data()), [](Status) {}).code(),
            StatusCode::kUnavailable);
  model->Open();
  stopper.join();
  EXPECT_TRUE(done.status(0).ok());
  EXPECT_EQ(
      CounterValue(registry, "hotpath_sched_request_failure_total", {"dot", "1", "1", "shutdown"}),
      2u);
}

TEST(DynamicBatcherTest, ShutdownDrainRunsQueuedRequestsAtOnce) {
  auto model = std::make_shared<DotModel>(DotModel::Options{});
  MetricsRegistry registry;
  DynamicBatcher::Options o = BaseOptions();
  o.max_queue_delay_us = 10'000'000;
  auto batcher = DynamicBatcher::Create(o, model, registry).value();
  std::vector<float> x(5 * 8, 0.5f), out(5 * 2);
  Outcomes done(5);
  for (size_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(batcher->Submit(Req(&x[i * 8], 1, &out[i * 2]), done.For(i)).ok());
  }
  const TimePoint start = RealClock().Now();
  batcher->Shutdown(Mode::kDrain);
  EXPECT_LT(RealClock().Now() - start, std::chrono::seconds(5));
  ASSERT_TRUE(done.WaitFor(5));
  const std::vector<double> want = Expected(*model, x.data());
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_TRUE(done.status(i).ok());
    EXPECT_NEAR(out[i * 2], want[0], 1e-4);
  }
}

TEST(DynamicBatcherTest, ModelErrorReachesEveryRequestOfTheBatch) {
  auto model = std::make_shared<DotModel>(DotModel::Options{});
  MetricsRegistry registry;
  DynamicBatcher::Options o = BaseOptions();
  o.output_kind = OutputKind::kContributions;
  o.max_batch_size = 4;
  o.max_queue_delay_us = 10'000'000;
  auto batcher = DynamicBatcher::Create(o, model, registry).value();
  std::vector<float> x(4 * 8), out(4 * 2);
  Outcomes done(4);
  for (size_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(batcher->Submit(Req(&x[i * 8], 1, &out[i * 2]), done.For(i)).ok());
  }
  ASSERT_TRUE(done.WaitFor(4));
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(done.status(i).code(), StatusCode::kUnimplemented);
  EXPECT_EQ(CounterValue(registry, "hotpath_sched_request_failure_total",
                         {"dot", "1", "1", "model_error"}),
            4u);
}

TEST(DynamicBatcherTest, EveryAcceptedRequestIsAnsweredOnce) {
  auto model = std::make_shared<DotModel>(DotModel::Options{});
  MetricsRegistry registry;
  DynamicBatcher::Options o = BaseOptions();
  o.max_batch_size = 8;
  o.max_queue_delay_us = 200;
  o.priority_levels = 3;
  o.max_queue_size = 64;
  o.instance_count = 2;
  auto batcher = DynamicBatcher::Create(o, model, registry).value();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 3000;
  std::vector<std::atomic<int>> calls(kThreads * kPerThread);
  std::atomic<int> accepted{0}, ok{0}, expired{0}, full{0};
  std::vector<float> x(8, 1.0f);
  std::vector<float> outs(kThreads * kPerThread * 2);  // outlives every request
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 gen(static_cast<uint32_t>(t + 11));
      for (int i = 0; i < kPerThread; ++i) {
        const int id = t * kPerThread + i;
        float* out = &outs[static_cast<size_t>(id) * 2];
        DynamicBatcher::Request r = Req(x.data(), 1, out, static_cast<int>(gen() % 4));
        if (gen() % 3 == 0) r.deadline = Deadline::After(RealClock(), microseconds(gen() % 300));
        Status s = batcher->Submit(r, [&, id](Status st) {
          ++calls[static_cast<size_t>(id)];
          if (st.ok()) ++ok;
          if (st.code() == StatusCode::kDeadlineExceeded) ++expired;
        });
        if (s.ok()) ++accepted;
        if (s.code() == StatusCode::kUnavailable) {
          ++full;
          std::this_thread::sleep_for(microseconds(50));  // let the workers catch up
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  batcher->Shutdown(Mode::kDrain);
  int answered = 0;
  for (auto& c : calls) {
    EXPECT_LE(c.load(), 1);
    answered += c.load();
  }
  EXPECT_EQ(answered, accepted.load());
  EXPECT_EQ(ok.load() + expired.load(), accepted.load());
  // The mix exercised both outcomes.
  EXPECT_GT(ok.load(), 0);
  EXPECT_GT(expired.load(), 0);
  uint64_t success = 0, deadline = 0, queue_full = 0;
  for (const char* p : {"1", "2", "3"}) {
    success += CounterValue(registry, "hotpath_sched_request_success_total", {"dot", "1", p});
    deadline += CounterValue(registry, "hotpath_sched_request_failure_total",
                             {"dot", "1", p, "deadline_exceeded"});
    queue_full +=
        CounterValue(registry, "hotpath_sched_rejected_total", {"dot", "1", p, "queue_full"});
  }
  EXPECT_EQ(success, static_cast<uint64_t>(ok.load()));
  EXPECT_EQ(deadline, static_cast<uint64_t>(expired.load()));
  EXPECT_EQ(queue_full, static_cast<uint64_t>(full.load()));
}

TEST(DynamicBatcherTest, AdaptiveModeLowersTheDelayToMeetTheTarget) {
  auto model = std::make_shared<DotModel>(DotModel::Options{});
  MetricsRegistry registry;
  DynamicBatcher::Options o = BaseOptions();
  o.max_batch_size = 64;
  o.max_queue_delay_us = 10'000;
  o.adaptive_p99_target_us = 1'000;
  auto batcher = DynamicBatcher::Create(o, model, registry).value();
  EXPECT_EQ(batcher->queue_delay(), microseconds(10'000));
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      std::vector<float> x(8, 1.0f), out(2);
      for (int i = 0; i < 200; ++i) {
        ASSERT_TRUE(batcher->SubmitWithFuture(Req(x.data(), 1, out.data())).get().ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  // With a near-zero service time the delay settles just under the target.
  EXPECT_LT(batcher->queue_delay(), microseconds(1'000));
  const FamilyBase* gauge = registry.Find("hotpath_sched_queue_delay_seconds");
  ASSERT_NE(gauge, nullptr);
  std::string text = registry.ExpositionText();
  const std::string key = "hotpath_sched_queue_delay_seconds{model=\"dot\",version=\"1\"} ";
  const size_t at = text.find(key);
  ASSERT_NE(at, std::string::npos);
  EXPECT_NEAR(std::stod(text.substr(at + key.size())),
              static_cast<double>(batcher->queue_delay().count()) * 1e-9, 1e-9);
}

TEST(DynamicBatcherTest, MetricsPassPromtool) {
  if (std::system("command -v promtool > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "promtool not installed (Debian package prometheus)";
  }
  auto model = std::make_shared<DotModel>(DotModel::Options{});
  MetricsRegistry registry;
  DynamicBatcher::Options o = BaseOptions();
  o.priority_levels = 2;
  auto batcher = DynamicBatcher::Create(o, model, registry).value();
  std::vector<float> x(8, 1.0f), out(2);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(batcher->SubmitWithFuture(Req(x.data(), 1, out.data())).get().ok());
  }
  const std::string path = "/tmp/hotpath_sched_metrics_" + std::to_string(getpid()) + ".txt";
  std::ofstream(path) << registry.ExpositionText();
  const int rc =
      std::system(("promtool check metrics < " + path + " > " + path + ".out 2>&1").c_str());
  std::ifstream in(path + ".out");
  const std::string output((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(path.c_str());
  std::remove((path + ".out").c_str());
  EXPECT_EQ(rc, 0) << output;
  EXPECT_EQ(output, "");
}

}  // namespace
}  // namespace hotpath
