// EventLoop: one connection's protocol — read, parse, route, infer, write,
// close (event_loop.cc has sockets, wake-ups, timers and drain).
#include "serve/internal/connection.h"
#include "serve/internal/http_response.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "serve/internal/event_loop.h"

namespace hotpath::serve_internal {
namespace {

constexpr size_t kReadChunk = size_t{16} * 1024;
// Stop parsing pipelined requests while this much output waits for the client.
constexpr size_t kMaxPendingOutput = 1 << 20;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace

void EventLoop::OnReadable(Connection* c) {
  // In flight, reads are off: only a hang-up or error gets here.
  if (c->state == ConnState::kInFlight) {
    return Close(c);
  }
  char* p = c->in.Reserve(kReadChunk);
  const ssize_t n = recv(c->fd, p, c->in.free_space(), 0);
  if (n > 0) {
    now_ = std::chrono::steady_clock::now();  // the request's arrival, for timing
    c->last_active = now_;
    if (c->state == ConnState::kLingering) {
      return;  // discarded
    }
    if (c->in.empty()) {
      c->request_started = now_;
    }
    c->in.Commit(static_cast<size_t>(n));
    return ProcessRequests(c);
  }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    return;
  }
  Close(c);
}

void EventLoop::OnWritable(Connection* c) {
  if (c->state == ConnState::kReading) {
    return ProcessRequests(c);
  }
  Flush(c);
}

void EventLoop::ProcessRequests(Connection* c) {
  while (c->state == ConnState::kReading && !c->close_after_write &&
         c->out.size() < kMaxPendingOutput) {
    HttpRequest req;
    const HttpRequestParser::Outcome outcome = c->parser.Parse(c->in.view(), &req);
    if (outcome == HttpRequestParser::Outcome::kError) {
      return FailConnection(c, c->parser.error_status(), c->parser.error_message());
    }
    if (outcome == HttpRequestParser::Outcome::kNeedMore) {
      if (c->parser.head_complete() && req.expect_continue && !c->sent_continue) {
        c->out.Append(kContinue);
        c->sent_continue = true;
      }
      break;
    }
    if (!HandleRequest(c, req)) {
      break;
    }
  }
  Flush(c);
}

bool EventLoop::HandleRequest(Connection* c, const HttpRequest& req) {
  const bool keep_alive = req.keep_alive && !draining_;
  const SteadyTime received = c->request_started;
  const bool limited = RateLimited(c, req, keep_alive);
  const bool kserve =
      !limited && (req.path == "/v2" || req.path.substr(0, 4) == "/v2/" || options_.app == nullptr);
  const KServeHandler::Action action = kserve
      ? handler_.Handle(req, keep_alive, &c->slot, &scratch_, &c->out)
      : KServeHandler::Action::kResponded;
  const bool app_started = !limited && !kserve && StartApp(c, req, keep_alive);
  c->in.Consume(req.total_bytes);  // `req` is invalid from here on
  c->parser.Reset();
  c->sent_continue = false;
  if (!c->in.empty()) {
    c->request_started = now_;
  }
  if (!keep_alive) {
    c->close_after_write = true;
  }
  if (action == KServeHandler::Action::kInfer) {
    c->infer_received = received;
    StartInfer(c);
  }
  if (app_started && c->inline_done) {
    CompleteInfer(c);
  }
  return c->state == ConnState::kReading;
}

bool EventLoop::RateLimited(Connection* c, const HttpRequest& req, bool keep_alive) {
  if (options_.rate_limiter == nullptr || req.path.substr(0, 11) == "/v2/health/") {
    return false;
  }
  const RateLimitDecision d = options_.rate_limiter->Decide(c->client);
  if (d.allowed) {
    return false;
  }
  const std::string retry = "Retry-After: " + std::to_string(d.RetryAfterSeconds()) + "\r\n";
  const HttpAppResponse r = JsonError(429, d.ToStatus(c->client).message());
  AppendResponse(r.status, r.content_type, r.body, keep_alive, retry, &c->out);
  return true;
}

bool EventLoop::StartApp(Connection* c, const HttpRequest& req, bool keep_alive) {
  static constexpr std::string_view kMethods[] = {"GET", "HEAD", "POST", "PUT",
                                                  "DELETE", "PATCH", "OPTIONS", "OTHER"};
  const HttpAppRequest r{kMethods[static_cast<size_t>(req.method)], req.path, req.query, req.body};
  c->state = ConnState::kInFlight;
  c->inline_done = false;
  c->slot.app = true;
  c->slot.keep_alive = keep_alive;
  ++in_flight_;
  starting_ = c;
  const bool handled = options_.app->Handle(r, [this, c](HttpAppResponse response) {
    c->slot.app_response = std::move(response);
    OnInferDone(c);
  });
  starting_ = nullptr;
  if (!handled) {
    --in_flight_;
    c->state = ConnState::kReading;
    c->slot.app = false;
    KServeHandler::WriteError(404, "no route for " + std::string(req.path), keep_alive, &scratch_,
                              &c->out);
  }
  return handled;
}

void EventLoop::StartInfer(Connection* c) {
  c->state = ConnState::kInFlight;
  c->inline_done = false;
  ++in_flight_;
  starting_ = c;
  service_->Infer(c->slot.request, &c->slot.response, [this, c](Status status) {
    c->slot.status = std::move(status);
    OnInferDone(c);
  });
  starting_ = nullptr;
  if (c->inline_done) {
    CompleteInfer(c);
  }
}

void EventLoop::CompleteInfer(Connection* c) {
  --in_flight_;
  c->state = ConnState::kReading;
  if (c->fd < 0) {
    return;
  }
  if (draining_) {  // the drain began while the request ran
    c->slot.keep_alive = false;
    c->close_after_write = true;
  }
  if (c->slot.app) {
    const HttpAppResponse& r = c->slot.app_response;
    AppendResponse(r.status, r.content_type, r.body, c->slot.keep_alive, {}, &c->out);
    c->slot.app = false;
    return;
  }
  handler_.WriteInferResult(c->slot, &scratch_, &c->out);
  c->timing_pending = static_cast<bool>(options_.on_infer_timing);
}

void EventLoop::FailConnection(Connection* c, int http_status, std::string_view message) {
  KServeHandler::WriteError(http_status, message, /*keep_alive=*/false, &scratch_, &c->out);
  c->close_after_write = true;
  Flush(c);
}

void EventLoop::Flush(Connection* c) {
  if (c->fd < 0) {
    return;
  }
  while (!c->out.empty()) {
    const std::string_view data = c->out.view();
    const ssize_t n = send(c->fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      c->out.Consume(static_cast<size_t>(n));
      c->last_active = now_;
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    }
    return Close(c);
  }
  if (c->timing_pending) {
    c->timing_pending = false;
    const Nanos compute = c->slot.status.ok() ? c->slot.response.compute_time : Nanos(0);
    options_.on_infer_timing({std::chrono::steady_clock::now() - c->infer_received, compute});
  }
  if (c->out.empty() && c->close_after_write && c->state == ConnState::kReading) {
    return Linger(c);
  }
  UpdateInterest(c);
}

// Half-closes and discards input until the client closes (or a second
// passes), so a response sent before the whole request was read is not
// destroyed by a reset.
void EventLoop::Linger(Connection* c) {
  c->state = ConnState::kLingering;
  c->linger_started = now_;
  c->in.Clear();
  shutdown(c->fd, SHUT_WR);
  UpdateInterest(c);
}

}  // namespace hotpath::serve_internal
