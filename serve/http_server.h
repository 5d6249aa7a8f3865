// HttpServer: the KServe v2 REST front over HTTP/1.1. A fixed set of epoll
// event loops (one thread each, one SO_REUSEPORT listener each) serves every
// connection: keep-alive, pipelined requests answered in order, limits on
// heads, bodies and connections, timeouts for stalled clients, and graceful
// drain. Inference goes through an InferenceService whose completions may
// arrive on any thread; they are handed back to the connection's loop.
//
// Threading: each connection lives on one loop and is touched only by it.
// The service is called from every loop concurrently. Create, port, Wait and
// the destructor are for the owning thread; BeginDrain is async-signal-safe.
#ifndef HOTPATH_SERVE_HTTP_SERVER_H_
#define HOTPATH_SERVE_HTTP_SERVER_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "serve/admission/rate_limiter.h"
#include "serve/http_app.h"
#include "serve/inference_service.h"

namespace hotpath {

namespace serve_internal {
class EventLoop;
}

// Front-side timing of one infer request, for overhead accounting:
// `total` from the read that brought the request's first bytes to the write
// that handed its response to the kernel, `compute` the service's
// InferResponse::compute_time (zero for failed requests).
struct InferTiming {
  Nanos total{0};
  Nanos compute{0};
};

class HttpServer {
 public:
  struct Options {
    std::string address = "0.0.0.0";           // IPv4 address to bind
    int port = 8000;                           // 0 = an ephemeral port (see port())
    int num_loops = 0;                         // event loop threads; 0 = one per core
    size_t max_connections = 10000;            // open connections, split evenly over the loops
    size_t max_head_bytes = size_t{16} * 1024;         // request line + headers (431 above)
    size_t max_body_bytes = size_t{64} * 1024 * 1024;  // Content-Length limit (413 above)
    // A connection with no request in progress closes after this long.
    std::chrono::milliseconds idle_timeout{60'000};
    // A request must arrive whole (head and body) within this long of its
    // first byte, else 408 and close (slowloris).
    std::chrono::milliseconds request_timeout{10'000};
    // After BeginDrain, connections still open after this long are closed.
    std::chrono::milliseconds drain_timeout{30'000};
    // Called on the loop thread after each infer response is written (none
    // when empty). Must be thread-safe across loops and cheap.
    std::function<void(const InferTiming&)> on_infer_timing;
    // Serves every path outside /v2 (/metrics, application APIs); borrowed,
    // must outlive the server. Null: such paths answer 404.
    HttpApp* app = nullptr;
    // Per-client (peer address) request rate limit; borrowed. Over the limit:
    // 429 with Retry-After. Null: no limit. /v2/health/* is never limited.
    RateLimiter* rate_limiter = nullptr;
    // After a round that handled socket events, a loop keeps polling epoll
    // without blocking for up to this long before it blocks again, so a
    // request arriving within it skips the thread's wake-up (tens of us on a
    // VM). Costs up to this much CPU per loop per idle gap: at a request
    // rate r per loop, min(gap, busy_poll_us) per request, i.e. up to a
    // whole core once gaps are shorter. 0 (default): block at once.
    int64_t busy_poll_us = 0;
  };

  // Binds, listens and starts the loops. `service` is borrowed and must
  // outlive the server. INVALID_ARGUMENT naming the option when one is out of
  // range; UNAVAILABLE with errno's text when the socket cannot be bound.
  static Result<std::unique_ptr<HttpServer>> Create(const Options& options,
                                                    InferenceService* service);
  // Drains (BeginDrain + Wait).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (the ephemeral one when Options::port was 0).
  int port() const { return port_; }

  // Stops accepting, lets in-flight and partially received requests finish
  // (their responses say Connection: close), closes idle connections, and
  // closes everything left after drain_timeout. Returns at once; idempotent;
  // async-signal-safe (an atomic store and eventfd writes), so a SIGTERM
  // handler may call it.
  void BeginDrain();
  // Blocks until every loop has drained and exited (after BeginDrain).
  void Wait();

 private:
  HttpServer() = default;

  int port_ = 0;
  std::vector<std::unique_ptr<serve_internal::EventLoop>> loops_;
  std::vector<std::thread> threads_;
};

}  // namespace hotpath

#endif  // HOTPATH_SERVE_HTTP_SERVER_H_
