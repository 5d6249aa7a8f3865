// bench/dense: hotpath's dense engine (fp32 and int8) against LibTorch
// (torch::nn::Linear layers under InferenceMode), one thread each
// (torch::set_num_threads(1)), same weights and rows, in one run; plus the
// achieved GFLOP/s against this core's measured FMA peak, and the AUC lost by
// int8 on held-out rows labelled by a teacher network. At batch 1 the fp32
// network is a chain of matrix-vector products bound by reading its weights:
// beside the latencies it reports this core's measured read bandwidth for a
// buffer of the weights' size, the bandwidth the batch-1 path achieves, and
// the best batch-1 time and ratio that bandwidth allows.
//
//   scripts/bench dense [--quick]
#include <dlfcn.h>
#include <immintrin.h>
#include <time.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "optimize/metrics.h"
#include "optimize/transforms.h"
#include "runtime/dense/dense_model.h"

namespace {

using Clock = std::chrono::steady_clock;
using hotpath::OutputKind;
using hotpath::dense::DenseModel;
using hotpath::dense::Graph;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// CPU seconds of the whole process (all its threads). The benchmark machine is
// shared, so throughput and the FMA peak are measured in CPU time: time the
// process spends descheduled does not count, for hotpath and the peer alike.
double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
}

// Single-core AVX-512 fp32 FMA throughput: 24 independent vfmadd231ps chains
// in assembly (zero operands, so no denormal or NaN slow paths).
__attribute__((target("avx512f"))) double FmaPeakGflops() {
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    long iters = 5'000'000;
    const double t0 = CpuSeconds();
    __asm__ volatile(
        "vpxord %%zmm30, %%zmm30, %%zmm30\n\t"
        "vpxord %%zmm31, %%zmm31, %%zmm31\n\t"
        "1:\n\t"
#define HOTPATH_FMA(i) "vfmadd231ps %%zmm30, %%zmm31, %%zmm" #i "\n\t"
        HOTPATH_FMA(0) HOTPATH_FMA(1) HOTPATH_FMA(2) HOTPATH_FMA(3) HOTPATH_FMA(4) HOTPATH_FMA(5)
            HOTPATH_FMA(6) HOTPATH_FMA(7) HOTPATH_FMA(8) HOTPATH_FMA(9) HOTPATH_FMA(10)
                HOTPATH_FMA(11) HOTPATH_FMA(12) HOTPATH_FMA(13) HOTPATH_FMA(14) HOTPATH_FMA(15)
                    HOTPATH_FMA(16) HOTPATH_FMA(17) HOTPATH_FMA(18) HOTPATH_FMA(19) HOTPATH_FMA(20)
                        HOTPATH_FMA(21) HOTPATH_FMA(22) HOTPATH_FMA(23)
#undef HOTPATH_FMA
                            "dec %0\n\t"
                            "jnz 1b\n\t"
        : "+r"(iters)
        :
        : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
          "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20",
          "xmm21", "xmm22", "xmm23", "xmm30", "xmm31", "cc");
    best = std::max(best, 24.0 * 16 * 2 * 5'000'000 / (CpuSeconds() - t0) / 1e9);
  }
  return best;
}

// Single-core read bandwidth (GB/s) of a warm buffer of `bytes`: an
// AVX-512 sum with 8 independent accumulators, the median of 300 passes
// (wall-clock, as the batch-1 latencies are).
__attribute__((target("avx512f"), noinline)) double ReadBandwidthGbps(size_t bytes) {
  const size_t floats = (bytes + 511) / 512 * 128;
  auto* buf = static_cast<float*>(std::aligned_alloc(64, floats * sizeof(float)));
  for (size_t i = 0; i < floats; ++i) buf[i] = static_cast<float>(i % 7);
  std::vector<double> seconds;
  volatile float sink = 0;
  for (int rep = 0; rep < 300; ++rep) {
    const auto t0 = Clock::now();
    __m512 acc[8];
    for (__m512& a : acc) a = _mm512_setzero_ps();
    for (size_t i = 0; i < floats; i += 128) {
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) acc[j] = _mm512_add_ps(acc[j], _mm512_load_ps(buf + i + 16 * j));
    }
#pragma GCC unroll 8
    for (int j = 1; j < 8; ++j) acc[0] = _mm512_add_ps(acc[0], acc[j]);
    float lanes[16];
    _mm512_storeu_ps(lanes, acc[0]);
    sink = lanes[0];
    seconds.push_back(Seconds(Clock::now() - t0));
  }
  (void)sink;
  std::free(buf);
  return floats * sizeof(float) / Percentile(seconds, 0.5) / 1e9;
}

struct Net {
  std::vector<int64_t> widths;
  std::vector<std::vector<float>> w, b;  // w[l]: [in, out] row-major
};

Graph ToGraph(const Net& net) {
  Graph g;
  g.widths = {net.widths[0]};
  for (size_t l = 0; l + 1 < net.widths.size(); ++l) {
    hotpath::dense::Node n;
    n.inputs = {static_cast<int>(l)};
    n.output = static_cast<int>(l) + 1;
    n.weights = net.w[l];
    n.bias = net.b[l];
    n.act.kind = l + 2 < net.widths.size() ? hotpath::dense::Activation::kRelu
                                           : hotpath::dense::Activation::kSigmoid;
    g.widths.push_back(net.widths[l + 1]);
    g.nodes.push_back(std::move(n));
  }
  g.output = static_cast<int>(net.widths.size()) - 1;
  return g;
}

std::vector<float> Predict(const DenseModel& m, const std::vector<float>& x, size_t rows) {
  std::vector<float> y(rows);
  for (size_t r = 0; r < rows; r += 1024) {
    const size_t n = std::min<size_t>(1024, rows - r);
    m.Predict(&x[r * m.num_features()], n, OutputKind::kValue, &y[r]).IgnoreError();
  }
  return y;
}

// A random fan-in-scaled ReLU MLP whose logits have standard deviation 2
// (so the teacher's probabilities spread over (0, 1)).
Net MakeNet(const std::vector<int64_t>& widths, std::mt19937_64* rng,
            const std::vector<float>& probe) {
  Net net{widths, {}, {}};
  std::normal_distribution<float> d(0.0f, 1.0f);
  for (size_t l = 0; l + 1 < widths.size(); ++l) {
    std::vector<float> w(widths[l] * widths[l + 1]), b(widths[l + 1]);
    for (float& v : w) v = d(*rng) * std::sqrt(2.0f / widths[l]);
    for (float& v : b) v = 0.05f * d(*rng);
    net.w.push_back(std::move(w));
    net.b.push_back(std::move(b));
  }
  Graph g = ToGraph(net);
  g.nodes.back().act.kind = hotpath::dense::Activation::kNone;
  auto m = DenseModel::Create(g, {});
  const size_t rows = probe.size() / widths[0];
  const std::vector<float> logit = Predict(**m, probe, rows);
  double mean = 0, var = 0;
  for (float v : logit) mean += v / rows;
  for (float v : logit) var += (v - mean) * (v - mean) / rows;
  const float s = 2.0f / static_cast<float>(std::sqrt(var));
  for (float& v : net.w.back()) v *= s;
  net.b.back()[0] = static_cast<float>(-mean * s);
  return net;
}

// Bytes of fp32 weights one batch-1 row reads: every layer's packed W
// (k × n rounded up to 16-column panels), and the part of it the GEMV reads
// when it skips the rows of zero inputs, averaged over `rows` rows of `x`
// pushed through the network here (float, ReLU hidden layers).
struct Batch1Bytes {
  double dense = 0, read = 0;
};

Batch1Bytes WeightBytesPerRow(const Net& net, const std::vector<float>& x, size_t rows) {
  Batch1Bytes out;
  for (size_t r = 0; r < rows; ++r) {
    std::vector<float> a(x.begin() + r * net.widths[0], x.begin() + (r + 1) * net.widths[0]);
    for (size_t l = 0; l + 1 < net.widths.size(); ++l) {
      const int64_t k = net.widths[l], n = net.widths[l + 1];
      const double row_bytes = (n + 15) / 16 * 16 * sizeof(float);
      out.dense += k * row_bytes / rows;
      out.read +=
          std::count_if(a.begin(), a.end(), [](float v) { return v != 0; }) * row_bytes / rows;
      std::vector<float> next(net.b[l]);
      for (int64_t i = 0; i < k; ++i) {
        for (int64_t j = 0; j < n; ++j) next[j] += a[i] * net.w[l][i * n + j];
      }
      for (float& v : next) v = std::max(v, 0.0f);
      a = std::move(next);
    }
  }
  return out;
}

torch::nn::Sequential ToTorch(const Net& net) {
  torch::nn::Sequential seq;
  for (size_t l = 0; l + 1 < net.widths.size(); ++l) {
    torch::nn::Linear lin(net.widths[l], net.widths[l + 1]);
    torch::NoGradGuard ng;
    const auto w =
        torch::from_blob(const_cast<float*>(net.w[l].data()), {net.widths[l], net.widths[l + 1]});
    lin->weight.copy_(w.t());
    lin->bias.copy_(torch::from_blob(const_cast<float*>(net.b[l].data()), {net.widths[l + 1]}));
    seq->push_back(lin);
    if (l + 2 < net.widths.size()) {
      seq->push_back(torch::nn::ReLU());
    } else {
      seq->push_back(torch::nn::Sigmoid());
    }
  }
  seq->eval();
  return seq;
}

struct Figures {
  double p50 = 0, p99 = 0, rows_per_s = 0;
};

template <typename Fn>
Figures Time(const std::vector<float>& x, int64_t f, size_t single_calls, size_t batch_calls,
             Fn&& fn) {
  Figures out;
  for (size_t r = 0; r < 50; ++r) fn(&x[r * f], 1);
  std::vector<double> us;
  for (size_t r = 0; r < single_calls; ++r) {
    const auto t0 = Clock::now();
    fn(&x[(r % 4096) * f], 1);
    us.push_back(Seconds(Clock::now() - t0) * 1e6);
  }
  out.p50 = Percentile(us, 0.5);
  out.p99 = Percentile(us, 0.99);
  fn(x.data(), 1024);
  std::vector<double> rates;
  for (int rep = 0; rep < 5; ++rep) {
    const double t0 = CpuSeconds();
    for (size_t c = 0; c < batch_calls; ++c) fn(&x[(c % 4) * 1024 * f], 1024);
    rates.push_back(1024.0 * batch_calls / (CpuSeconds() - t0));
  }
  out.rows_per_s = Percentile(rates, 0.5);
  return out;
}

std::string Json(const std::string& prefix, const char* key, double v) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "\"%s%s\":%.6g", prefix.c_str(), key, v);
  return buf;
}

// Everything measured for one network.
struct Measured {
  Figures fp32, int8, torch;
  double auc_fp32 = 0, auc_int8 = 0, max_abs_diff = 0, gflops = 0;
  Batch1Bytes bytes;
  double read_gbps = 0;  // measured for a buffer of bytes.dense
};

// AUC of the fp32 teacher and the int8 student on rows labelled by the
// teacher's own probabilities.
void HeldOutAuc(const DenseModel& fp32, const DenseModel& int8, size_t rows, std::mt19937_64* rng,
                Measured* m) {
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> x(rows * fp32.num_features());
  for (float& v : x) v = d(*rng);
  const std::vector<float> teacher = Predict(fp32, x, rows);
  const std::vector<float> student = Predict(int8, x, rows);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> labels(rows);
  for (size_t i = 0; i < rows; ++i) labels[i] = u(*rng) < teacher[i] ? 1.0f : 0.0f;
  m->auc_fp32 = hotpath::optimize::Auc(teacher, labels);
  m->auc_int8 = hotpath::optimize::Auc(student, labels);
  m->max_abs_diff = hotpath::optimize::MaxAbsDiff(teacher, student);
}

Measured TimeEngines(const std::string& label, const Net& net, const std::vector<float>& x,
                     bool quick) {
  const Graph g = ToGraph(net);
  const int64_t f = net.widths[0], macs = hotpath::dense::GraphMacsPerRow(g);
  auto fp32 = DenseModel::Create(g, {});
  auto int8 = DenseModel::Create(*hotpath::optimize::QuantizeInt8(g, {}), {});
  torch::nn::Sequential peer = ToTorch(net);
  const size_t singles = quick ? 300 : (macs > 1'000'000 ? 2000 : 20000);
  const size_t batches = std::max<size_t>(3, (quick ? 2e8 : 2e9) / (macs * 1024.0));
  std::vector<float> y(1024);
  Measured m;
  std::fprintf(stderr, "[%s] %lld MACs/row; timing hotpath fp32 and int8 (%s)\n", label.c_str(),
               static_cast<long long>(macs), std::string(IsaName((*fp32)->isa())).c_str());
  m.fp32 = Time(x, f, singles, batches, [&](const float* p, size_t n) {
    (*fp32)->Predict(p, n, OutputKind::kValue, y.data()).IgnoreError();
  });
  m.int8 = Time(x, f, singles, batches, [&](const float* p, size_t n) {
    (*int8)->Predict(p, n, OutputKind::kValue, y.data()).IgnoreError();
  });
  std::fprintf(stderr, "[%s] timing LibTorch\n", label.c_str());
  c10::InferenceMode guard;
  m.torch = Time(x, f, singles, batches, [&](const float* p, size_t n) {
    at::Tensor out =
        peer->forward(torch::from_blob(const_cast<float*>(p), {static_cast<int64_t>(n), f}));
    std::memcpy(y.data(), out.data_ptr<float>(), n * sizeof(float));
  });
  m.gflops = m.fp32.rows_per_s * 2.0 * macs / 1e9;
  m.bytes = WeightBytesPerRow(net, x, 256);
  m.read_gbps = ReadBandwidthGbps(static_cast<size_t>(m.bytes.dense));
  std::mt19937_64 rng(7);
  HeldOutAuc(**fp32, **int8, quick ? 4000 : 20000, &rng, &m);
  return m;
}

std::string ToJson(const std::string& prefix, const Measured& m, double peak) {
  const std::pair<const char*, double> fields[] = {
      {"ratio_batch1", m.torch.p50 / m.fp32.p50},
      {"ratio_batch1024", m.fp32.rows_per_s / m.torch.rows_per_s},
      {"int8_speedup", m.int8.rows_per_s / m.fp32.rows_per_s},
      {"auc_loss", m.auc_fp32 - m.auc_int8},
      {"fma_peak_fraction", m.gflops / peak},
      {"hotpath_batch1_p50_us", m.fp32.p50},
      {"hotpath_batch1_p99_us", m.fp32.p99},
      {"int8_batch1_p50_us", m.int8.p50},
      {"int8_batch1_p99_us", m.int8.p99},
      {"torch_batch1_p50_us", m.torch.p50},
      {"torch_batch1_p99_us", m.torch.p99},
      {"hotpath_rows_per_s", m.fp32.rows_per_s},
      {"int8_rows_per_s", m.int8.rows_per_s},
      {"torch_rows_per_s", m.torch.rows_per_s},
      {"fp32_gflops", m.gflops},
      {"int8_batch1_speedup", m.fp32.p50 / m.int8.p50},
      {"read_bandwidth_gbps", m.read_gbps},
      {"batch1_weight_mb", m.bytes.dense / 1e6},
      {"batch1_read_mb", m.bytes.read / 1e6},
      {"batch1_weight_gbps", m.bytes.read / m.fp32.p50 / 1e3},
      {"batch1_bandwidth_fraction", m.bytes.read / m.fp32.p50 / 1e3 / m.read_gbps},
      {"batch1_dense_floor_us", m.bytes.dense / m.read_gbps / 1e3},
      {"ratio_batch1_dense_floor", m.torch.p50 / (m.bytes.dense / m.read_gbps / 1e3)},
      {"batch1_floor_us", m.bytes.read / m.read_gbps / 1e3},
      {"ratio_batch1_floor", m.torch.p50 / (m.bytes.read / m.read_gbps / 1e3)}};
  std::string j;
  for (const auto& [key, value] : fields) j += (j.empty() ? "" : ",") + Json(prefix, key, value);
  return j;
}

std::string RunModel(const std::string& label, const std::string& prefix,
                     const std::vector<int64_t>& widths, double peak, bool quick) {
  std::mt19937_64 rng(42);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> x(4096 * widths[0]);
  for (float& v : x) v = d(rng);
  const Measured m = TimeEngines(label, MakeNet(widths, &rng, x), x, quick);
  std::fprintf(stderr,
               "[%s] batch-1 p50/p99 us: hotpath %.2f/%.2f int8 %.2f/%.2f torch %.2f/%.2f\n"
               "[%s] batch-1024 rows/s: hotpath %.0f int8 %.0f torch %.0f; fp32 %.1f GFLOP/s "
               "(%.0f%% of %.1f peak); AUC fp32 %.5f int8 %.5f; max|diff| %.4g\n"
               "[%s] batch 1 fp32: %.2f of %.2f MB of weights read (zero inputs skip their rows), "
               "%.1f GB/s = %.0f%% of the measured %.1f GB/s read bandwidth; floor %.2f us "
               "(every weight: %.2f us)\n",
               label.c_str(), m.fp32.p50, m.fp32.p99, m.int8.p50, m.int8.p99, m.torch.p50,
               m.torch.p99, label.c_str(), m.fp32.rows_per_s, m.int8.rows_per_s, m.torch.rows_per_s,
               m.gflops, 100 * m.gflops / peak, peak, m.auc_fp32, m.auc_int8, m.max_abs_diff,
               label.c_str(), m.bytes.read / 1e6, m.bytes.dense / 1e6,
               m.bytes.read / m.fp32.p50 / 1e3, 100 * m.bytes.read / m.fp32.p50 / 1e3 / m.read_gbps,
               m.read_gbps, m.bytes.read / m.read_gbps / 1e3, m.bytes.dense / m.read_gbps / 1e3);
  return ToJson(prefix, m, peak);
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  torch::set_num_threads(1);
  // LibTorch's matrix products go through the system BLAS (OpenBLAS on the
  // benchmark machine), which has its own thread pool: pin it to one thread.
  if (auto* set =
          reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
    set(1);
    std::fprintf(stderr, "OpenBLAS pinned to 1 thread\n");
  }
  std::fprintf(stderr, "measuring the FMA peak\n");
  const double peak = FmaPeakGflops();
  std::fprintf(stderr, "FMA peak: %.1f GFLOP/s (one core, AVX-512 fp32)\n", peak);
  const std::string ranking =
      RunModel("ranking 256-1024-1024-256-1", "", {256, 1024, 1024, 256, 1}, peak, quick);
  const std::string small = RunModel("small 32-128-64-1", "small.", {32, 128, 64, 1}, peak, quick);
  std::printf("{\"fma_peak_gflops\":%.4g,\"threads\":1,%s,%s}\n", peak, ranking.c_str(),
              small.c_str());
  return 0;
}
