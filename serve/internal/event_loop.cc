// EventLoop: sockets, wake-ups, timers and drain (connection.cc has the
// per-connection protocol).
#include "serve/internal/event_loop.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "serve/internal/connection.h"

namespace hotpath::serve_internal {
namespace {

// epoll tags for the two non-connection descriptors.
char kListenTag;
char kWakeTag;

constexpr int kMaxEvents = 256;
constexpr std::string_view kTooManyConnections =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    "Content-Length: 32\r\nConnection: close\r\n\r\n{\"error\":\"too many connections\"}";

}  // namespace

Result<std::unique_ptr<EventLoop>> EventLoop::Create(const LoopOptions& options,
                                                     InferenceService* service, int listen_fd) {
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  const int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd < 0 || wake_fd < 0) {
    const std::string err = std::strerror(errno);
    if (epoll_fd >= 0) {
      close(epoll_fd);
    }
    if (wake_fd >= 0) {
      close(wake_fd);
    }
    close(listen_fd);
    return UnavailableError("event loop: " + err);
  }
  std::unique_ptr<EventLoop> loop(new EventLoop(options, service, listen_fd, epoll_fd, wake_fd));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &kListenTag;
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &ev);
  ev.data.ptr = &kWakeTag;
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &ev);
  return loop;
}

EventLoop::EventLoop(const LoopOptions& options, InferenceService* service, int listen_fd,
                     int epoll_fd, int wake_fd)
    : options_(options),
      service_(service),
      handler_(service),
      listen_fd_(listen_fd),
      epoll_fd_(epoll_fd),
      wake_fd_(wake_fd) {
  completed_local_.reserve(64);
}

EventLoop::~EventLoop() {
  for (Connection* c : active_) {
    close(c->fd);
  }
  if (listen_fd_ >= 0) {
    close(listen_fd_);
  }
  close(wake_fd_);
  close(epoll_fd_);
}

std::chrono::milliseconds EventLoop::Tick() const {
  const auto shortest = std::min(options_.idle_timeout, options_.request_timeout);
  return std::clamp(shortest / 4, std::chrono::milliseconds(1), std::chrono::milliseconds(100));
}

void EventLoop::Run() {
  thread_id_ = std::this_thread::get_id();
  epoll_event events[kMaxEvents];
  const int tick_ms = static_cast<int>(Tick().count());
  now_ = std::chrono::steady_clock::now();
  next_sweep_ = now_ + Tick();
  SteadyTime poll_until = now_;  // busy-poll (timeout 0) while now_ is before it
  while (!draining_ || !active_.empty() || in_flight_ > 0) {
    const int n = epoll_wait(epoll_fd_, events, kMaxEvents, now_ < poll_until ? 0 : tick_ms);
    now_ = std::chrono::steady_clock::now();
    if (n > 0) poll_until = now_ + options_.busy_poll;
    for (int i = 0; i < n; ++i) {
      Dispatch(events[i].data.ptr, events[i].events);
    }
    if (now_ >= next_sweep_) {
      Sweep();
      next_sweep_ = now_ + Tick();
    }
    for (Connection* c : to_free_) {
      free_.push_back(c);
    }
    to_free_.clear();
  }
}

void EventLoop::Dispatch(void* tag, uint32_t events) {
  if (tag == &kListenTag) {
    return Accept();
  }
  if (tag == &kWakeTag) {
    return OnWake();
  }
  auto* c = static_cast<Connection*>(tag);
  if (c->fd < 0) {
    return;  // closed earlier in this round
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
    OnReadable(c);
  }
  if (c->fd >= 0 && (events & EPOLLOUT)) {
    OnWritable(c);
  }
}

void EventLoop::Accept() {
  while (listen_fd_ >= 0) {
    sockaddr_in peer{};
    socklen_t peer_len = sizeof(peer);
    const int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &peer_len,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      return;  // EAGAIN, or an error the next readiness retries
    }
    if (active_.size() >= options_.max_connections) {
      (void)!send(fd, kTooManyConnections.data(), kTooManyConnections.size(), MSG_NOSIGNAL);
      close(fd);
      continue;
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    Connection* c;
    if (free_.empty()) {
      owned_.push_back(std::make_unique<Connection>(options_.limits));
      c = owned_.back().get();
    } else {
      c = free_.back();
      free_.pop_back();
    }
    c->Reset(fd, now_);
    char ip[INET_ADDRSTRLEN] = "";
    inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof(ip));
    c->client = ip;
    c->index = active_.size();
    active_.push_back(c);
    UpdateInterest(c);
  }
}

void EventLoop::UpdateInterest(Connection* c) {
  constexpr size_t kMaxPendingOutput = 1 << 20;
  uint32_t want = 0;
  if (c->state == ConnState::kLingering ||
      (c->state == ConnState::kReading && !c->close_after_write &&
       c->out.size() < kMaxPendingOutput)) {
    want |= EPOLLIN;
  }
  if (!c->out.empty()) {
    want |= EPOLLOUT;
  }
  if (c->registered && want == c->events) {
    return;
  }
  epoll_event ev{};
  ev.events = want;
  ev.data.ptr = c;
  epoll_ctl(epoll_fd_, c->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev);
  c->registered = true;
  c->events = want;
}

void EventLoop::Close(Connection* c) {
  if (c->fd < 0) {
    return;
  }
  close(c->fd);
  c->fd = -1;
  Connection* last = active_.back();
  active_[c->index] = last;
  last->index = c->index;
  active_.pop_back();
  // An in-flight connection is released when its completion arrives.
  if (c->state != ConnState::kInFlight) {
    Release(c);
  }
}

void EventLoop::Release(Connection* c) { to_free_.push_back(c); }

void EventLoop::BeginDrain() {
  drain_requested_.store(true, std::memory_order_release);
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
}

void EventLoop::OnInferDone(Connection* c) {
  if (c == starting_ && std::this_thread::get_id() == thread_id_) {
    c->inline_done = true;  // still inside StartInfer / StartApp
    return;
  }
  {
    MutexLock lock(&mu_);
    completed_.push_back(c);
  }
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
}

void EventLoop::OnWake() {
  uint64_t count;
  (void)!read(wake_fd_, &count, sizeof(count));
  if (drain_requested_.load(std::memory_order_acquire) && !draining_) {
    StartDrain();
  }
  {
    MutexLock lock(&mu_);
    completed_local_.swap(completed_);
  }
  for (Connection* c : completed_local_) {
    CompleteInfer(c);
    if (c->fd < 0) {
      Release(c);
    } else {
      ProcessRequests(c);
    }
  }
  completed_local_.clear();
}

void EventLoop::StartDrain() {
  draining_ = true;
  drain_deadline_ = now_ + options_.drain_timeout;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
  close(listen_fd_);
  listen_fd_ = -1;
  Sweep();
}

void EventLoop::Sweep() {
  // Backwards: Close moves the last connection into the closed one's place.
  for (size_t i = active_.size(); i-- > 0;) {
    SweepOne(active_[i]);
  }
}

void EventLoop::SweepOne(Connection* c) {
  if (draining_ && now_ >= drain_deadline_) {
    return Close(c);
  }
  if (c->state == ConnState::kInFlight) {
    return;
  }
  if (c->state == ConnState::kLingering) {
    if (now_ - c->linger_started > std::chrono::seconds(1)) {
      Close(c);
    }
    return;
  }
  const bool idle = c->in.empty() && c->out.empty();
  if (idle && (draining_ || now_ - c->last_active > options_.idle_timeout)) {
    return Close(c);
  }
  if (!c->out.empty() && now_ - c->last_active > options_.idle_timeout) {
    return Close(c);
  }
  if (!c->in.empty() && c->out.empty() && now_ - c->request_started > options_.request_timeout) {
    FailConnection(c, 408, "request not received within the request timeout");
  }
}

}  // namespace hotpath::serve_internal
