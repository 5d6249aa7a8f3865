#include "serve/admission/internal/latency_limit.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace hotpath::admission_internal {

Status LatencyLimit::Validate(const Options& o) {
  if (o.min_limit < 1) return InvalidArgumentError("min_limit must be >= 1");
  if (o.max_limit < o.min_limit) return InvalidArgumentError("max_limit must be >= min_limit");
  if (o.initial_limit < o.min_limit || o.initial_limit > o.max_limit) {
    return InvalidArgumentError("initial_limit must be in [min_limit, max_limit], got " +
                                std::to_string(o.initial_limit));
  }
  if (o.window <= Nanos(0)) return InvalidArgumentError("window must be > 0");
  if (o.min_window_samples < 1) return InvalidArgumentError("min_window_samples must be >= 1");
  if (!(o.tolerance >= 1)) return InvalidArgumentError("tolerance must be >= 1");
  if (!(o.backoff >= 0.5 && o.backoff < 1)) {
    return InvalidArgumentError("backoff must be in [0.5, 1)");
  }
  if (o.probe_interval <= o.window) {
    return InvalidArgumentError("probe_interval must be > window");
  }
  return OkStatus();
}

LatencyLimit::LatencyLimit(const Options& options)
    : options_(options), limit_(options.initial_limit) {}

int LatencyLimit::OnCall(TimePoint granted, TimePoint now, bool ok, int inflight) {
  if (!started_) {
    started_ = true;
    next_probe_ = now;
  }
  if (!probing_ && now >= next_probe_) {
    probing_ = true;
    probe_start_ = now;
    StartWindow(now);
    return limit();
  }
  if (probing_ && granted < probe_start_) return limit();
  if (ok) {
    sum_ns_ += static_cast<double>((now - granted).count());
    ++samples_;
  } else {
    ++failures_;
  }
  limited_ = limited_ || inflight >= limit();
  const int64_t needed = probing_ ? 1 : options_.min_window_samples;
  if (now >= window_end_ && samples_ + failures_ >= needed) {
    CloseWindow(now);
  }
  return limit();
}

void LatencyLimit::CloseWindow(TimePoint now) {
  const double avg = samples_ > 0 ? sum_ns_ / static_cast<double>(samples_) : 0;
  if (probing_) {
    probing_ = false;
    next_probe_ = now + options_.probe_interval;
    if (samples_ > 0) baseline_ns_ = avg;
  } else if (baseline_ns_ > 0) {
    Adjust(avg);
  }
  StartWindow(now);
}

void LatencyLimit::Adjust(double avg_ns) {
  const double allowed = options_.tolerance * baseline_ns_;
  if (failures_ > 0 || avg_ns > allowed) {
    const double ratio = failures_ > 0 || avg_ns <= 0 ? options_.backoff : allowed / avg_ns;
    const double factor = std::clamp(ratio, 0.5, options_.backoff);
    limit_ = std::max(options_.min_limit, static_cast<int>(std::floor(limit_ * factor)));
  } else if (limited_) {
    const int step = std::max(1, static_cast<int>(std::sqrt(static_cast<double>(limit_))));
    limit_ = std::min(options_.max_limit, limit_ + step);
  }
}

void LatencyLimit::StartWindow(TimePoint now) {
  window_end_ = now + options_.window;
  sum_ns_ = 0;
  samples_ = 0;
  failures_ = 0;
  limited_ = false;
}

}  // namespace hotpath::admission_internal
