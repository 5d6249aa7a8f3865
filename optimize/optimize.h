// Optimize: makes a dense model cheaper under an accuracy gate.
//
// Measures the baseline (accuracy on held-out rows, batch-1 latency,
// batch throughput, memory), tries int8 quantisation (dynamic and calibrated),
// unstructured and structured pruning and their combination, keeps the
// variants that pass the gate, ranks them by the strategy, writes a report
// (markdown table + SVG plot) and publishes the best as a new version folder
// holding model.hpd. The `hotpath optimize` command wires its flags to this.
#ifndef HOTPATH_OPTIMIZE_OPTIMIZE_H_
#define HOTPATH_OPTIMIZE_OPTIMIZE_H_

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace hotpath::optimize {

enum class Strategy { kLatency, kThroughput, kMemory, kBalanced };

// Held-out rows: x [rows, features] and 0/1 labels [rows].
struct EvalSet {
  std::vector<float> x;
  std::vector<float> labels;
  size_t rows = 0;
};

struct OptimizeOptions {
  std::filesystem::path model;       // model file or version folder (model.onnx / model.hpd)
  std::filesystem::path output_dir;  // new version folder; created only when a variant passes
  std::filesystem::path report_dir;  // report.md and report.svg (written in every outcome)
  EvalSet eval;                      // model output must be one probability per row
  Strategy strategy = Strategy::kBalanced;
  double max_auc_loss = 0.002;                     // baseline AUC - variant AUC
  double max_logloss_increase = 0.01;              // variant log loss - baseline log loss
  double max_abs_diff = 1.0;                       // max |variant - baseline| over the rows
  size_t batch = 1024;                             // rows per call of the throughput figure
  std::function<void(std::string_view)> progress;  // optional progress lines
};

struct VariantResult {
  std::string name;
  double auc = 0, log_loss = 0, max_abs_diff = 0;
  double batch1_p50_us = 0;  // median single-row latency
  double rows_per_s = 0;     // at `batch` rows per call, one thread
  size_t memory_bytes = 0;
  bool passed = false;  // within the gate (the baseline always passes)
};

struct OptimizeReport {
  VariantResult baseline;
  std::vector<VariantResult> variants;
  int best = -1;  // index into variants; -1 when none passed
  std::filesystem::path report_md, report_svg, published;  // published: output_dir/model.hpd
};

// INVALID_ARGUMENT for unusable options or a model that is not one probability
// per row; FAILED_PRECONDITION, with every variant's numbers, when no variant
// passes the gate (the report is still written).
Result<OptimizeReport> Optimize(const OptimizeOptions& options);

}  // namespace hotpath::optimize

#endif  // HOTPATH_OPTIMIZE_OPTIMIZE_H_
