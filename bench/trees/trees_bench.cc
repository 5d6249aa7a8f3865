// bench/trees: hotpath's tree engine against XGBoost's fastest C API path
// (in-place prediction from a dense array), one thread each, same model and
// rows, in one run. Prints progress to stderr and one JSON object last.
//
//   scripts/bench trees [--trees 500] [--depth 6] [--repeats 5]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "runtime/tree/testing/xgboost_trainer.h"
#include "runtime/tree/tree_model.h"

namespace {

using Clock = std::chrono::steady_clock;
using hotpath::OutputKind;
using hotpath::testing::Dataset;
using hotpath::testing::XGBoostBooster;

constexpr int kFeatures = 32;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
}

double Median(std::vector<double> v) { return Percentile(std::move(v), 0.5); }

Dataset Synthetic(size_t rows, std::mt19937_64* rng) {
  Dataset d;
  d.rows = rows;
  d.cols = kFeatures;
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (size_t i = 0; i < rows * kFeatures; ++i) d.x.push_back(n(*rng));
  for (size_t r = 0; r < rows; ++r) {
    const float* x = &d.x[r * kFeatures];
    float s = 0;
    for (int f = 0; f < kFeatures; ++f) s += std::sin(x[f] * (1 + f % 5)) * (f % 3 == 0 ? 1.0f : 0.3f);
    s += x[0] * x[1] - x[2] * x[3] + n(*rng);
    d.label.push_back(s > 0 ? 1.0f : 0.0f);
  }
  return d;
}

// Latencies in microseconds of single-row calls over `rows` distinct rows.
template <typename Fn>
std::vector<double> Batch1Latencies(const std::vector<float>& x, size_t rows, Fn&& fn) {
  std::vector<double> us;
  us.reserve(rows);
  for (size_t r = 0; r < rows; ++r) {
    const auto t0 = Clock::now();
    fn(&x[r * kFeatures]);
    us.push_back(Seconds(Clock::now() - t0) * 1e6);
  }
  return us;
}

// Rows per second over `total` rows scored in batches of `batch`.
template <typename Fn>
double Throughput(const std::vector<float>& x, size_t total, size_t batch, Fn&& fn) {
  const auto t0 = Clock::now();
  for (size_t r = 0; r + batch <= total; r += batch) fn(&x[r * kFeatures], batch);
  return static_cast<double>(total / batch * batch) / Seconds(Clock::now() - t0);
}

// Dependent-load latency (ns per load) of a random cyclic walk over `bytes`.
double DependentLoadNs(size_t bytes, std::mt19937_64* rng) {
  const size_t n = std::max<size_t>(bytes / 64, 16);
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), *rng);
  std::vector<size_t> next(n * 8);  // one pointer per 64-byte line
  for (size_t i = 0; i < n; ++i) next[order[i] * 8] = order[(i + 1) % n] * 8;
  size_t p = 0;
  const size_t steps = 20'000'000;
  for (size_t i = 0; i < n; ++i) p = next[p];  // warm
  const auto t0 = Clock::now();
  for (size_t i = 0; i < steps; ++i) p = next[p];
  const double ns = Seconds(Clock::now() - t0) * 1e9 / steps;
  if (p == 1) std::fprintf(stderr, " ");  // keep the walk alive
  return ns;
}

int Arg(int argc, char** argv, const char* name, int def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::atoi(argv[i + 1]);
  }
  return def;
}

}  // namespace

int main(int argc, char** argv) {
  const int trees = Arg(argc, argv, "--trees", 500);
  const int depth = Arg(argc, argv, "--depth", 6);
  const int repeats = Arg(argc, argv, "--repeats", 5);
  std::mt19937_64 rng(42);
  std::fprintf(stderr, "trees: training %d trees of depth %d on 20000 rows x %d features (XGBoost C API)...\n",
               trees, depth, kFeatures);
  Dataset train = Synthetic(20000, &rng);
  auto booster = XGBoostBooster::Train(train, {{"objective", "binary:logistic"}, {"max_depth", std::to_string(depth)},
                                               {"tree_method", "hist"}, {"eta", "0.1"}}, trees);
  if (!booster.ok()) {
    std::fprintf(stderr, "%s\n", booster.status().ToString().c_str());
    return 1;
  }
  const std::string path = (std::filesystem::temp_directory_path() / "hotpath_bench_trees.json").string();
  if (!booster->Save(path).ok()) return 1;
  auto model = hotpath::TreeModel::Load(path, {});
  std::filesystem::remove(path);
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().ToString().c_str());
    return 1;
  }
  const hotpath::TreeModel& m = **model;

  const size_t rows = 16384;
  Dataset test = Synthetic(rows, &rng);
  const std::vector<float>& x = test.x;
  std::vector<float> ours(rows);
  if (!m.Predict(x.data(), rows, OutputKind::kValue, ours.data()).ok()) return 1;
  size_t n = 0;
  auto theirs = booster->InplacePredict(x.data(), rows, kFeatures, XGBoostBooster::Kind::kValue, &n);
  if (!theirs.ok() || n != rows) return 1;
  double max_abs_diff = 0;
  for (size_t i = 0; i < rows; ++i) max_abs_diff = std::max<double>(max_abs_diff, std::fabs(ours[i] - (*theirs)[i]));

  float out[1024];
  auto hp1 = [&](const float* row) { (void)m.Predict(row, 1, OutputKind::kValue, out); };
  auto xg1 = [&](const float* row) {
    size_t k;
    (void)booster->InplacePredict(row, 1, kFeatures, XGBoostBooster::Kind::kValue, &k);
  };
  auto hpb = [&](const float* b, size_t k) { (void)m.Predict(b, k, OutputKind::kValue, out); };
  auto xgb = [&](const float* b, size_t k) {
    size_t z;
    (void)booster->InplacePredict(b, k, kFeatures, XGBoostBooster::Kind::kValue, &z);
  };

  std::vector<double> hp_p50, hp_p99, xg_p50, xg_p99, hp_rps, xg_rps;
  for (int rep = 0; rep < repeats; ++rep) {
    auto h = Batch1Latencies(x, 4000, hp1);
    auto g = Batch1Latencies(x, 4000, xg1);
    hp_p50.push_back(Percentile(h, 0.5));
    hp_p99.push_back(Percentile(h, 0.99));
    xg_p50.push_back(Percentile(g, 0.5));
    xg_p99.push_back(Percentile(g, 0.99));
    hp_rps.push_back(Throughput(x, rows, 1024, hpb));
    xg_rps.push_back(Throughput(x, rows, 1024, xgb));
    std::fprintf(stderr,
                 "trees: repeat %d/%d  batch1 p50 hotpath %.2f us xgboost %.2f us | batch1024 hotpath %.0f rows/s xgboost %.0f rows/s\n",
                 rep + 1, repeats, hp_p50.back(), xg_p50.back(), hp_rps.back(), xg_rps.back());
  }
  const double nodes_per_row = static_cast<double>(m.num_trees()) * depth;
  const double ns_per_node = 1e9 / Median(hp_rps) / nodes_per_row;
  const double dep_l1 = DependentLoadNs(16 * 1024, &rng);
  const double dep_model = DependentLoadNs(m.MemoryBytes(), &rng);
  std::printf(
      "{\"bench\": \"trees\", \"trees\": %zu, \"depth\": %d, \"features\": %d, \"threads\": 1, "
      "\"repeats\": %d, \"ratio_batch1\": %.2f, \"ratio_batch1024\": %.2f, \"max_abs_diff\": %.3g, "
      "\"hotpath_batch1_p50_us\": %.3f, \"hotpath_batch1_p99_us\": %.3f, "
      "\"xgboost_batch1_p50_us\": %.3f, \"xgboost_batch1_p99_us\": %.3f, "
      "\"hotpath_batch1024_rows_per_s\": %.0f, \"xgboost_batch1024_rows_per_s\": %.0f, "
      "\"ns_per_node\": %.3f, \"dependent_load_ns_l1\": %.3f, \"dependent_load_ns_model_size\": %.3f, "
      "\"model_bytes\": %zu}\n",
      m.num_trees(), depth, kFeatures, repeats, Median(xg_p50) / Median(hp_p50),
      Median(hp_rps) / Median(xg_rps), max_abs_diff, Median(hp_p50), Median(hp_p99), Median(xg_p50),
      Median(xg_p99), Median(hp_rps), Median(xg_rps), ns_per_node, dep_l1, dep_model, m.MemoryBytes());
  return 0;
}
