// SignalDrain: while it lives, SIGTERM and SIGINT begin an HttpServer's
// graceful drain (HttpServer::BeginDrain is async-signal-safe); the owner
// then returns from HttpServer::Wait. The previous handlers come back when it
// is destroyed. At most one per process.
#ifndef HOTPATH_SERVE_SIGNAL_DRAIN_H_
#define HOTPATH_SERVE_SIGNAL_DRAIN_H_

#include <signal.h>

#include <memory>

#include "core/status.h"
#include "serve/http_server.h"

namespace hotpath {

class SignalDrain {
 public:
  // `server` is borrowed and must outlive the SignalDrain. FAILED_PRECONDITION
  // when another SignalDrain is alive; INTERNAL when sigaction fails.
  static Result<std::unique_ptr<SignalDrain>> Create(HttpServer* server);
  ~SignalDrain();
  SignalDrain(const SignalDrain&) = delete;
  SignalDrain& operator=(const SignalDrain&) = delete;

 private:
  SignalDrain() = default;
  struct sigaction previous_term_ {};
  struct sigaction previous_int_ {};
};

}  // namespace hotpath

#endif  // HOTPATH_SERVE_SIGNAL_DRAIN_H_
