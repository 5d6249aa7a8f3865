#include "serve/testing/http_test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

namespace hotpath::serve_testing {

int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  close(fd);
  return ok ? ntohs(addr.sin_port) : 0;
}

Result<HttpTestClient> HttpTestClient::Connect(int port, std::chrono::milliseconds timeout) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return UnavailableError(std::strerror(errno));
  }
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const std::string err = std::strerror(errno);
    close(fd);
    return UnavailableError("connect: " + err);
  }
  return HttpTestClient(fd);
}

HttpTestClient::~HttpTestClient() {
  if (fd_ >= 0) {
    close(fd_);
  }
}

Status HttpTestClient::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      return UnavailableError(std::string("send: ") + std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

bool HttpTestClient::Fill(Status* status) {
  char chunk[65536];
  const ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
  if (n > 0) {
    buf_.append(chunk, static_cast<size_t>(n));
    return true;
  }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    *status = DeadlineExceededError("no response within the timeout");
  } else {
    *status = UnavailableError("server closed the connection");
  }
  return false;
}

Result<HttpResponse> HttpTestClient::Read() {
  Status st;
  size_t head_end;
  while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos) {
    if (!Fill(&st)) {
      return st;
    }
  }
  HttpResponse r;
  const std::string head = buf_.substr(0, head_end);
  if (head.size() < 12 || head.compare(0, 9, "HTTP/1.1 ") != 0) {
    return InternalError("bad status line: " + head);
  }
  r.status = std::stoi(head.substr(9, 3));
  size_t pos = head.find("\r\n");
  while (pos != std::string::npos) {
    const size_t next = head.find("\r\n", pos + 2);
    const std::string line =
        head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
    const size_t colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (char& c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    pos = next;
  }
  const size_t length =
      r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
  while (buf_.size() < head_end + 4 + length) {
    if (!Fill(&st)) {
      return st;
    }
  }
  r.body = buf_.substr(head_end + 4, length);
  buf_.erase(0, head_end + 4 + length);
  return r;
}

Result<HttpResponse> HttpTestClient::Roundtrip(std::string_view bytes) {
  RETURN_IF_ERROR(Send(bytes));
  return Read();
}

bool HttpTestClient::ServerClosed() {
  Status st;
  while (Fill(&st)) {
    buf_.clear();
  }
  return st.code() == StatusCode::kUnavailable;
}

std::string PostJson(std::string_view path, std::string_view json, std::string_view extra_headers) {
  return "POST " + std::string(path) +
         " HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n" + std::string(extra_headers) +
         "Content-Length: " + std::to_string(json.size()) + "\r\n\r\n" + std::string(json);
}

std::string Get(std::string_view path) {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: t\r\n\r\n";
}

}  // namespace hotpath::serve_testing
