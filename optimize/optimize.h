// Optimize: makes a binary scorer cheaper under an accuracy gate.
//
// Measures the baseline (accuracy on held-out rows, batch-1 latency p50/p99,
// batch throughput, memory), tries the techniques of the model's family,
// keeps the variants that pass the gate, ranks them by the strategy, writes a
// report (markdown and CSV tables + SVG plot) and publishes the best as the
// artifact of a new version folder. Families, chosen by the artifact:
//   dense (model.hpd, model.onnx): int8 quantisation (dynamic, calibrated),
//     unstructured and structured pruning and their combination;
//   XGBoost tree ensembles (model.json, model.ubj): compaction to fewer
//     boosting rounds (tree_compaction.h).
// The `hotpath optimize` command (cli/optimize_command.h) wires its flags and
// the model repository to this.
#ifndef HOTPATH_OPTIMIZE_OPTIMIZE_H_
#define HOTPATH_OPTIMIZE_OPTIMIZE_H_

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "optimize/metrics.h"

namespace hotpath::optimize {

enum class Strategy { kLatency, kThroughput, kMemory, kBalanced };

// "latency", "throughput", "memory", "balanced".
const char* StrategyName(Strategy s);
// The inverse; INVALID_ARGUMENT naming the value otherwise.
Result<Strategy> ParseStrategy(std::string_view name);

// Held-out rows: x [rows, features] (NaN = missing; tree models only) and 0/1
// labels [rows].
struct EvalSet {
  std::vector<float> x;
  std::vector<float> labels;
  size_t rows = 0;
};

struct OptimizeOptions {
  // A model file (.hpd, .onnx, .json, .ubj) or a version folder holding
  // model.hpd, model.onnx, model.json or model.ubj (first found).
  std::filesystem::path model;
  std::filesystem::path output_dir;  // new version folder; created only when a variant passes
  // File name of the published artifact in output_dir; empty = the family's
  // default (dense: model.hpd; trees: model.json, XGBoost JSON). Its
  // extension must be the default's (INVALID_ARGUMENT otherwise).
  std::string artifact_name;
  std::filesystem::path report_dir;  // report.md, report.csv, report.svg (written in every outcome)
  EvalSet eval;                      // model output must be one probability per row
  Strategy strategy = Strategy::kBalanced;
  Gate gate;
  size_t batch = 1024;                             // rows per call of the throughput figure
  size_t latency_rows = 1000;                      // single-row calls timed for p50/p99
  std::function<void(std::string_view)> progress;  // optional progress lines
};

struct VariantResult {
  std::string name;
  Accuracy accuracy;         // max_abs_diff against the baseline's scores
  double batch1_p50_us = 0;  // single-row latency percentiles
  double batch1_p99_us = 0;
  double rows_per_s = 0;  // at `batch` rows per call, one thread
  size_t memory_bytes = 0;
  bool passed = false;  // within the gate (the baseline always passes)
};

struct OptimizeReport {
  VariantResult baseline;
  std::vector<VariantResult> variants;
  int best = -1;  // index into variants; -1 when none passed
  std::filesystem::path report_md, report_csv, report_svg;
  std::filesystem::path published;  // output_dir / artifact name; empty when none passed
};

// INVALID_ARGUMENT for unusable options, an eval set whose width differs from
// the model's, missing values for a dense model, or a model that is not one
// probability per row; NOT_FOUND when the model is missing; FAILED_PRECONDITION,
// with every variant's numbers, when no variant passes the gate and beats the
// baseline on the strategy (the report is still written, output_dir is not
// created). Single-threaded; timings are wall clock on the calling thread.
Result<OptimizeReport> Optimize(const OptimizeOptions& options);

}  // namespace hotpath::optimize

#endif  // HOTPATH_OPTIMIZE_OPTIMIZE_H_
