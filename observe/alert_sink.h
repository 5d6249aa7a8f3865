// Alert sinks: alerts (high-risk decisions, firing rules) published to the
// systems people watch.
// Publishing is asynchronous (a bounded queue and one sender thread per
// sink): a slow or absent receiver never delays a decision. An alert that
// cannot be delivered is counted (and the queue drops the newest beyond its
// bound), never retried forever.
//  - RedisStreamAlertSink: XADD to a Redis stream (field "alert", JSON).
//  - WebhookAlertSink: HTTP/1.1 POST of the JSON to http://HOST:PORT/PATH.
#ifndef HOTPATH_OBSERVE_ALERT_SINK_H_
#define HOTPATH_OBSERVE_ALERT_SINK_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "core/status.h"
#include "core/thread_annotations.h"

namespace hotpath {

// Counters of one sink since it started.
struct AlertStats {
  uint64_t published = 0;  // delivered
  uint64_t failed = 0;     // the receiver refused or was unreachable
  uint64_t dropped = 0;    // the queue was full
};

class AlertSink {
 public:
  struct Options {
    size_t max_queue = 10000;  // alerts waiting to be sent, >= 1
  };
  // Sends what is queued, then stops.
  virtual ~AlertSink();
  // Queues `json` (one alert). Never blocks. Thread-safe.
  void Publish(std::string json) EXCLUDES(mu_);
  AlertStats stats() const EXCLUDES(mu_);

 protected:
  explicit AlertSink(const Options& options) : options_(options) {}
  // Starts the sender thread; call once from the subclass's Create.
  void Start();
  // Stops and joins the sender thread; call from the subclass's destructor.
  void Stop() EXCLUDES(mu_);
  // Delivers one alert on the sender thread.
  virtual Status Send(const std::string& json) = 0;

 private:
  void Loop() EXCLUDES(mu_);

  const Options options_;
  mutable Mutex mu_;
  CondVar cv_;  // queue_ gained an alert, or stop_
  std::deque<std::string> queue_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  AlertStats stats_ GUARDED_BY(mu_);
  std::thread thread_;
};

class RedisStreamAlertSink final : public AlertSink {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    int port = 6379;
    std::string stream = "hotpath:alerts";
    int64_t max_len = 100000;  // XADD MAXLEN ~ (approximate trim)
    AlertSink::Options queue;
  };
  // UNAVAILABLE when Redis cannot be reached at start.
  static Result<std::unique_ptr<RedisStreamAlertSink>> Create(const Options& options);
  ~RedisStreamAlertSink() override;

 private:
  explicit RedisStreamAlertSink(const Options& options) : AlertSink(options.queue), options_(options) {}
  Status Send(const std::string& json) override;
  Status Connect();

  const Options options_;
  void* redis_ = nullptr;  // redisContext*, sender thread only (and Create)
};

class WebhookAlertSink final : public AlertSink {
 public:
  // `url`: http://HOST:PORT/PATH (IPv4 literal host). INVALID_ARGUMENT otherwise.
  static Result<std::unique_ptr<WebhookAlertSink>> Create(const std::string& url, const AlertSink::Options& queue);
  ~WebhookAlertSink() override;

 private:
  WebhookAlertSink(const AlertSink::Options& queue, std::string host, int port, std::string path)
      : AlertSink(queue), host_(std::move(host)), port_(port), path_(std::move(path)) {}
  Status Send(const std::string& json) override;

  std::string host_;
  int port_;
  std::string path_;
};

}  // namespace hotpath

#endif  // HOTPATH_OBSERVE_ALERT_SINK_H_
