// The metrics registry: counters, gauges and histograms with labels, recorded
// on the hot path without a lock shared by all cores, and rendered in the
// Prometheus text exposition format 0.0.4 for /metrics.
//
// Recording: look a series up once (Family::WithLabels, a cold path that
// takes the family's lock), keep the returned pointer, and record through it.
// Counter and Histogram spread their atomics over kMetricShards cache-line
// aligned shards picked per thread, so concurrent increments from many cores
// touch different cache lines; readers sum the shards. Gauge is one atomic
// (gauges are set, not hammered).
//
// Lifetime: every Family and series pointer handed out stays valid for the
// registry's lifetime. Thread-safety: every method of every class here is
// thread-safe.
#ifndef HOTPATH_OBSERVE_METRICS_H_
#define HOTPATH_OBSERVE_METRICS_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/thread_annotations.h"

namespace hotpath {

// Number of per-thread shards behind each Counter and Histogram.
inline constexpr size_t kMetricShards = 16;
// Most finite buckets a histogram may have.
inline constexpr size_t kMaxHistogramBuckets = 32;

// The shard of the calling thread, in [0, kMetricShards). Threads are assigned
// round-robin on first use, so up to kMetricShards threads never share one.
size_t ThisThreadMetricShard();

// A monotonically increasing count (requests, rejections, rows).
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // Adds `n`. Lock-free: one relaxed atomic add on the caller's shard.
  void Increment(uint64_t n = 1) {
    shards_[ThisThreadMetricShard()].value.fetch_add(n, std::memory_order_relaxed);
  }
  // The sum over all shards. Exact once concurrent Increment calls returned.
  uint64_t Value() const;

 private:
  struct alignas(64) Shard {
    std::atomic<uint64_t> value{0};
  };
  std::array<Shard, kMetricShards> shards_;
};

// A value that goes up and down (queue depth, current delay, memory).
class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double d) { value_.fetch_add(d, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Immutable, strictly increasing finite upper bounds of a histogram's buckets
// (an implicit +Inf bucket follows the last one).
class HistogramBuckets {
 public:
  // bounds[i] = start * factor^i for i in [0, count).
  // INVALID_ARGUMENT unless start > 0, factor > 1 and 1 <= count <= kMaxHistogramBuckets.
  static Result<HistogramBuckets> Exponential(double start, double factor, int count);
  // INVALID_ARGUMENT unless 1..kMaxHistogramBuckets finite, strictly increasing bounds.
  static Result<HistogramBuckets> Explicit(std::vector<double> bounds);
  // Durations in seconds, 1 µs * 2^i for i in [0, 24): 1 µs, 2 µs, 4 µs, ... 8.39 s.
  static HistogramBuckets LatencySeconds();
  // Batch sizes in rows: 1, 2, 4, ... 4096.
  static HistogramBuckets BatchRows();

  const std::vector<double>& bounds() const { return bounds_; }
  // Index of the bucket counting `v`: the first i with v <= bounds[i], else bounds().size().
  size_t BucketFor(double v) const;

  friend bool operator==(const HistogramBuckets& a, const HistogramBuckets& b) {
    return a.bounds_ == b.bounds_;
  }

 private:
  explicit HistogramBuckets(std::vector<double> bounds) : bounds_(std::move(bounds)) {}
  std::vector<double> bounds_;
};

// A point-in-time copy of a histogram: per-bucket (non-cumulative) counts.
struct HistogramSnapshot {
  std::vector<double> bounds;    // finite upper bounds, as in HistogramBuckets
  std::vector<uint64_t> counts;  // [bounds.size() + 1], the last is the +Inf bucket
  double sum = 0.0;

  uint64_t Count() const;
  // Adds `other`'s counts and sum. REQUIRES: same bounds (or this one empty).
  void Merge(const HistogramSnapshot& other);
  // Counts and sum of this snapshot minus an earlier snapshot of the same series.
  // REQUIRES: same bounds, `earlier` taken before this one.
  HistogramSnapshot Minus(const HistogramSnapshot& earlier) const;
  // The q-quantile (q in [0, 1]) estimated as Prometheus' histogram_quantile
  // does: linear interpolation inside the bucket holding rank q*Count(), the
  // first bucket starting at 0; a rank in the +Inf bucket yields the last
  // finite bound. 0 when Count() == 0.
  double Quantile(double q) const;
};

// A distribution (durations in seconds, batch sizes in rows).
class Histogram {
 public:
  // Copies `buckets` (at most kMaxHistogramBuckets + 1 numbers).
  explicit Histogram(const HistogramBuckets& buckets);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Counts `v` in its bucket and adds it to the sum. Lock-free: two relaxed
  // atomic updates on the caller's shard (the sum is a CAS loop on a line no
  // other shard's thread writes).
  void Observe(double v);
  // Observes `d` in seconds.
  void ObserveDuration(Nanos d) { Observe(static_cast<double>(d.count()) * 1e-9); }
  // Sums the shards. Exact once concurrent Observe calls returned.
  HistogramSnapshot Snapshot() const;

 private:
  struct alignas(64) Shard {
    std::array<std::atomic<uint64_t>, kMaxHistogramBuckets + 1> counts{};
    std::atomic<double> sum{0.0};
  };
  const HistogramBuckets buckets_;
  std::unique_ptr<Shard[]> shards_;  // [kMetricShards]
};

enum class MetricType { kCounter, kGauge, kHistogram };

// Names a family of series. `name` matches [a-zA-Z_:][a-zA-Z0-9_:]*, label
// names match [a-zA-Z_][a-zA-Z0-9_]* and do not start with "__" (nor equal
// "le" for histograms). Use base units in names: _seconds, _bytes, _total.
struct MetricSpec {
  std::string name;
  std::string help;
  std::vector<std::string> label_names;
};

// Common part of all families, as the registry and the exposition see them.
class FamilyBase {
 public:
  // `bucket_bounds`: a histogram family's finite bucket bounds, else empty.
  FamilyBase(MetricSpec spec, MetricType type, std::vector<double> bucket_bounds = {})
      : spec_(std::move(spec)), type_(type), bucket_bounds_(std::move(bucket_bounds)) {}
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const MetricSpec& spec() const { return spec_; }
  MetricType type() const { return type_; }
  const std::vector<double>& bucket_bounds() const { return bucket_bounds_; }
  // Appends the HELP and TYPE lines and every series in exposition format 0.0.4.
  virtual void AppendText(std::string* out) const = 0;

 private:
  const MetricSpec spec_;
  const MetricType type_;
  const std::vector<double> bucket_bounds_;
};

// All series of one metric name, keyed by their label values.
template <typename M>
class Family final : public FamilyBase {
 public:
  // `make` creates one series; it must be thread-safe.
  Family(MetricSpec spec, MetricType type, std::function<std::unique_ptr<M>()> make,
         std::vector<double> bucket_bounds = {})
      : FamilyBase(std::move(spec), type, std::move(bucket_bounds)), make_(std::move(make)) {}

  // The series with these label values (one per label name, in order),
  // created on first use. INVALID_ARGUMENT when the count differs from the
  // spec's label names. Takes the family's lock: call once, keep the pointer.
  Result<M*> WithLabels(const std::vector<std::string>& label_values) EXCLUDES(mu_);

  void AppendText(std::string* out) const override EXCLUDES(mu_);

  // Calls fn(label values, series) for every series, under the family's lock
  // (fn must not register series in this family).
  void ForEach(const std::function<void(const std::vector<std::string>&, const M&)>& fn) const
      EXCLUDES(mu_) {
    MutexLock l(&mu_);
    for (const auto& [labels, series] : series_) fn(labels, *series);
  }

 private:
  const std::function<std::unique_ptr<M>()> make_;
  mutable Mutex mu_;
  // Series are only added, never removed: handed-out pointers stay valid.
  std::map<std::vector<std::string>, std::unique_ptr<M>> series_ GUARDED_BY(mu_);
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

// Owns every family; renders them all for a scrape.
class MetricsRegistry {
 public:
  // Content-Type of ExpositionText() for an HTTP /metrics answer.
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Registers a family, or returns the one already registered under the same
  // name with the same type, label names (and buckets), so that several
  // components (one batcher per model) share a family. ALREADY_EXISTS when the
  // name is taken by a different definition; INVALID_ARGUMENT naming the bad
  // name or label name.
  Result<CounterFamily*> AddCounter(const MetricSpec& spec) EXCLUDES(mu_);
  Result<GaugeFamily*> AddGauge(const MetricSpec& spec) EXCLUDES(mu_);
  Result<HistogramFamily*> AddHistogram(const MetricSpec& spec, const HistogramBuckets& buckets)
      EXCLUDES(mu_);
  // Registers an unlabelled counter or gauge whose value `sample` computes at
  // each scrape (process CPU, RSS). `sample` must be thread-safe and may return
  // NaN when the value is unavailable. ALREADY_EXISTS when the name is taken;
  // INVALID_ARGUMENT for a bad name, labels, or type kHistogram.
  Status AddSampled(const MetricSpec& spec, MetricType type, std::function<double()> sample)
      EXCLUDES(mu_);

  // Every family in registration order, each series sorted by label values,
  // in the Prometheus text exposition format 0.0.4.
  std::string ExpositionText() const EXCLUDES(mu_);

  // The family registered under `name`, or null.
  const FamilyBase* Find(std::string_view name) const EXCLUDES(mu_);

 private:
  // Returns the existing family named spec.name if `same` accepts it (else
  // ALREADY_EXISTS), or null when the name is free. REQUIRES: spec validated.
  Result<FamilyBase*> Existing(const MetricSpec& spec, MetricType type,
                               const std::function<bool(const FamilyBase&)>& same) REQUIRES(mu_);

  mutable Mutex mu_;
  // Families are only added, never removed.
  std::vector<std::unique_ptr<FamilyBase>> families_ GUARDED_BY(mu_);
};

// Readers for components that act on the metrics (history, cost, scaling):
// a family's series summed per value of its first label ("" for an
// unlabelled family). Empty when no family of that name and type exists.
// Thread-safe.
std::map<std::string, uint64_t> CounterTotals(const MetricsRegistry& registry, std::string_view name);
std::map<std::string, HistogramSnapshot> HistogramTotals(const MetricsRegistry& registry,
                                                         std::string_view name);

// Exposition helpers, exposed for the families and for tests.
namespace exposition {
// Label value escaping: backslash, double quote and newline become \\, \" and \n.
std::string EscapeLabelValue(std::string_view v);
// HELP text escaping: backslash and newline become \\ and \n.
std::string EscapeHelp(std::string_view v);
// A sample value as Prometheus parses it: shortest round-trip decimal, +Inf, -Inf, NaN.
std::string FormatValue(double v);
// `{a="x",b="y"}` (empty string when there are no labels); `extra` appends one
// more pair, e.g. le="0.001", when its name is not empty.
std::string FormatLabels(const std::vector<std::string>& names,
                         const std::vector<std::string>& values, std::string_view extra_name = {},
                         std::string_view extra_value = {});
// Appends "# HELP ..." and "# TYPE ..." lines for `family`.
void AppendHeader(const FamilyBase& family, std::string* out);
// Appends one sample line: name, labels (as FormatLabels renders them), value.
void AppendSample(std::string_view name, std::string_view labels, std::string_view value,
                  std::string* out);
}  // namespace exposition

}  // namespace hotpath

#endif  // HOTPATH_OBSERVE_METRICS_H_
