#include "observe/alert_sink.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace hotpath {

AlertSink::~AlertSink() = default;

void AlertSink::Start() { thread_ = std::thread([this] { Loop(); }); }

void AlertSink::Stop() {
  {
    MutexLock l(&mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

void AlertSink::Publish(std::string json) {
  {
    MutexLock l(&mu_);
    if (queue_.size() >= options_.max_queue) {
      ++stats_.dropped;
      return;
    }
    queue_.push_back(std::move(json));
  }
  cv_.Signal();
}

AlertStats AlertSink::stats() const {
  MutexLock l(&mu_);
  return stats_;
}

void AlertSink::Loop() {
  for (;;) {
    std::string json;
    {
      MutexLock l(&mu_);
      while (!stop_ && queue_.empty()) cv_.Wait(&mu_);
      if (queue_.empty()) return;  // stopping and drained
      json = std::move(queue_.front());
      queue_.pop_front();
    }
    const bool ok = Send(json).ok();
    MutexLock l(&mu_);
    ++(ok ? stats_.published : stats_.failed);
  }
}

Result<std::unique_ptr<RedisStreamAlertSink>> RedisStreamAlertSink::Create(const Options& options) {
  if (options.stream.empty() || options.max_len < 1 || options.queue.max_queue < 1) {
    return InvalidArgumentError("redis alert sink: stream, max_len and max_queue must be set");
  }
  std::unique_ptr<RedisStreamAlertSink> sink(new RedisStreamAlertSink(options));
  RETURN_IF_ERROR(sink->Connect());
  sink->Start();
  return sink;
}

RedisStreamAlertSink::~RedisStreamAlertSink() {
  Stop();
  if (redis_ != nullptr) redisFree(static_cast<redisContext*>(redis_));
}

Status RedisStreamAlertSink::Connect() {
  if (redis_ != nullptr) redisFree(static_cast<redisContext*>(redis_));
  const timeval timeout{1, 0};
  redisContext* c = redisConnectWithTimeout(options_.host.c_str(), options_.port, timeout);
  redis_ = c;
  if (c == nullptr || c->err) {
    return UnavailableError("redis alert sink: cannot reach " + options_.host + ":" + std::to_string(options_.port) +
                            (c ? std::string(": ") + c->errstr : ""));
  }
  redisSetTimeout(c, timeout);
  return OkStatus();
}

Status RedisStreamAlertSink::Send(const std::string& json) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto* c = static_cast<redisContext*>(redis_);
    const std::string max_len = std::to_string(options_.max_len);
    const char* argv[] = {"XADD", options_.stream.c_str(), "MAXLEN", "~", max_len.c_str(), "*", "alert", json.c_str()};
    const size_t lens[] = {4, options_.stream.size(), 6, 1, max_len.size(), 1, 5, json.size()};
    auto* reply = c && !c->err ? static_cast<redisReply*>(redisCommandArgv(c, 8, argv, lens)) : nullptr;
    const bool ok = reply != nullptr && reply->type != REDIS_REPLY_ERROR;
    if (reply != nullptr) freeReplyObject(reply);
    if (ok) return OkStatus();
    if (!Connect().ok()) break;  // reconnect once, then give up on this alert
  }
  return UnavailableError("redis alert sink: XADD failed");
}

Result<std::unique_ptr<WebhookAlertSink>> WebhookAlertSink::Create(const std::string& url,
                                                                   const AlertSink::Options& queue) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return InvalidArgumentError("webhook url must start with http://, got '" + url + "'");
  const size_t colon = url.find(':', scheme.size());
  const size_t slash = url.find('/', scheme.size());
  if (colon == std::string::npos || slash == std::string::npos || colon > slash) {
    return InvalidArgumentError("webhook url must be http://HOST:PORT/PATH, got '" + url + "'");
  }
  const std::string host = url.substr(scheme.size(), colon - scheme.size());
  const int port = std::atoi(url.substr(colon + 1, slash - colon - 1).c_str());
  in_addr addr{};
  if (port <= 0 || port > 65535 || inet_pton(AF_INET, host.c_str(), &addr) != 1) {
    return InvalidArgumentError("webhook url needs an IPv4 host and a port, got '" + url + "'");
  }
  std::unique_ptr<WebhookAlertSink> sink(new WebhookAlertSink(queue, host, port, url.substr(slash)));
  sink->Start();
  return sink;
}

WebhookAlertSink::~WebhookAlertSink() { Stop(); }

Status WebhookAlertSink::Send(const std::string& json) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return UnavailableError("webhook: socket failed");
  const timeval timeout{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  inet_pton(AF_INET, host_.c_str(), &addr.sin_addr);
  Status s = UnavailableError("webhook: " + host_ + ":" + std::to_string(port_) + " did not accept the alert");
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string req = "POST " + path_ + " HTTP/1.1\r\nHost: " + host_ + "\r\nContent-Type: application/json\r\n" +
                            "Content-Length: " + std::to_string(json.size()) + "\r\nConnection: close\r\n\r\n" + json;
    char head[32] = {};
    if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()) &&
        recv(fd, head, sizeof(head) - 1, 0) >= 12 && std::strncmp(head, "HTTP/1.1 2", 10) == 0) {
      s = OkStatus();
    }
  }
  close(fd);
  return s;
}

}  // namespace hotpath
