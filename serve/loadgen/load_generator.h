// LoadGenerator: drives an HTTP/1.1 server over keep-alive connections from
// one epoll thread, in one of two modes (Triton perf_analyzer's, fixed):
//  - closed loop: `connections` clients, each sending its next request as
//    soon as the previous answer arrives (latency = answer - send);
//  - open loop: requests scheduled by a Poisson process at `rate_rps`, sent
//    on the first free connection; latency is timed from each request's
//    scheduled time, so a slow server cannot hide its queueing (no
//    coordinated omission). Requests waiting for a connection sit in a
//    bounded backlog; beyond it they are counted as dropped by the client.
// Memory is fixed by the options (histogram + backlog), not by the request
// rate or the run length. It stops by itself after warmup + duration, then
// waits up to `drain` for requests still in flight.
#ifndef HOTPATH_SERVE_LOADGEN_LOAD_GENERATOR_H_
#define HOTPATH_SERVE_LOADGEN_LOAD_GENERATOR_H_

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "serve/loadgen/latency_histogram.h"
#include "core/status.h"

namespace hotpath::loadgen {

struct LoadOptions {
  enum class Mode { kClosedLoop, kOpenLoop };

  std::string host = "127.0.0.1";  // IPv4
  int port = 0;
  // Complete HTTP/1.1 requests (head and body), sent in turn. Non-empty.
  std::vector<std::string> requests;
  Mode mode = Mode::kClosedLoop;
  int connections = 1;                    // closed loop: the concurrency; open loop: the pool, >= 1
  double rate_rps = 0;                    // open loop: mean offered rate, > 0
  std::chrono::milliseconds warmup{500};  // sent but not measured
  std::chrono::milliseconds duration{2000};  // measured: requests scheduled in it
  std::chrono::milliseconds drain{2000};     // wait for the measured ones in flight
  size_t max_backlog = 1 << 16;              // open loop: scheduled, not yet sent
  // Open loop: the driver blocks until this long before the next scheduled
  // send, then polls (epoll, timeout 0) until it is due, so its own wake-up
  // latency is not added to every measured request (latency is still timed
  // from the scheduled time). Costs up to this much CPU per request on the
  // driver's thread. 0: block until the scheduled time (timer slack 1 ns).
  std::chrono::microseconds spin_before_send{0};
  uint64_t seed = 1;
};

struct LoadResult {
  double seconds = 0;                     // the measured window
  uint64_t completed = 0;                 // measured requests answered (any status)
  uint64_t ok = 0;                        // ... with a 2xx status
  uint64_t io_errors = 0;                 // connections lost or refused
  uint64_t client_dropped = 0;            // open loop: backlog full
  uint64_t unfinished = 0;                // still unanswered after the drain
  std::array<uint64_t, 600> by_status{};  // answers per HTTP status
  LatencyHistogram latency;               // ns, measured 2xx answers
  LatencyHistogram error_latency;         // ns, measured non-2xx answers (e.g. 504 at a deadline)
  double ok_rps() const { return seconds > 0 ? ok / seconds : 0; }
};

// Runs one load; INVALID_ARGUMENT for bad options, UNAVAILABLE when no
// connection can be opened.
Result<LoadResult> RunLoad(const LoadOptions& options);

}  // namespace hotpath::loadgen

#endif  // HOTPATH_SERVE_LOADGEN_LOAD_GENERATOR_H_
