// EventLoop: one epoll thread of the HTTP server. It owns a listening socket
// (SO_REUSEPORT, so the kernel spreads new connections over the loops) and
// every connection accepted on it: reads, parses, routes, writes, times out
// and drains them. Infer completions from other threads come back through
// an eventfd; nothing else crosses threads.
#ifndef HOTPATH_SERVE_INTERNAL_EVENT_LOOP_H_
#define HOTPATH_SERVE_INTERNAL_EVENT_LOOP_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "core/thread_annotations.h"
#include "serve/http_server.h"
#include "serve/admission/rate_limiter.h"
#include "serve/inference_service.h"
#include "serve/internal/byte_buffer.h"
#include "serve/internal/http_parser.h"
#include "serve/internal/kserve_handler.h"

namespace hotpath::serve_internal {

struct LoopOptions {
  HttpParseLimits limits;
  size_t max_connections = 10000;  // on this loop
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds request_timeout{10'000};
  std::chrono::milliseconds drain_timeout{30'000};
  std::function<void(const InferTiming&)> on_infer_timing;
  HttpApp* app = nullptr;  // paths outside /v2; borrowed; null: 404
  RateLimiter* rate_limiter = nullptr;  // per client address; borrowed; null: none
  std::chrono::microseconds busy_poll{0};  // HttpServer::Options::busy_poll_us
};

class EventLoop {
 public:
  // Takes ownership of `listen_fd` (non-blocking, listening). `service` is
  // borrowed. UNAVAILABLE when epoll or eventfd cannot be created.
  static Result<std::unique_ptr<EventLoop>> Create(const LoopOptions& options,
                                                   InferenceService* service, int listen_fd);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Serves until drained. Call once, on the loop's own thread.
  void Run();
  // Async-signal-safe: an atomic store and an eventfd write.
  void BeginDrain();

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;
  struct Connection;
  enum class ConnState { kReading, kInFlight, kLingering };

  EventLoop(const LoopOptions& options, InferenceService* service, int listen_fd, int epoll_fd,
            int wake_fd);

  // event_loop.cc: sockets, wake-ups, timers, drain.
  void Dispatch(void* tag, uint32_t events);
  void Accept();
  void OnWake();
  void StartDrain();
  void Sweep();
  void SweepOne(Connection* c);
  void Close(Connection* c);
  void Release(Connection* c);
  void UpdateInterest(Connection* c);
  // Any thread: the service finished `c`'s infer.
  void OnInferDone(Connection* c);
  std::chrono::milliseconds Tick() const;

  // connection.cc: one connection's protocol.
  void OnReadable(Connection* c);
  void OnWritable(Connection* c);
  void ProcessRequests(Connection* c);
  // Handles one complete request; false when no further request may be parsed now.
  bool HandleRequest(Connection* c, const HttpRequest& req);
  void StartInfer(Connection* c);
  // Hands a non-KServe request to the app; false (404 written) when the app
  // has no such route. The answer arrives like an infer completion.
  bool StartApp(Connection* c, const HttpRequest& req, bool keep_alive);
  // Answers 429 (with Retry-After) and returns true when the client is over
  // its rate limit; health checks are never limited.
  bool RateLimited(Connection* c, const HttpRequest& req, bool keep_alive);
  void CompleteInfer(Connection* c);
  void FailConnection(Connection* c, int http_status, std::string_view message);
  void Flush(Connection* c);
  void Linger(Connection* c);

  LoopOptions options_;
  InferenceService* service_;
  KServeHandler handler_;
  int listen_fd_;
  const int epoll_fd_;
  const int wake_fd_;
  std::thread::id thread_id_;
  std::atomic<bool> drain_requested_{false};

  // Loop-thread state.
  bool draining_ = false;
  SteadyTime now_;
  SteadyTime drain_deadline_;
  SteadyTime next_sweep_;
  std::vector<Connection*> active_;   // open sockets; Connection::index is the position
  std::vector<Connection*> to_free_;  // closed this round, pooled after it
  std::vector<std::unique_ptr<Connection>> owned_;  // every connection object ever made
  std::vector<Connection*> free_;                   // closed and reusable, buffers kept
  size_t in_flight_ = 0;  // infers started and not completed (incl. closed ones)
  // The connection whose request is being handed to the service right now: a
  // completion for it on the loop thread is inline. A completion for any
  // other connection on the loop thread (a service answering another request
  // from inside this call, e.g. an admission queue granting or shedding a
  // waiter) goes through the completed queue like one from another thread.
  Connection* starting_ = nullptr;
  std::string scratch_;   // response bodies
  std::vector<Connection*> completed_local_;

  // Completions from other threads, handed over under mu_.
  Mutex mu_;
  std::vector<Connection*> completed_ GUARDED_BY(mu_);
};

}  // namespace hotpath::serve_internal

#endif  // HOTPATH_SERVE_INTERNAL_EVENT_LOOP_H_
