#include "observe/history.h"

namespace hotpath {

Result<std::unique_ptr<MetricsHistory>> MetricsHistory::Create(const Options& options,
                                                               const Clock& clock) {
  if (options.capacity == 0) return InvalidArgumentError("history capacity must be >= 1, got 0");
  return std::unique_ptr<MetricsHistory>(new MetricsHistory(options, clock));
}

MetricsHistory::MetricsHistory(const Options& options, const Clock& clock)
    : clock_(clock), capacity_(options.capacity), ring_(options.capacity) {}

void MetricsHistory::Record(const HistogramSnapshot& latency, uint64_t errors_total) {
  const TimePoint now = clock_.Now();
  MutexLock lock(&mu_);
  if (has_baseline_) {
    const HistogramSnapshot delta = latency.Minus(last_latency_);
    HistoryPoint p;
    p.wall = clock_.WallNow();
    p.interval = now - last_at_;
    p.requests = delta.Count();
    p.errors = errors_total - last_errors_;
    const double seconds = static_cast<double>(p.interval.count()) * 1e-9;
    p.throughput_per_s = seconds > 0 ? static_cast<double>(p.requests) / seconds : 0.0;
    p.p50_s = delta.Quantile(0.50);
    p.p95_s = delta.Quantile(0.95);
    p.p99_s = delta.Quantile(0.99);
    ring_[(head_ + size_) % capacity_] = p;
    if (size_ < capacity_) {
      ++size_;
    } else {
      head_ = (head_ + 1) % capacity_;
    }
  }
  has_baseline_ = true;
  last_at_ = now;
  last_latency_ = latency;
  last_errors_ = errors_total;
}

std::vector<HistoryPoint> MetricsHistory::Points() const {
  MutexLock lock(&mu_);
  std::vector<HistoryPoint> out;
  out.reserve(size_);
  for (size_t i = 0; i < size_; ++i) out.push_back(ring_[(head_ + i) % capacity_]);
  return out;
}

}  // namespace hotpath
