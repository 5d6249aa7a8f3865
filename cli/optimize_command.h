// `hotpath optimize MODEL --eval FILE.csv [--strategy S] [--max-accuracy-loss X]`:
// makes a binary scorer cheaper under an accuracy gate (optimize/optimize.h)
// and publishes the best passing variant.
//
// MODEL is one of:
//   - a model folder of a repository (holding config.json): the highest
//     numbered version is optimised, the winner becomes version max + 1;
//   - a version folder of such a model (`repo/NAME/3`): that version is
//     optimised, the winner becomes version max + 1;
//   - a model file (.hpd, .onnx, .json, .ubj) or a version folder outside a
//     repository: the winner is written to --out.
// A new repository version is staged in the hidden folder
// `NAME/.optimize-staging/`, loaded there through the model repository with
// the model's config (the `serve` backends, warm-up included) and its
// accuracy checked again, then moved into place with one rename, so a
// polling server never sees a partial version. When no variant passes the
// gate nothing is published and the command fails with every variant's
// numbers; the report (report.md, report.csv, report.svg) is written in every
// outcome.
//
// Eval data: CSV whose first line is a header naming the columns. The column
// named --label-column (default `label`) holds the 0/1 label; every other
// column is a feature, in the model's input order. An empty field is a
// missing value (tree models only; dense models refuse it).
#ifndef HOTPATH_CLI_OPTIMIZE_COMMAND_H_
#define HOTPATH_CLI_OPTIMIZE_COMMAND_H_

#include <ostream>
#include <string>

#include "core/status.h"
#include "optimize/optimize.h"

namespace hotpath::cli {

struct OptimizeArgs {
  std::string model;  // see above
  std::string eval;   // eval CSV
  std::string label_column = "label";
  std::string strategy = "balanced";  // latency | throughput | memory | balanced
  double max_accuracy_loss = 0.002;   // AUC points the variant may lose
  double max_logloss_increase = 0.01;
  double max_abs_diff = 1.0;  // max |variant - baseline| probability over the rows
  // Report folder; default: NAME/optimize-report for a repository model,
  // else MODEL's path without extension + ".optimize-report".
  std::string report_dir;
  // Model files only: folder for the winner; default MODEL's path without
  // extension + ".optimized".
  std::string out_dir;
};

// Reads eval data in the format above. NOT_FOUND when the file cannot be
// opened; INVALID_ARGUMENT naming the file, line and column otherwise.
Result<optimize::EvalSet> ReadEvalCsv(const std::string& path, const std::string& label_column);

// Runs the optimisation; progress lines go to `progress`, the summary to
// `out`. FAILED_PRECONDITION (with the numbers) when no variant passes the
// gate; INVALID_ARGUMENT for bad flags or eval data; the repository's load
// error when the staged version does not load (nothing is published then).
Status RunOptimize(const OptimizeArgs& args, std::ostream& out, std::ostream& progress);

}  // namespace hotpath::cli

#endif  // HOTPATH_CLI_OPTIMIZE_COMMAND_H_
