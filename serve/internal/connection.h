// One HTTP connection's state, owned by its EventLoop and touched only on
// the loop's thread (the service only borrows `slot` during an infer).
#ifndef HOTPATH_SERVE_INTERNAL_CONNECTION_H_
#define HOTPATH_SERVE_INTERNAL_CONNECTION_H_

#include <chrono>
#include <cstdint>

#include "serve/internal/byte_buffer.h"
#include "serve/internal/event_loop.h"
#include "serve/internal/http_parser.h"
#include "serve/internal/kserve_handler.h"

namespace hotpath::serve_internal {

struct EventLoop::Connection {
  explicit Connection(const HttpParseLimits& limits) : parser(limits) {}

  // Readies a pooled object for a newly accepted socket.
  void Reset(int new_fd, SteadyTime now) {
    fd = new_fd;
    in.Clear();
    out.Clear();
    parser.Reset();
    state = ConnState::kReading;
    close_after_write = sent_continue = inline_done = timing_pending = false;
    events = 0;
    registered = false;
    last_active = request_started = now;
  }

  int fd = -1;       // -1 once closed
  std::string client;  // the peer's IPv4 address: the rate-limit key
  size_t index = 0;  // position in EventLoop::active_ while open
  ByteBuffer in;     // received, not yet consumed
  ByteBuffer out;    // responses not yet written
  HttpRequestParser parser;
  InferSlot slot;
  ConnState state = ConnState::kReading;
  bool close_after_write = false;  // the last response said Connection: close
  bool sent_continue = false;      // 100 Continue sent for the current request
  bool inline_done = false;        // the service completed inside Infer
  bool timing_pending = false;     // an infer response awaits its timing record
  uint32_t events = 0;             // registered epoll interest
  bool registered = false;         // added to the epoll set
  SteadyTime last_active;          // last successful read or write
  SteadyTime request_started;      // read that brought the pending request's first byte
  SteadyTime infer_received;       // request_started of the in-flight infer
  SteadyTime linger_started;
};

}  // namespace hotpath::serve_internal

#endif  // HOTPATH_SERVE_INTERNAL_CONNECTION_H_
