#include "observe/metrics.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace hotpath {

size_t ThisThreadMetricShard() {
  static std::atomic<size_t> next{0};
  thread_local const size_t shard = next.fetch_add(1, std::memory_order_relaxed) % kMetricShards;
  return shard;
}

uint64_t Counter::Value() const {
  uint64_t total = 0;
  for (const Shard& s : shards_) total += s.value.load(std::memory_order_relaxed);
  return total;
}

// ---------------------------------------------------------------- buckets

Result<HistogramBuckets> HistogramBuckets::Exponential(double start, double factor, int count) {
  if (!(start > 0) || !std::isfinite(start)) {
    return InvalidArgumentError("histogram buckets: start must be > 0, got " +
                                std::to_string(start));
  }
  if (!(factor > 1) || !std::isfinite(factor)) {
    return InvalidArgumentError("histogram buckets: factor must be > 1, got " +
                                std::to_string(factor));
  }
  if (count < 1 || static_cast<size_t>(count) > kMaxHistogramBuckets) {
    return InvalidArgumentError("histogram buckets: count must be in [1, " +
                                std::to_string(kMaxHistogramBuckets) + "], got " +
                                std::to_string(count));
  }
  std::vector<double> bounds(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) bounds[static_cast<size_t>(i)] = start * std::pow(factor, i);
  return HistogramBuckets(std::move(bounds));
}

Result<HistogramBuckets> HistogramBuckets::Explicit(std::vector<double> bounds) {
  if (bounds.empty() || bounds.size() > kMaxHistogramBuckets) {
    return InvalidArgumentError("histogram buckets: need 1 to " +
                                std::to_string(kMaxHistogramBuckets) + " bounds, got " +
                                std::to_string(bounds.size()));
  }
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1]))) {
      return InvalidArgumentError("histogram buckets: bound " + std::to_string(i) +
                                  " must be finite and above the previous one");
    }
  }
  return HistogramBuckets(std::move(bounds));
}

HistogramBuckets HistogramBuckets::LatencySeconds() {
  return std::move(Exponential(1e-6, 2.0, 24).value());
}

HistogramBuckets HistogramBuckets::BatchRows() {
  return std::move(Exponential(1, 2.0, 13).value());
}

size_t HistogramBuckets::BucketFor(double v) const {
  return static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
}

// --------------------------------------------------------------- snapshot

uint64_t HistogramSnapshot::Count() const {
  uint64_t n = 0;
  for (uint64_t c : counts) n += c;
  return n;
}

void HistogramSnapshot::Merge(const HistogramSnapshot& other) {
  if (counts.empty()) {
    *this = other;
    return;
  }
  for (size_t i = 0; i < counts.size(); ++i) counts[i] += other.counts[i];
  sum += other.sum;
}

HistogramSnapshot HistogramSnapshot::Minus(const HistogramSnapshot& earlier) const {
  HistogramSnapshot d = *this;
  if (earlier.counts.empty()) return d;
  for (size_t i = 0; i < d.counts.size(); ++i) d.counts[i] -= earlier.counts[i];
  d.sum -= earlier.sum;
  return d;
}

double HistogramSnapshot::Quantile(double q) const {
  const uint64_t total = Count();
  if (total == 0) return 0.0;
  const double rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(total);
  uint64_t below = 0;
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (static_cast<double>(below + counts[i]) >= rank && counts[i] > 0) {
      const double lo = i == 0 ? 0.0 : bounds[i - 1];
      const double frac = (rank - static_cast<double>(below)) / static_cast<double>(counts[i]);
      return lo + (bounds[i] - lo) * frac;
    }
    below += counts[i];
  }
  return bounds.empty() ? 0.0 : bounds.back();
}

// -------------------------------------------------------------- histogram

Histogram::Histogram(const HistogramBuckets& buckets)
    : buckets_(buckets), shards_(std::make_unique<Shard[]>(kMetricShards)) {}

void Histogram::Observe(double v) {
  Shard& s = shards_[ThisThreadMetricShard()];
  s.counts[buckets_.BucketFor(v)].fetch_add(1, std::memory_order_relaxed);
  s.sum.fetch_add(v, std::memory_order_relaxed);
}

HistogramSnapshot Histogram::Snapshot() const {
  HistogramSnapshot snap;
  snap.bounds = buckets_.bounds();
  snap.counts.assign(snap.bounds.size() + 1, 0);
  for (size_t s = 0; s < kMetricShards; ++s) {
    for (size_t i = 0; i < snap.counts.size(); ++i) {
      snap.counts[i] += shards_[s].counts[i].load(std::memory_order_relaxed);
    }
    snap.sum += shards_[s].sum.load(std::memory_order_relaxed);
  }
  return snap;
}

// ---------------------------------------------------------------- families

template <typename M>
Result<M*> Family<M>::WithLabels(const std::vector<std::string>& label_values) {
  if (label_values.size() != spec().label_names.size()) {
    return InvalidArgumentError("metric " + spec().name + ": expected " +
                                std::to_string(spec().label_names.size()) + " label values, got " +
                                std::to_string(label_values.size()));
  }
  MutexLock lock(&mu_);
  std::unique_ptr<M>& slot = series_[label_values];
  if (slot == nullptr) slot = make_();
  return slot.get();
}

namespace {

void AppendSeries(const FamilyBase& f, const std::vector<std::string>& values, const Counter& c,
                  std::string* out) {
  exposition::AppendSample(f.spec().name, exposition::FormatLabels(f.spec().label_names, values),
                           std::to_string(c.Value()), out);
}

void AppendSeries(const FamilyBase& f, const std::vector<std::string>& values, const Gauge& g,
                  std::string* out) {
  exposition::AppendSample(f.spec().name, exposition::FormatLabels(f.spec().label_names, values),
                           exposition::FormatValue(g.Value()), out);
}

void AppendSeries(const FamilyBase& f, const std::vector<std::string>& values, const Histogram& h,
                  std::string* out) {
  const HistogramSnapshot snap = h.Snapshot();
  const std::string& name = f.spec().name;
  const std::vector<std::string>& names = f.spec().label_names;
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= snap.bounds.size(); ++i) {
    cumulative += snap.counts[i];
    const std::string le =
        i < snap.bounds.size() ? exposition::FormatValue(snap.bounds[i]) : std::string("+Inf");
    exposition::AppendSample(name + "_bucket", exposition::FormatLabels(names, values, "le", le),
                             std::to_string(cumulative), out);
  }
  const std::string labels = exposition::FormatLabels(names, values);
  exposition::AppendSample(name + "_sum", labels, exposition::FormatValue(snap.sum), out);
  exposition::AppendSample(name + "_count", labels, std::to_string(cumulative), out);
}

}  // namespace

template <typename M>
void Family<M>::AppendText(std::string* out) const {
  exposition::AppendHeader(*this, out);
  MutexLock lock(&mu_);
  for (const auto& [values, series] : series_) AppendSeries(*this, values, *series, out);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

}  // namespace hotpath
