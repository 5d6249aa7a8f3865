// A blocking HTTP/1.1 client for tests: one TCP connection, raw writes (so
// tests can send partial, pipelined or malformed requests) and a response
// reader that handles Content-Length bodies and pipelined responses.
#ifndef HOTPATH_SERVE_TESTING_HTTP_TEST_CLIENT_H_
#define HOTPATH_SERVE_TESTING_HTTP_TEST_CLIENT_H_

#include <chrono>
#include <map>
#include <string>
#include <string_view>

#include "core/status.h"

namespace hotpath::serve_testing {

// A loopback TCP port that was free a moment ago (the kernel's pick), for a
// server a test or benchmark starts; 0 if none could be had. Picking ports
// by hand collides with the ephemeral ports of other processes' connections.
int FreeLoopbackPort();

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

class HttpTestClient {
 public:
  // Connects to 127.0.0.1:port; reads time out after `timeout`.
  static Result<HttpTestClient> Connect(
      int port, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  HttpTestClient(HttpTestClient&& o) noexcept : fd_(o.fd_), buf_(std::move(o.buf_)) { o.fd_ = -1; }
  HttpTestClient& operator=(HttpTestClient&&) = delete;
  ~HttpTestClient();

  // Writes all of `bytes`.
  Status Send(std::string_view bytes);
  // Reads the next response; UNAVAILABLE when the server closed first,
  // DEADLINE_EXCEEDED on timeout.
  Result<HttpResponse> Read();
  // Send + Read.
  Result<HttpResponse> Roundtrip(std::string_view bytes);
  // True when the server has closed the connection (reads EOF or a reset
  // within the timeout; unread response bytes are skipped).
  bool ServerClosed();

 private:
  explicit HttpTestClient(int fd) : fd_(fd) {}
  // Reads more bytes into buf_; false on EOF, error or timeout (*status says).
  bool Fill(Status* status);

  int fd_;
  std::string buf_;
};

// "POST <path> HTTP/1.1" with a JSON body and Content-Length.
std::string PostJson(std::string_view path, std::string_view json,
                     std::string_view extra_headers = "");
// "GET <path> HTTP/1.1".
std::string Get(std::string_view path);

}  // namespace hotpath::serve_testing

#endif  // HOTPATH_SERVE_TESTING_HTTP_TEST_CLIENT_H_
