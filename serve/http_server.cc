#include "serve/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "serve/internal/event_loop.h"

namespace hotpath {
namespace {

Status ValidateOptions(const HttpServer::Options& o) {
  if (o.port < 0 || o.port > 65535) {
    return InvalidArgumentError("port: must be in [0, 65535]");
  }
  if (o.num_loops < 0 || o.num_loops > 1024) {
    return InvalidArgumentError("num_loops: must be in [0, 1024]");
  }
  if (o.max_connections < 1) {
    return InvalidArgumentError("max_connections: must be >= 1");
  }
  if (o.max_head_bytes < 256) {
    return InvalidArgumentError("max_head_bytes: must be >= 256");
  }
  if (o.idle_timeout.count() < 1 || o.request_timeout.count() < 1) {
    return InvalidArgumentError("idle_timeout, request_timeout: must be >= 1 ms");
  }
  if (o.drain_timeout.count() < 0) {
    return InvalidArgumentError("drain_timeout: must be >= 0");
  }
  if (o.busy_poll_us < 0 || o.busy_poll_us > 1'000'000) {
    return InvalidArgumentError("busy_poll_us: must be in [0, 1000000], got " +
                                std::to_string(o.busy_poll_us));
  }
  return OkStatus();
}

// A non-blocking SO_REUSEPORT listener on address:port.
Result<int> Listen(const std::string& address, int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1) {
    return InvalidArgumentError("address: '" + address + "' is not an IPv4 address");
  }
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return UnavailableError(std::string("socket: ") + std::strerror(errno));
  }
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 4096) != 0) {
    const std::string err = std::strerror(errno);
    close(fd);
    return UnavailableError("bind " + address + ":" + std::to_string(port) + ": " + err);
  }
  return fd;
}

int BoundPort(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Create(const Options& options,
                                                       InferenceService* service) {
  RETURN_IF_ERROR(ValidateOptions(options));
  if (service == nullptr) {
    return InvalidArgumentError("service: null");
  }
  const int loops = options.num_loops > 0
                        ? options.num_loops
                        : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  serve_internal::LoopOptions lo;
  lo.limits.max_head_bytes = options.max_head_bytes;
  lo.limits.max_body_bytes = options.max_body_bytes;
  lo.max_connections = (options.max_connections + loops - 1) / loops;
  lo.idle_timeout = options.idle_timeout;
  lo.request_timeout = options.request_timeout;
  lo.drain_timeout = options.drain_timeout;
  lo.on_infer_timing = options.on_infer_timing;
  lo.app = options.app;
  lo.rate_limiter = options.rate_limiter;
  lo.busy_poll = std::chrono::microseconds(options.busy_poll_us);

  std::unique_ptr<HttpServer> server(new HttpServer());
  server->port_ = options.port;
  for (int i = 0; i < loops; ++i) {
    ASSIGN_OR_RETURN(const int fd, Listen(options.address, server->port_));
    if (server->port_ == 0) {
      server->port_ = BoundPort(fd);
    }
    ASSIGN_OR_RETURN(auto loop, serve_internal::EventLoop::Create(lo, service, fd));
    server->loops_.push_back(std::move(loop));
  }
  for (auto& loop : server->loops_) {
    server->threads_.emplace_back([l = loop.get()] { l->Run(); });
  }
  return server;
}

HttpServer::~HttpServer() {
  BeginDrain();
  Wait();
}

void HttpServer::BeginDrain() {
  for (auto& loop : loops_) {
    loop->BeginDrain();
  }
}

void HttpServer::Wait() {
  for (std::thread& t : threads_) {
    if (t.joinable()) {
      t.join();
    }
  }
}

}  // namespace hotpath
