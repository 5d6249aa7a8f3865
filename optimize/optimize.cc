#include "optimize/optimize.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>

#include "optimize/metrics.h"
#include "optimize/report.h"
#include "optimize/transforms.h"
#include "runtime/dense/dense_model.h"
#include "runtime/dense/graph_io.h"

namespace hotpath::optimize {
namespace {

using dense::DenseModel;
using dense::Graph;
using Clock = std::chrono::steady_clock;

struct Measured {
  VariantResult result;
  std::vector<float> scores;
};

double MedianSingleRowUs(const DenseModel& m, const EvalSet& eval) {
  const size_t n = std::min<size_t>(eval.rows, 400);
  const int64_t f = m.num_features();
  std::vector<double> us;
  float out = 0;
  for (size_t r = 0; r < n; ++r) {
    const auto t0 = Clock::now();
    m.Predict(eval.x.data() + r * f, 1, OutputKind::kValue, &out).IgnoreError();
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  std::nth_element(us.begin(), us.begin() + us.size() / 2, us.end());
  return us[us.size() / 2];
}

double RowsPerSecond(const DenseModel& m, const EvalSet& eval, size_t batch) {
  const size_t b = std::min(batch, eval.rows);
  std::vector<float> out(b);
  size_t rows = 0;
  const auto t0 = Clock::now();
  double seconds = 0;
  while (seconds < 0.3 || rows < 4 * b) {
    m.Predict(eval.x.data(), b, OutputKind::kValue, out.data()).IgnoreError();
    rows += b;
    seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  }
  return rows / seconds;
}

Result<Measured> Measure(const std::string& name, const Graph& g, const OptimizeOptions& o) {
  ASSIGN_OR_RETURN(auto model, DenseModel::Create(g, {}));
  if (model->OutputWidth(OutputKind::kValue) != 1) {
    return InvalidArgumentError("optimize needs one probability per row; the model has " +
                                std::to_string(model->OutputWidth(OutputKind::kValue)) +
                                " outputs");
  }
  Measured m;
  m.scores.resize(o.eval.rows);
  RETURN_IF_ERROR(
      model->Predict(o.eval.x.data(), o.eval.rows, OutputKind::kValue, m.scores.data()));
  m.result.name = name;
  m.result.auc = Auc(m.scores, o.eval.labels);
  m.result.log_loss = LogLoss(m.scores, o.eval.labels);
  m.result.batch1_p50_us = MedianSingleRowUs(*model, o.eval);
  m.result.rows_per_s = RowsPerSecond(*model, o.eval, o.batch);
  m.result.memory_bytes = model->MemoryBytes();
  return m;
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

std::vector<std::pair<std::string, Result<Graph>>> Variants(const Graph& g, const EvalSet& eval) {
  const size_t calib = std::min<size_t>(eval.rows, 512);
  QuantizeOptions dyn, cal{true, eval.x.data(), calib};
  std::vector<std::pair<std::string, Result<Graph>>> v;
  v.emplace_back("int8-dynamic", QuantizeInt8(g, dyn));
  v.emplace_back("int8-calibrated", QuantizeInt8(g, cal));
  v.emplace_back("prune-magnitude-50%", PruneMagnitude(g, 0.5));
  for (double f : {0.25, 0.5}) {
    Result<Graph> p = PruneNeurons(g, f);
    const std::string name = "prune-neurons-" + std::to_string(static_cast<int>(f * 100)) + "%";
    if (p.ok()) v.emplace_back(name + "+int8", QuantizeInt8(*p, dyn));
    v.emplace_back(name, std::move(p));
  }
  return v;
}

Status CheckOptions(const OptimizeOptions& o) {
  if (o.eval.rows == 0 || o.eval.labels.size() != o.eval.rows ||
      o.eval.x.size() % o.eval.rows != 0) {
    return InvalidArgumentError("eval: needs rows > 0, one label per row and x of rows * features");
  }
  if (o.report_dir.empty() || o.output_dir.empty()) {
    return InvalidArgumentError("output_dir and report_dir are required");
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
  r->report_svg = o.report_dir / "report.svg";
  RETURN_IF_ERROR(WriteText(r->report_svg, ReportSvg(*r)));
  return WriteText(r->report_md, ReportMarkdown(*r, o, "report.svg"));
}

std::string Numbers(const OptimizeReport& r) {
  std::string s = "baseline AUC " + std::to_string(r.baseline.auc);
  for (const auto& v : r.variants) {
    s += "; " + v.name + ": AUC " + std::to_string(v.auc) + ", log loss " +
         std::to_string(v.log_loss) + ", max abs diff " + std::to_string(v.max_abs_diff);
  }
  return s;
}

}  // namespace

Result<OptimizeReport> Optimize(const OptimizeOptions& o) {
  RETURN_IF_ERROR(CheckOptions(o));
  auto say = [&](const std::string& s) {
    if (o.progress) o.progress(s);
  };
  ASSIGN_OR_RETURN(const Graph graph, dense::LoadGraph(o.model));
  if (o.eval.x.size() / o.eval.rows != static_cast<size_t>(graph.widths[0])) {
    return InvalidArgumentError("eval rows have " + std::to_string(o.eval.x.size() / o.eval.rows) +
                                " features, the model " + std::to_string(graph.widths[0]));
  }
  say("measuring the baseline");
  ASSIGN_OR_RETURN(Measured base, Measure("baseline fp32", graph, o));
  OptimizeReport report;
  report.baseline = base.result;
  report.baseline.passed = true;
  std::vector<Graph> graphs;
  double best_score = 0;
  for (auto& [name, g] : Variants(graph, o.eval)) {
    say("trying " + name);
    if (!g.ok()) continue;
    ASSIGN_OR_RETURN(Measured m, Measure(name, *g, o));
    m.result.max_abs_diff = MaxAbsDiff(m.scores, base.scores);
    m.result.passed = base.result.auc - m.result.auc <= o.max_auc_loss &&
                      m.result.log_loss - base.result.log_loss <= o.max_logloss_increase &&
                      m.result.max_abs_diff <= o.max_abs_diff;
    const double score = Score(m.result, base.result, o.strategy);
    if (m.result.passed && score > best_score && score > 1.0) {
      best_score = score;
      report.best = static_cast<int>(report.variants.size());
    }
    report.variants.push_back(m.result);
    graphs.push_back(std::move(*g));
  }
  RETURN_IF_ERROR(WriteReport(&report, o));
  if (report.best < 0) {
    return FailedPreconditionError("no variant passed the gate (max AUC loss " +
                                   std::to_string(o.max_auc_loss) +
                                   ") and beat the baseline: " + Numbers(report));
  }
  std::error_code ec;
  std::filesystem::create_directories(o.output_dir, ec);
  report.published = o.output_dir / "model.hpd";
  RETURN_IF_ERROR(dense::WriteGraphFile(graphs[report.best], report.published));
  say("published " + report.variants[report.best].name + " to " + report.published.string());
  return report;
}

}  // namespace hotpath::optimize
