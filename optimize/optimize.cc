#include "optimize/optimize.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <tuple>

#include "optimize/internal/candidates.h"
#include "optimize/report.h"

namespace hotpath::optimize {
namespace {

using internal::Candidate;
using Clock = std::chrono::steady_clock;

constexpr const char* kStrategyNames[] = {"latency", "throughput", "memory", "balanced"};

// p50 and p99 of single-row calls over the first `n` eval rows (cycled).
std::pair<double, double> SingleRowPercentilesUs(const Model& m, const EvalSet& eval, size_t n) {
  const int64_t f = m.num_features();
  std::vector<double> us(std::max<size_t>(n, 1));
  float out = 0;
  for (size_t i = 0; i < us.size(); ++i) {
    const float* row = eval.x.data() + (i % eval.rows) * f;
    const auto t0 = Clock::now();
    m.Predict(row, 1, OutputKind::kValue, &out).IgnoreError();
    us[i] = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
  }
  std::sort(us.begin(), us.end());
  const auto at = [&](double q) {
    return us[std::min(us.size() - 1, static_cast<size_t>(q * us.size()))];
  };
  return {at(0.50), at(0.99)};
}

// Rows per second at `batch` rows per call (cycling the eval rows), at least 0.3 s.
double RowsPerSecond(const Model& m, const EvalSet& eval, size_t batch) {
  const size_t f = static_cast<size_t>(m.num_features());
  std::vector<float> x(batch * f), out(batch);
  for (size_t r = 0; r < batch; ++r) {
    std::copy_n(eval.x.data() + (r % eval.rows) * f, f, x.data() + r * f);
  }
  size_t rows = 0;
  const auto t0 = Clock::now();
  double seconds = 0;
  while (seconds < 0.3 || rows < 4 * batch) {
    m.Predict(x.data(), batch, OutputKind::kValue, out.data()).IgnoreError();
    rows += batch;
    seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  }
  return rows / seconds;
}

Result<std::vector<float>> Scores(const Model& m, const EvalSet& eval) {
  if (m.OutputWidth(OutputKind::kValue) != 1) {
    return InvalidArgumentError("optimize needs one probability per row; the model has " +
                                std::to_string(m.OutputWidth(OutputKind::kValue)) + " outputs");
  }
  std::vector<float> s(eval.rows);
  RETURN_IF_ERROR(m.Predict(eval.x.data(), eval.rows, OutputKind::kValue, s.data()));
  return s;
}

// Accuracy against `reference` (the baseline's scores; empty = its own) and cost.
Result<VariantResult> Measure(const Candidate& c, const OptimizeOptions& o,
                              const std::vector<float>& reference) {
  ASSIGN_OR_RETURN(const std::vector<float> scores, Scores(*c.model, o.eval));
  VariantResult r;
  r.name = c.name;
  r.accuracy = MeasureAccuracy(scores, o.eval.labels, reference.empty() ? scores : reference);
  std::tie(r.batch1_p50_us, r.batch1_p99_us) =
      SingleRowPercentilesUs(*c.model, o.eval, o.latency_rows);
  r.rows_per_s = RowsPerSecond(*c.model, o.eval, o.batch);
  r.memory_bytes = c.model->MemoryBytes();
  return r;
}

// Higher is better; ratios against the baseline.
double Score(const VariantResult& v, const VariantResult& base, Strategy s) {
  const double lat = base.batch1_p50_us / v.batch1_p50_us;
  const double thr = v.rows_per_s / base.rows_per_s;
  const double mem = static_cast<double>(base.memory_bytes) / std::max<size_t>(v.memory_bytes, 1);
  switch (s) {
    case Strategy::kLatency:
      return lat;
    case Strategy::kThroughput:
      return thr;
    case Strategy::kMemory:
      return mem;
    case Strategy::kBalanced:
      return std::cbrt(lat * thr * mem);
  }
  return 0;
}

Status CheckOptions(const OptimizeOptions& o) {
  if (o.eval.rows == 0 || o.eval.labels.size() != o.eval.rows ||
      o.eval.x.size() % o.eval.rows != 0) {
    return InvalidArgumentError("eval: needs rows > 0, one label per row and x of rows * features");
  }
  if (o.report_dir.empty() || o.output_dir.empty()) {
    return InvalidArgumentError("output_dir and report_dir are required");
  }
  if (o.batch == 0 || o.latency_rows == 0) {
    return InvalidArgumentError("batch and latency_rows must be positive");
  }
  return OkStatus();
}

Status WriteText(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  return out ? OkStatus() : InternalError("cannot write " + path.string());
}

Status WriteReport(OptimizeReport* r, const OptimizeOptions& o) {
  std::error_code ec;
  std::filesystem::create_directories(o.report_dir, ec);
  r->report_md = o.report_dir / "report.md";
  r->report_csv = o.report_dir / "report.csv";
  r->report_svg = o.report_dir / "report.svg";
  RETURN_IF_ERROR(WriteText(r->report_svg, ReportSvg(*r)));
  RETURN_IF_ERROR(WriteText(r->report_csv, ReportCsv(*r)));
  return WriteText(r->report_md, ReportMarkdown(*r, o, "report.svg"));
}

std::string Numbers(const OptimizeReport& r) {
  const auto line = [](const VariantResult& v) {
    return v.name + ": AUC " + std::to_string(v.accuracy.auc) + ", log loss " +
           std::to_string(v.accuracy.log_loss) + ", max abs diff " +
           std::to_string(v.accuracy.max_abs_diff) + (v.passed ? " (pass)" : " (fail)");
  };
  std::string s = "baseline AUC " + std::to_string(r.baseline.accuracy.auc) + ", log loss " +
                  std::to_string(r.baseline.accuracy.log_loss);
  for (const auto& v : r.variants) s += "; " + line(v);
  return s;
}

}  // namespace

const char* StrategyName(Strategy s) { return kStrategyNames[static_cast<int>(s)]; }

Result<Strategy> ParseStrategy(std::string_view name) {
  for (int i = 0; i < 4; ++i) {
    if (name == kStrategyNames[i]) return static_cast<Strategy>(i);
  }
  return InvalidArgumentError("strategy: '" + std::string(name) +
                              "' is not one of latency, throughput, memory, balanced");
}

Result<OptimizeReport> Optimize(const OptimizeOptions& o) {
  RETURN_IF_ERROR(CheckOptions(o));
  auto say = [&](const std::string& s) {
    if (o.progress) o.progress(s);
  };
  ASSIGN_OR_RETURN(internal::Candidates set, internal::BuildCandidates(o));
  say("measuring the baseline");
  ASSIGN_OR_RETURN(const std::vector<float> base_scores, Scores(*set.baseline.model, o.eval));
  OptimizeReport report;
  ASSIGN_OR_RETURN(report.baseline, Measure(set.baseline, o, {}));
  report.baseline.passed = true;
  double best_score = 0;
  for (const Candidate& c : set.variants) {
    say("measuring " + c.name);
    ASSIGN_OR_RETURN(VariantResult v, Measure(c, o, base_scores));
    v.passed = o.gate.Passes(report.baseline.accuracy, v.accuracy);
    const double score = Score(v, report.baseline, o.strategy);
    if (v.passed && score > best_score && score > 1.0) {
      best_score = score;
      report.best = static_cast<int>(report.variants.size());
    }
    report.variants.push_back(std::move(v));
  }
  RETURN_IF_ERROR(WriteReport(&report, o));
  if (report.best < 0) {
    return FailedPreconditionError(
        "no variant passed the gate (max AUC loss " + std::to_string(o.gate.max_auc_loss) +
        ", max log-loss increase " + std::to_string(o.gate.max_logloss_increase) +
        ", max abs diff " + std::to_string(o.gate.max_abs_diff) + ") and beat the baseline on " +
        StrategyName(o.strategy) + ": " + Numbers(report) +
        ". Report: " + report.report_md.string());
  }
  std::error_code ec;
  std::filesystem::create_directories(o.output_dir, ec);
  report.published =
      o.output_dir / (o.artifact_name.empty() ? set.default_artifact : o.artifact_name);
  RETURN_IF_ERROR(set.variants[report.best].write(report.published));
  say("wrote " + report.variants[report.best].name + " to " + report.published.string());
  return report;
}

}  // namespace hotpath::optimize
