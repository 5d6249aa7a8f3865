#include "serve/loadgen/load_generator.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <random>

namespace hotpath::loadgen {
namespace {

using SteadyClock = std::chrono::steady_clock;
using Time = SteadyClock::time_point;

struct ClientConn {
  int fd = -1;
  bool busy = false;
  bool measured = false;
  Time scheduled;
  const std::string* request = nullptr;
  size_t sent = 0;
  std::string in;
};

// A parsed response head: status, body length, whether the server closes.
struct ResponseHead {
  int status = 0;
  size_t head_bytes = 0;
  size_t content_length = 0;
  bool close = false;
};

// Parses the response head at the front of `buf`: 1 complete, 0 need more, -1 malformed.
int ParseHead(std::string_view buf, ResponseHead* h) {
  const size_t end = buf.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    return 0;
  }
  if (end < 12 || buf.substr(0, 5) != "HTTP/") {
    return -1;
  }
  if (std::from_chars(buf.data() + 9, buf.data() + 12, h->status).ec != std::errc()) {
    return -1;
  }
  h->head_bytes = end + 4;
  h->content_length = 0;
  h->close = false;
  size_t pos = buf.find("\r\n");
  while (pos < end) {
    const size_t next = buf.find("\r\n", pos + 2);
    const std::string_view line = buf.substr(pos + 2, next - pos - 2);
    if (line.size() > 15 && strncasecmp(line.data(), "content-length:", 15) == 0) {
      size_t i = 15;
      while (i < line.size() && line[i] == ' ') {
        ++i;
      }
      std::from_chars(line.data() + i, line.data() + line.size(), h->content_length);
    } else if (line.size() >= 17 && strncasecmp(line.data(), "connection: close", 17) == 0) {
      h->close = true;
    }
    pos = next;
  }
  return 1;
}

class Driver {
 public:
  explicit Driver(const LoadOptions& o)
      : o_(o), conns_(static_cast<size_t>(o.connections)), backlog_(o.max_backlog), rng_(o.seed) {}
  ~Driver() {
    for (ClientConn& c : conns_) {
      if (c.fd >= 0) {
        close(c.fd);
      }
    }
    if (epoll_fd_ >= 0) {
      close(epoll_fd_);
    }
  }
  Result<LoadResult> Run();

 private:
  bool Connect(ClientConn* c);
  void Send(ClientConn* c, Time scheduled);
  void Write(ClientConn* c);
  void Read(ClientConn* c, Time now);
  void Finish(ClientConn* c, int status, Time now);
  void Lose(ClientConn* c);
  void Arrivals(Time now);
  void Assign();
  bool Measured(Time scheduled) const { return scheduled >= warm_end_ && scheduled < end_; }
  int TimeoutNs(Time now) const;

  const LoadOptions& o_;
  std::vector<ClientConn> conns_;
  std::vector<Time> backlog_;  // ring of scheduled times
  size_t backlog_head_ = 0, backlog_size_ = 0;
  std::vector<ClientConn*> idle_;
  std::mt19937_64 rng_;
  int epoll_fd_ = -1;
  size_t next_request_ = 0;
  uint64_t pending_measured_ = 0;  // measured requests not yet answered
  Time warm_end_, end_, next_arrival_;
  LoadResult result_;
};

bool Driver::Connect(ClientConn* c) {
  if (c->fd >= 0) {
    close(c->fd);
  }
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(o_.port));
  inet_pton(AF_INET, o_.host.c_str(), &addr.sin_addr);
  if (c->fd < 0 || connect(c->fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (c->fd >= 0) {
      close(c->fd);
    }
    c->fd = -1;
    return false;
  }
  const int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  fcntl(c->fd, F_SETFL, O_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = c;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c->fd, &ev);
  c->in.clear();
  return true;
}

void Driver::Send(ClientConn* c, Time scheduled) {
  if (c->fd < 0 && !Connect(c)) {
    ++result_.io_errors;
    if (Measured(scheduled)) {
      --pending_measured_;
    }
    idle_.push_back(c);
    return;
  }
  c->busy = true;
  c->scheduled = scheduled;
  c->measured = Measured(scheduled);
  c->request = &o_.requests[next_request_++ % o_.requests.size()];
  c->sent = 0;
  Write(c);
}

void Driver::Write(ClientConn* c) {
  while (c->sent < c->request->size()) {
    const ssize_t n =
        send(c->fd, c->request->data() + c->sent, c->request->size() - c->sent, MSG_NOSIGNAL);
    if (n > 0) {
      c->sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLOUT;
      ev.data.ptr = c;
      epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c->fd, &ev);
      return;
    }
    return Lose(c);
  }
}

void Driver::Lose(ClientConn* c) {
  ++result_.io_errors;
  if (c->busy && c->measured) {
    --pending_measured_;
  }
  c->busy = false;
  close(c->fd);
  c->fd = -1;
  idle_.push_back(c);
}

void Driver::Read(ClientConn* c, Time now) {
  char buf[65536];
  const ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    return;
  }
  if (n <= 0 || !c->busy) {
    return Lose(c);
  }
  c->in.append(buf, static_cast<size_t>(n));
  ResponseHead h;
  const int parsed = ParseHead(c->in, &h);
  if (parsed < 0) {
    return Lose(c);
  }
  if (parsed == 0 || c->in.size() < h.head_bytes + h.content_length) {
    return;
  }
  c->in.erase(0, h.head_bytes + h.content_length);
  if (h.close) {
    close(c->fd);
    c->fd = -1;
  }
  Finish(c, h.status, now);
}

void Driver::Finish(ClientConn* c, int status, Time now) {
  c->busy = false;
  if (c->measured) {
    --pending_measured_;
    ++result_.completed;
    ++result_.by_status[static_cast<size_t>(std::clamp(status, 0, 599))];
    const auto latency = static_cast<uint64_t>((now - c->scheduled).count());
    if (status >= 200 && status < 300) {
      ++result_.ok;
      result_.latency.Record(latency);
    } else {
      result_.error_latency.Record(latency);
    }
  }
  if (o_.mode == LoadOptions::Mode::kClosedLoop && now < end_) {
    if (Measured(now)) {
      ++pending_measured_;
    }
    return Send(c, now);
  }
  idle_.push_back(c);
}

void Driver::Arrivals(Time now) {
  std::exponential_distribution<double> gap(o_.rate_rps);
  while (next_arrival_ <= now && next_arrival_ < end_) {
    if (backlog_size_ == backlog_.size()) {
      if (Measured(next_arrival_)) {
        ++result_.client_dropped;
      }
    } else {
      backlog_[(backlog_head_ + backlog_size_++) % backlog_.size()] = next_arrival_;
      if (Measured(next_arrival_)) {
        ++pending_measured_;
      }
    }
    next_arrival_ +=
        std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(gap(rng_)));
  }
}

void Driver::Assign() {
  if (o_.mode == LoadOptions::Mode::kClosedLoop) {
    // Clients whose connection was lost start again (once per round).
    std::vector<ClientConn*> retry;
    retry.swap(idle_);
    const Time now = SteadyClock::now();
    for (ClientConn* c : retry) {
      if (now >= end_) {
        break;
      }
      if (Measured(now)) {
        ++pending_measured_;
      }
      Send(c, now);
    }
    return;
  }
  while (backlog_size_ > 0 && !idle_.empty()) {
    ClientConn* c = idle_.back();
    idle_.pop_back();
    const Time t = backlog_[backlog_head_];
    backlog_head_ = (backlog_head_ + 1) % backlog_.size();
    --backlog_size_;
    Send(c, t);
  }
}

int Driver::TimeoutNs(Time now) const {
  if (o_.mode == LoadOptions::Mode::kOpenLoop && next_arrival_ < end_) {
    const Time wake = next_arrival_ - o_.spin_before_send;
    return static_cast<int>(std::clamp<int64_t>((wake - now).count(), 0, 10'000'000));
  }
  return 10'000'000;
}

Result<LoadResult> Driver::Run() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  for (ClientConn& c : conns_) {
    if (!Connect(&c)) {
      return UnavailableError("cannot connect to " + o_.host + ":" + std::to_string(o_.port));
    }
  }
  const Time start = SteadyClock::now();
  warm_end_ = start + o_.warmup;
  end_ = warm_end_ + o_.duration;
  const Time hard_end = end_ + o_.drain;
  if (o_.mode == LoadOptions::Mode::kClosedLoop) {
    for (ClientConn& c : conns_) {
      Send(&c, start);
    }
  } else {
    for (ClientConn& c : conns_) {
      idle_.push_back(&c);
    }
    next_arrival_ = start;
  }
  epoll_event events[256];
  for (Time now = start; now < hard_end; now = SteadyClock::now()) {
    if (o_.mode == LoadOptions::Mode::kOpenLoop) {
      Arrivals(now);
    }
    Assign();
    if (now >= end_ && pending_measured_ == 0) {
      break;
    }
    const timespec ts{0, TimeoutNs(now)};
    const int n = epoll_pwait2(epoll_fd_, events, 256, &ts, nullptr);
    const Time t = SteadyClock::now();
    for (int i = 0; i < n; ++i) {
      auto* c = static_cast<ClientConn*>(events[i].data.ptr);
      if (c->fd < 0) {
        continue;
      }
      if (events[i].events & EPOLLOUT) {
        Write(c);
      }
      if (c->fd >= 0 && (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
        Read(c, t);
      }
    }
  }
  result_.unfinished = pending_measured_;
  result_.seconds = std::chrono::duration<double>(o_.duration).count();
  return std::move(result_);
}

}  // namespace

Result<LoadResult> RunLoad(const LoadOptions& options) {
  if (options.requests.empty()) {
    return InvalidArgumentError("requests: at least one is required");
  }
  if (options.connections < 1) {
    return InvalidArgumentError("connections: must be >= 1");
  }
  if (options.mode == LoadOptions::Mode::kOpenLoop && !(options.rate_rps > 0)) {
    return InvalidArgumentError("rate_rps: must be > 0 in open loop");
  }
  if (options.max_backlog < 1) {
    return InvalidArgumentError("max_backlog: must be >= 1");
  }
  if (options.spin_before_send.count() < 0) {
    return InvalidArgumentError("spin_before_send: must be >= 0");
  }
  // Sleeps until the next scheduled send would otherwise overshoot by the
  // default 50 us timer slack, and that lateness would count as latency.
  const int slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0);
  Driver driver(options);
  Result<LoadResult> result = driver.Run();
  if (slack > 0) {
    prctl(PR_SET_TIMERSLACK, slack, 0, 0, 0);
  }
  return result;
}

}  // namespace hotpath::loadgen
