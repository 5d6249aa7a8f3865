// bench_batcher: what the dynamic batcher costs and what it buys.
//
//   overhead   submit -> callback for a trivial model (1 feature, 1 output),
//              one client waiting on each answer, against calling Predict directly.
//   batching   throughput of a model costing c0 + c1 * rows (DotModel, 64
//              features x 500 outputs, c0 = 8 matrix-vector products per call,
//              c1 = 1 per row) with max_batch_size 32 vs 1, 64 requests in flight.
//   deadline   how late after its deadline a request stuck behind a long batch
//              is answered DEADLINE_EXCEEDED.
//
// Progress goes to stderr; the last stdout line is one JSON object.
//   bench_batcher [--quick]
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "observe/metrics.h"
#include "sched/batcher.h"
#include "sched/testing/dot_model.h"

namespace hotpath {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using testing::DotModel;

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1));
  return v[i];
}

DynamicBatcher::Request Req(const float* x, size_t rows, float* out) {
  DynamicBatcher::Request r;
  r.x = x;
  r.rows = rows;
  r.out = out;
  return r;
}

struct Overhead {
  double p50_ns, p99_ns, direct_ns;
};

// One client: submit, spin until the callback flips a flag, repeat.
Overhead MeasureOverhead(int samples, int64_t idle_spin_us) {
  auto model = std::make_shared<DotModel>(DotModel::Options{.features = 1, .outputs = 1});
  MetricsRegistry registry;
  DynamicBatcher::Options o;
  o.model_name = "trivial";
  o.max_batch_size = 1;
  o.max_queue_delay_us = 0;
  o.idle_spin_us = idle_spin_us;
  auto batcher = DynamicBatcher::Create(o, model, registry).value();
  float x = 1.0f, out = 0.0f;
  std::atomic<bool> done{false};
  std::vector<double> ns;
  ns.reserve(static_cast<size_t>(samples));
  Clock& clock = RealClock();
  for (int i = 0; i < samples + 1000; ++i) {
    done.store(false, std::memory_order_relaxed);
    const TimePoint start = clock.Now();
    Status s = batcher->Submit(Req(&x, 1, &out),
                               [&done](Status) { done.store(true, std::memory_order_release); });
    if (!s.ok()) continue;
    while (!done.load(std::memory_order_acquire)) {
    }
    if (i >= 1000) ns.push_back(static_cast<double>((clock.Now() - start).count()));
  }
  const TimePoint d0 = clock.Now();
  for (int i = 0; i < samples; ++i) model->Predict(&x, 1, OutputKind::kValue, &out).IgnoreError();
  const double direct = static_cast<double>((clock.Now() - d0).count()) / samples;
  return {Percentile(ns, 0.50), Percentile(ns, 0.99), direct};
}

// Mean time of Predict on `rows` rows of the c0 + c1 * rows model, called directly.
double DirectPredictNs(const DotModel& model, size_t rows, int reps) {
  std::vector<float> x(rows * 64, 0.25f), out(rows * 500);
  const TimePoint t0 = RealClock().Now();
  for (int i = 0; i < reps; ++i) {
    model.Predict(x.data(), rows, OutputKind::kValue, out.data()).IgnoreError();
  }
  return static_cast<double>((RealClock().Now() - t0).count()) / reps;
}

struct Throughput {
  double rps;
  double mean_batch_rows;
};

// A closed loop of clients; each answer submits the client's next request.
struct LoadState {
  struct Client {
    std::vector<float> x, out;
  };
  DynamicBatcher* batcher;
  std::vector<Client> clients;
  std::atomic<bool> stop;
  std::atomic<uint64_t> completed;
};

void SubmitNext(LoadState* state, size_t i) {
  LoadState::Client& c = state->clients[i];
  // Two captured words: std::function stores them without allocating.
  state->batcher
      ->Submit(Req(c.x.data(), 1, c.out.data()),
               [state, i](Status) {
                 state->completed.fetch_add(1, std::memory_order_relaxed);
                 if (!state->stop.load(std::memory_order_relaxed)) SubmitNext(state, i);
               })
      .IgnoreError();
}

// Keeps `in_flight` single-row requests outstanding for `duration`; each
// callback submits the next one.
Throughput MeasureThroughput(int max_batch, int in_flight, Nanos duration) {
  auto model = std::make_shared<DotModel>(
      DotModel::Options{.features = 64, .outputs = 500, .call_passes = 8, .seed = 5});
  MetricsRegistry registry;
  DynamicBatcher::Options o;
  o.model_name = "dot500";
  o.max_batch_size = max_batch;
  o.max_queue_delay_us = 200;
  o.instance_count = 2;
  o.max_queue_size = in_flight;
  auto batcher = DynamicBatcher::Create(o, model, registry).value();
  LoadState state{batcher.get(), {}, {false}, {0}};
  state.clients.resize(static_cast<size_t>(in_flight));
  for (auto& c : state.clients) {
    c.x.assign(64, 0.25f);
    c.out.assign(500, 0.0f);
  }
  for (size_t i = 0; i < state.clients.size(); ++i) SubmitNext(&state, i);
  std::this_thread::sleep_for(milliseconds(200));  // warm-up
  const uint64_t c0 = state.completed.load();
  const TimePoint t0 = RealClock().Now();
  std::this_thread::sleep_for(duration);
  const uint64_t c1 = state.completed.load();
  const double secs = static_cast<double>((RealClock().Now() - t0).count()) * 1e-9;
  state.stop.store(true);
  batcher->Shutdown(DynamicBatcher::ShutdownMode::kDrain);
  const double batches = static_cast<double>(
      registry.AddCounter({"hotpath_sched_executions_total", "Batches run.", {"model", "version"}})
          .value()
          ->WithLabels({"dot500", "1"})
          .value()
          ->Value());
  const double rows = static_cast<double>(
      registry.AddCounter({"hotpath_sched_inferences_total", "Rows run.", {"model", "version"}})
          .value()
          ->WithLabels({"dot500", "1"})
          .value()
          ->Value());
  return {static_cast<double>(c1 - c0) / secs, batches > 0 ? rows / batches : 0.0};
}

struct Lateness {
  double p50_us, p99_us, max_us;
  size_t samples;
};

// A worker stays busy with long batches (c0 = 4000 matrix-vector products,
// tens of ms) while a client submits requests with 1-4 ms deadlines every
// 2 ms; records how late each DEADLINE_EXCEEDED answer comes.
Lateness MeasureDeadlineLateness(Nanos duration, int timer_fifo_priority) {
  auto model = std::make_shared<DotModel>(
      DotModel::Options{.features = 64, .outputs = 500, .call_passes = 4000, .seed = 9});
  MetricsRegistry registry;
  DynamicBatcher::Options o;
  o.model_name = "slow";
  o.timer_fifo_priority = timer_fifo_priority;
  o.max_batch_size = 1;
  o.max_queue_delay_us = 0;
  o.max_queue_size = 4096;
  Result<std::unique_ptr<DynamicBatcher>> created = DynamicBatcher::Create(o, model, registry);
  if (!created.ok()) {
    std::fprintf(stderr, "  %s\n", created.status().ToString().c_str());
    return {-1, -1, -1, 0};
  }
  std::unique_ptr<DynamicBatcher> batcher = std::move(created).value();
  std::mutex mu;
  std::vector<double> late_us;
  std::vector<float> x(64, 0.5f);
  std::vector<float> outs(500 * 4096);
  Clock& clock = RealClock();
  const TimePoint end = clock.Now() + duration;
  for (size_t i = 0; clock.Now() < end && i < 4096; ++i) {
    const Deadline deadline = Deadline::After(clock, microseconds(1000 + (i % 4) * 1000));
    DynamicBatcher::Request r = Req(x.data(), 1, &outs[500 * i]);
    r.deadline = deadline;
    batcher
        ->Submit(r,
                 [&, deadline](Status s) {
                   if (s.code() != StatusCode::kDeadlineExceeded) return;
                   const double late =
                       static_cast<double>((clock.Now() - deadline.at()).count()) * 1e-3;
                   std::lock_guard<std::mutex> lock(mu);
                   late_us.push_back(late);
                 })
        .IgnoreError();
    std::this_thread::sleep_for(milliseconds(2));
  }
  batcher->Shutdown(DynamicBatcher::ShutdownMode::kDrain);
  return {Percentile(late_us, 0.50), Percentile(late_us, 0.99),
          late_us.empty() ? 0.0 : *std::max_element(late_us.begin(), late_us.end()),
          late_us.size()};
}

int Main(bool quick) {
  const int samples = quick ? 2000 : 20000;
  const Nanos span = quick ? milliseconds(500) : milliseconds(2000);
  std::fprintf(stderr, "bench_batcher: overhead (%d samples)...\n", samples);
  const Overhead ov = MeasureOverhead(samples, 0);
  std::fprintf(stderr, "  submit->callback p50 %.0f ns, p99 %.0f ns; direct Predict %.0f ns\n",
               ov.p50_ns, ov.p99_ns, ov.direct_ns);
  const Overhead spin = MeasureOverhead(samples, 50);
  std::fprintf(stderr, "  with idle_spin_us=50: p50 %.0f ns, p99 %.0f ns\n", spin.p50_ns,
               spin.p99_ns);
  const DotModel dot({.features = 64, .outputs = 500, .call_passes = 8, .seed = 5});
  const double t1 = DirectPredictNs(dot, 1, quick ? 200 : 1000);
  const double t32 = DirectPredictNs(dot, 32, quick ? 20 : 100);
  std::fprintf(stderr,
               "  model c0 + c1*rows: Predict(1) %.1f us, Predict(32) %.1f us, "
               "ideal speedup %.2f\n",
               t1 * 1e-3, t32 * 1e-3, 32 * t1 / t32);
  std::fprintf(stderr, "bench_batcher: throughput, batching off...\n");
  const Throughput off = MeasureThroughput(1, 64, span);
  std::fprintf(stderr, "  %.0f req/s (mean batch %.1f rows)\n", off.rps, off.mean_batch_rows);
  std::fprintf(stderr, "bench_batcher: throughput, batching on (max 32)...\n");
  const Throughput on = MeasureThroughput(32, 64, span);
  std::fprintf(stderr, "  %.0f req/s (mean batch %.1f rows)\n", on.rps, on.mean_batch_rows);
  const Nanos deadline_span = quick ? milliseconds(600) : milliseconds(3000);
  std::fprintf(stderr, "bench_batcher: deadline lateness, normal timer thread...\n");
  const Lateness late = MeasureDeadlineLateness(deadline_span, 0);
  std::fprintf(stderr, "  %zu expired; late p50 %.1f us, p99 %.1f us, max %.1f us\n", late.samples,
               late.p50_us, late.p99_us, late.max_us);
  std::fprintf(stderr, "bench_batcher: deadline lateness, timer_fifo_priority 10...\n");
  const Lateness fifo = MeasureDeadlineLateness(deadline_span, 10);
  std::fprintf(stderr, "  %zu expired; late p50 %.1f us, p99 %.1f us, max %.1f us\n", fifo.samples,
               fifo.p50_us, fifo.p99_us, fifo.max_us);
  std::printf(
      "{\"overhead_p50_ns\": %.0f, \"overhead_p99_ns\": %.0f, \"direct_predict_ns\": %.0f, "
      "\"overhead_spin50_p50_ns\": %.0f, \"overhead_spin50_p99_ns\": %.0f, "
      "\"predict1_us\": %.1f, \"predict32_us\": %.1f, \"ideal_speedup\": %.2f, "
      "\"unbatched_rps\": %.0f, \"batched_rps\": %.0f, \"batched_mean_rows\": %.2f, "
      "\"batching_speedup\": %.2f, \"deadline_samples\": %zu, \"deadline_late_p50_us\": %.1f, "
      "\"deadline_late_p99_us\": %.1f, \"deadline_late_max_us\": %.1f, "
      "\"deadline_fifo_late_p50_us\": %.1f, \"deadline_fifo_late_p99_us\": %.1f, "
      "\"deadline_fifo_late_max_us\": %.1f}\n",
      ov.p50_ns, ov.p99_ns, ov.direct_ns, spin.p50_ns, spin.p99_ns, t1 * 1e-3, t32 * 1e-3,
      32 * t1 / t32, off.rps, on.rps, on.mean_batch_rows, off.rps > 0 ? on.rps / off.rps : 0.0,
      late.samples, late.p50_us, late.p99_us, late.max_us, fifo.p50_us, fifo.p99_us, fifo.max_us);
  return 0;
}

}  // namespace
}  // namespace hotpath

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  return hotpath::Main(quick);
}
