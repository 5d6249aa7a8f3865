// LatencyHistogram: a log-linear histogram of durations in nanoseconds
// (HdrHistogram's bucketing): exact below 2^sub_bits ns, then 2^sub_bits
// linear sub-buckets per power of two, so any recorded value is reported
// within a relative error of 2^-sub_bits. Fixed memory (64 * 2^sub_bits
// counters, 64 KiB at the default 7 bits) however many values it holds.
// Not thread-safe: one writer, or a lock around it.
#ifndef HOTPATH_SERVE_LOADGEN_LATENCY_HISTOGRAM_H_
#define HOTPATH_SERVE_LOADGEN_LATENCY_HISTOGRAM_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hotpath::loadgen {

class LatencyHistogram {
 public:
  // REQUIRES: 1 <= sub_bits <= 16.
  explicit LatencyHistogram(int sub_bits = 7);

  void Record(uint64_t ns);
  // Adds `other`'s counts. REQUIRES: the same sub_bits.
  void Merge(const LatencyHistogram& other);
  void Reset();

  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  double mean() const { return count_ ? static_cast<double>(sum_) / count_ : 0.0; }
  // The value at quantile q in [0, 1]: the midpoint of the bucket holding the
  // ceil(q * count)-th smallest value, clamped to [min, max]; 0 when empty.
  uint64_t Quantile(double q) const;

 private:
  size_t Index(uint64_t v) const;
  // Lowest value and width of bucket `i`.
  uint64_t BucketLow(size_t i) const;
  uint64_t BucketWidth(size_t i) const;

  int sub_bits_;
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace hotpath::loadgen

#endif  // HOTPATH_SERVE_LOADGEN_LATENCY_HISTOGRAM_H_
