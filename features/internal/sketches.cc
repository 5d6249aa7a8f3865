#include "features/internal/sketches.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace hotpath::features::internal {

uint64_t HashBytes(std::string_view bytes) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ULL;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  return h ^ (h >> 33);
}

void HyperLogLog::Add(uint64_t hash) {
  uint32_t reg = static_cast<uint32_t>(hash >> (64 - precision_));
  uint64_t rest = (hash << precision_) | (uint64_t{1} << (precision_ - 1));
  SetMax(reg, static_cast<uint8_t>(std::countl_zero(rest) + 1));
}

void HyperLogLog::SetMax(uint32_t reg, uint8_t rank) {
  if (!dense_.empty()) {
    dense_[reg] = std::max(dense_[reg], rank);
    return;
  }
  auto it = std::lower_bound(sparse_.begin(), sparse_.end(), reg << 8);
  if (it != sparse_.end() && (*it >> 8) == reg) {
    if ((*it & 0xff) < rank) *it = (reg << 8) | rank;
    return;
  }
  sparse_.insert(it, (reg << 8) | rank);
  if (sparse_.size() * 4 >= (std::size_t{1} << precision_)) {
    dense_.assign(std::size_t{1} << precision_, 0);
    for (uint32_t e : sparse_) dense_[e >> 8] = static_cast<uint8_t>(e & 0xff);
    std::vector<uint32_t>().swap(sparse_);
  }
}

void HyperLogLog::Merge(const HyperLogLog& other) {
  if (!other.dense_.empty()) {
    if (dense_.empty()) {
      dense_.assign(other.dense_.size(), 0);
      for (uint32_t e : sparse_) dense_[e >> 8] = static_cast<uint8_t>(e & 0xff);
      std::vector<uint32_t>().swap(sparse_);
    }
    for (std::size_t i = 0; i < dense_.size(); ++i)
      dense_[i] = std::max(dense_[i], other.dense_[i]);
    return;
  }
  for (uint32_t e : other.sparse_) SetMax(e >> 8, static_cast<uint8_t>(e & 0xff));
}

double HyperLogLog::Estimate() const {
  const double m = static_cast<double>(std::size_t{1} << precision_);
  double sum = 0;
  int zeros = 0;
  if (dense_.empty()) {
    zeros = static_cast<int>(m) - static_cast<int>(sparse_.size());
    sum = zeros;
    for (uint32_t e : sparse_) sum += std::ldexp(1.0, -static_cast<int>(e & 0xff));
  } else {
    for (uint8_t r : dense_) {
      sum += std::ldexp(1.0, -r);
      zeros += r == 0;
    }
  }
  const double alpha = 0.7213 / (1 + 1.079 / m);
  double e = alpha * m * m / sum;
  if (e <= 2.5 * m && zeros > 0) e = m * std::log(m / zeros);
  return e;
}

void HyperLogLog::Encode(ByteWriter& w) const {
  w.Put<uint8_t>(static_cast<uint8_t>(precision_));
  w.Put<uint8_t>(dense_.empty() ? 0 : 1);
  if (dense_.empty()) {
    w.Put<uint32_t>(static_cast<uint32_t>(sparse_.size()));
    for (uint32_t e : sparse_) w.Put(e);
  } else {
    for (uint8_t r : dense_) w.Put(r);
  }
}

bool HyperLogLog::Decode(ByteReader& r) {
  if (r.Get<uint8_t>() != precision_) return false;
  const uint32_t m = 1u << precision_;
  if (r.Get<uint8_t>() == 0) {
    uint32_t n = r.Get<uint32_t>();
    if (!r.CountFits(n, 4) || n > m) return false;
    sparse_.resize(n);
    for (uint32_t& e : sparse_) e = r.Get<uint32_t>();
    return r.ok() && std::is_sorted(sparse_.begin(), sparse_.end()) &&
           std::all_of(sparse_.begin(), sparse_.end(), [m](uint32_t e) { return (e >> 8) < m; });
  }
  if (!r.CountFits(m, 1)) return false;
  dense_.resize(m);
  for (uint8_t& x : dense_) x = r.Get<uint8_t>();
  return r.ok();
}

DDSketch::DDSketch(double relative_error)
    : relative_error_(relative_error),
      gamma_((1 + relative_error) / (1 - relative_error)),
      log_gamma_(std::log(gamma_)) {}

int32_t DDSketch::Key(double magnitude) const {
  return static_cast<int32_t>(std::ceil(std::log(magnitude) / log_gamma_));
}

double DDSketch::Value(int32_t key) const { return 2 * std::pow(gamma_, key) / (gamma_ + 1); }

void DDSketch::AddToBins(Bins& bins, int32_t key, uint32_t n) {
  auto it = std::lower_bound(bins.begin(), bins.end(), std::make_pair(key, uint32_t{0}));
  if (it != bins.end() && it->first == key) {
    it->second += n;
  } else {
    bins.insert(it, {key, n});
  }
}

void DDSketch::Add(double x) {
  ++count_;
  double m = std::fabs(x);
  if (!(m >= 1e-9)) {
    ++zeros_;
  } else {
    AddToBins(x > 0 ? pos_ : neg_, Key(std::min(m, 1e300)), 1);
  }
}

void DDSketch::Merge(const DDSketch& other) {
  count_ += other.count_;
  zeros_ += other.zeros_;
  for (const auto& [k, n] : other.pos_) AddToBins(pos_, k, n);
  for (const auto& [k, n] : other.neg_) AddToBins(neg_, k, n);
}

double DDSketch::Quantile(double q) const {
  uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(count_ - 1));
  uint64_t seen = 0;
  for (auto it = neg_.rbegin(); it != neg_.rend(); ++it) {
    seen += it->second;
    if (seen > rank) return -Value(it->first);
  }
  seen += zeros_;
  if (seen > rank) return 0;
  for (const auto& [k, n] : pos_) {
    seen += n;
    if (seen > rank) return Value(k);
  }
  return pos_.empty() ? 0 : Value(pos_.back().first);
}

void DDSketch::Encode(ByteWriter& w) const {
  w.Put(relative_error_);
  w.Put(count_);
  w.Put(zeros_);
  for (const Bins* bins : {&pos_, &neg_}) {
    w.Put<uint32_t>(static_cast<uint32_t>(bins->size()));
    for (const auto& [k, n] : *bins) {
      w.Put(k);
      w.Put(n);
    }
  }
}

bool DDSketch::Decode(ByteReader& r) {
  if (r.Get<double>() != relative_error_) return false;
  *this = DDSketch(relative_error_);
  count_ = r.Get<uint64_t>();
  zeros_ = r.Get<uint64_t>();
  uint64_t total = zeros_;
  for (Bins* bins : {&pos_, &neg_}) {
    uint32_t n = r.Get<uint32_t>();
    if (!r.CountFits(n, 8)) return false;
    bins->resize(n);
    for (auto& [k, c] : *bins) {
      k = r.Get<int32_t>();
      c = r.Get<uint32_t>();
      total += c;
    }
    if (!std::is_sorted(bins->begin(), bins->end())) return false;
  }
  return r.ok() && total == count_;
}

void LastN::Add(int64_t ts_ms, double value) {
  if (static_cast<int>(items_.size()) < n_) {
    items_.emplace_back(ts_ms, value);
    return;
  }
  auto oldest = std::min_element(items_.begin(), items_.end(),
                                 [](const auto& a, const auto& b) { return a.first < b.first; });
  if (ts_ms >= oldest->first) *oldest = {ts_ms, value};
}

void LastN::Merge(const LastN& other) {
  for (const auto& [ts, v] : other.items_) Add(ts, v);
}

std::vector<double> LastN::Values() const {
  std::vector<std::pair<int64_t, double>> sorted = items_;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<double> out;
  out.reserve(sorted.size());
  for (const auto& item : sorted) out.push_back(item.second);
  return out;
}

void LastN::Encode(ByteWriter& w) const {
  w.Put<uint32_t>(static_cast<uint32_t>(n_));
  w.Put<uint32_t>(static_cast<uint32_t>(items_.size()));
  for (const auto& [ts, v] : items_) {
    w.Put(ts);
    w.Put(v);
  }
}

bool LastN::Decode(ByteReader& r) {
  if (r.Get<uint32_t>() != static_cast<uint32_t>(n_)) return false;
  uint32_t size = r.Get<uint32_t>();
  if (size > static_cast<uint32_t>(n_) || !r.CountFits(size, 16)) return false;
  items_.resize(size);
  for (auto& [ts, v] : items_) {
    ts = r.Get<int64_t>();
    v = r.Get<double>();
  }
  return r.ok();
}

}  // namespace hotpath::features::internal
