// Mergeable per-bucket sketches: HyperLogLog (distinct counts), DDSketch
// (quantiles with a relative-error guarantee) and LastN (the newest values).
// Each is a value type; a window's answer is the merge of its buckets'
// sketches. Not thread-safe: owners serialize access.
#ifndef HOTPATH_FEATURES_INTERNAL_SKETCHES_H_
#define HOTPATH_FEATURES_INTERNAL_SKETCHES_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "features/internal/codec.h"

namespace hotpath::features::internal {

// 64-bit mix of a byte string (FNV-1a folded through a murmur finalizer).
uint64_t HashBytes(std::string_view bytes);

// HyperLogLog with 2^precision registers. Standard error 1.04/sqrt(2^p):
// 1.6% at p = 12. Starts sparse (4 bytes per touched register) and turns
// dense (2^p bytes) once that is smaller.
class HyperLogLog {
 public:
  explicit HyperLogLog(int precision = 12) : precision_(precision) {}
  void Add(uint64_t hash);
  // REQUIRES: other has the same precision.
  void Merge(const HyperLogLog& other);
  // Estimated number of distinct hashes added.
  double Estimate() const;
  std::size_t MemoryBytes() const { return sparse_.capacity() * 4 + dense_.capacity(); }
  void Encode(ByteWriter& w) const;
  // False when the input is corrupt or was encoded with other parameters.
  bool Decode(ByteReader& r);

 private:
  void SetMax(uint32_t reg, uint8_t rank);

  int precision_;
  std::vector<uint32_t> sparse_;  // sorted (register << 8 | rank), one per register
  std::vector<uint8_t> dense_;    // empty while sparse
};

// DDSketch: every quantile answer is within `relative_error` of the true
// value at rank floor(q * (n - 1)). Values with |x| < 1e-9 count as zero.
class DDSketch {
 public:
  explicit DDSketch(double relative_error = 0.01);
  void Add(double x);
  void Merge(const DDSketch& other);
  uint64_t count() const { return count_; }
  // REQUIRES: count() > 0 and 0 <= q <= 1.
  double Quantile(double q) const;
  std::size_t MemoryBytes() const { return (pos_.capacity() + neg_.capacity()) * 8; }
  void Encode(ByteWriter& w) const;
  bool Decode(ByteReader& r);

 private:
  using Bins = std::vector<std::pair<int32_t, uint32_t>>;  // sorted by key
  static void AddToBins(Bins& bins, int32_t key, uint32_t n);
  int32_t Key(double magnitude) const;
  double Value(int32_t key) const;

  double relative_error_;
  double gamma_;
  double log_gamma_;
  uint64_t count_ = 0;
  uint64_t zeros_ = 0;
  Bins pos_;
  Bins neg_;  // keyed by |x|
};

// The `n` values with the greatest timestamps (order among equal timestamps
// at the boundary is unspecified).
class LastN {
 public:
  explicit LastN(int n = 1) : n_(n) {}
  void Add(int64_t ts_ms, double value);
  void Merge(const LastN& other);
  // Values newest first.
  std::vector<double> Values() const;
  std::size_t MemoryBytes() const { return items_.capacity() * 16; }
  void Encode(ByteWriter& w) const;
  bool Decode(ByteReader& r);

 private:
  int n_;
  std::vector<std::pair<int64_t, double>> items_;  // unordered, at most n_
};

}  // namespace hotpath::features::internal

#endif  // HOTPATH_FEATURES_INTERNAL_SKETCHES_H_
