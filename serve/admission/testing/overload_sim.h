// OverloadSim: a discrete-event simulation of a server of fixed capacity
// behind a ConcurrencyLimiter, driven by a FakeClock. Used by the admission
// tests (goodput and latency bounds at 1x-3x capacity) and by
// bench/admission.
//
// The server has `workers` identical workers and a FIFO queue; each request's
// service time is exponential with mean `mean_service`, so capacity =
// workers / mean_service. Requests arrive as a Poisson process at `load` x
// capacity, each with a priority drawn from `priority_mix`. An arrival asks
// the limiter for a permit (Acquire); a granted request joins the server and
// releases its permit (ok) when served. Latency is arrival to completion.
#ifndef HOTPATH_SERVE_ADMISSION_TESTING_OVERLOAD_SIM_H_
#define HOTPATH_SERVE_ADMISSION_TESTING_OVERLOAD_SIM_H_

#include <cstdint>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "serve/admission/concurrency_limiter.h"

namespace hotpath::admission_testing {

struct OverloadSimOptions {
  int workers = 4;                                    // >= 1
  Nanos mean_service = std::chrono::milliseconds(1);  // > 0
  double load = 3.0;                                  // offered rate / capacity, > 0
  Nanos duration = std::chrono::seconds(20);          // simulated, > warmup
  Nanos warmup = std::chrono::seconds(2);             // excluded from the figures, >= 0
  // Fraction of arrivals at priority 1, 2, ...; sums to 1.
  std::vector<double> priority_mix = {1.0};
  // false: no admission control (every request joins the server queue).
  bool use_limiter = true;
  ConcurrencyLimiter::Options limiter;
  uint64_t seed = 1;
};

struct OverloadSimResult {
  double capacity_rps = 0;      // workers / mean_service
  double goodput_rps = 0;       // completions per second after warmup
  double goodput_fraction = 0;  // goodput_rps / capacity_rps
  Nanos p50{0};                 // latency of requests completed after warmup
  Nanos p99{0};
  // Per priority (index priority - 1), arrivals after warmup and their completions.
  std::vector<int64_t> offered;
  std::vector<int64_t> completed;
  int64_t refused = 0;      // arrivals answered UNAVAILABLE (any time)
  int64_t max_waiting = 0;  // most requests held at once (limiter queue + server)
  int final_limit = 0;
  ConcurrencyLimiter::Stats limiter;  // at the end of the run
};

// INVALID_ARGUMENT for bad options (including the limiter's).
Result<OverloadSimResult> RunOverloadSim(const OverloadSimOptions& options);

}  // namespace hotpath::admission_testing

#endif  // HOTPATH_SERVE_ADMISSION_TESTING_OVERLOAD_SIM_H_
