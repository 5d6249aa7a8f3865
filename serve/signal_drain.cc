#include "serve/signal_drain.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

namespace hotpath {
namespace {

// The server the handler drains; null when no SignalDrain is alive.
std::atomic<HttpServer*> g_server{nullptr};

void OnSignal(int) {
  HttpServer* server = g_server.load(std::memory_order_acquire);
  if (server != nullptr) {
    server->BeginDrain();
  }
}

}  // namespace

Result<std::unique_ptr<SignalDrain>> SignalDrain::Create(HttpServer* server) {
  if (server == nullptr) {
    return InvalidArgumentError("server: null");
  }
  HttpServer* expected = nullptr;
  if (!g_server.compare_exchange_strong(expected, server)) {
    return FailedPreconditionError("a SignalDrain is already installed");
  }
  std::unique_ptr<SignalDrain> drain(new SignalDrain());
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGTERM, &sa, &drain->previous_term_) != 0 ||
      sigaction(SIGINT, &sa, &drain->previous_int_) != 0) {
    g_server.store(nullptr);
    return InternalError(std::string("sigaction: ") + std::strerror(errno));
  }
  return drain;
}

SignalDrain::~SignalDrain() {
  sigaction(SIGTERM, &previous_term_, nullptr);
  sigaction(SIGINT, &previous_int_, nullptr);
  g_server.store(nullptr, std::memory_order_release);
}

}  // namespace hotpath
