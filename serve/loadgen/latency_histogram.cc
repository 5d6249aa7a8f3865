#include "serve/loadgen/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace hotpath::loadgen {

LatencyHistogram::LatencyHistogram(int sub_bits)
    : sub_bits_(sub_bits), counts_(static_cast<size_t>(64 - sub_bits + 1) << sub_bits) {}

// Values below 2^B map to themselves; a value with top bit e >= B maps to
// group e - B + 1 and, within it, to its B bits after the top one.
size_t LatencyHistogram::Index(uint64_t v) const {
  const uint64_t linear = uint64_t{1} << sub_bits_;
  if (v < linear) {
    return static_cast<size_t>(v);
  }
  const int e = 63 - __builtin_clzll(v);
  const int shift = e - sub_bits_;
  return (static_cast<size_t>(shift + 1) << sub_bits_) + static_cast<size_t>((v >> shift) - linear);
}

uint64_t LatencyHistogram::BucketLow(size_t i) const {
  const size_t group = i >> sub_bits_;
  const uint64_t sub = i & ((size_t{1} << sub_bits_) - 1);
  if (group == 0) {
    return sub;
  }
  return ((uint64_t{1} << sub_bits_) + sub) << (group - 1);
}

uint64_t LatencyHistogram::BucketWidth(size_t i) const {
  const size_t group = i >> sub_bits_;
  return group == 0 ? 1 : uint64_t{1} << (group - 1);
}

void LatencyHistogram::Record(uint64_t ns) {
  ++counts_[Index(ns)];
  ++count_;
  sum_ += ns;
  min_ = std::min(min_, ns);
  max_ = std::max(max_, ns);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) {
    counts_[i] += other.counts_[i];
  }
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void LatencyHistogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = sum_ = max_ = 0;
  min_ = UINT64_MAX;
}

uint64_t LatencyHistogram::Quantile(double q) const {
  if (count_ == 0) {
    return 0;
  }
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * count_)));
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const uint64_t mid = BucketLow(i) + BucketWidth(i) / 2;
      return std::clamp(mid, min(), max_);
    }
  }
  return max_;
}

}  // namespace hotpath::loadgen
