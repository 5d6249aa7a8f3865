// Tree-ensemble compaction: a smaller XGBoost ensemble (fewer boosting rounds)
// whose probabilities stay within the accuracy gate on held-out rows. The
// result is an ordinary XGBoost JSON model that runtime/tree, the model
// repository and libxgboost itself load.
//
// Techniques, each giving the fewest rounds that pass the gate:
//   prefix       the first k rounds (what XGBoost's iteration_range predicts);
//   prefix+bias  the first k rounds, base margin shifted by the mean margin of
//                the dropped rounds over the rows (label-free: it aims at the
//                full model's scores, the gate then judges the labels);
//   impact+bias  the k rounds whose margins vary most over the rows (the
//                constant part of a round is what the bias absorbs), kept in
//                their original order, plus the same bias shift.
#ifndef HOTPATH_OPTIMIZE_TREE_COMPACTION_H_
#define HOTPATH_OPTIMIZE_TREE_COMPACTION_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "optimize/metrics.h"
#include "optimize/optimize.h"

namespace hotpath::optimize {

// An XGBoost gbtree model with a probability output (binary:logistic or
// reg:logistic, one output group) held as its document, for rewriting.
// Immutable after Parse; thread-compatible. Move-only.
class XGBoostRounds {
 public:
  // Parses a JSON or UBJSON artifact (`name` is used in messages).
  // INVALID_ARGUMENT naming the field when it is not such a model, or when
  // it holds non-finite literals (categorical splits are not supported).
  static Result<XGBoostRounds> Parse(const std::string& bytes, const std::string& name);
  XGBoostRounds(XGBoostRounds&&) noexcept;
  XGBoostRounds& operator=(XGBoostRounds&&) noexcept;
  ~XGBoostRounds();

  size_t num_rounds() const;
  size_t trees_per_round() const;  // num_parallel_tree
  // The base margin, logit(base_score), computed in float as runtime/tree does.
  float base_margin() const;

  // The model of only `rounds` (strictly ascending round indices, each <
  // num_rounds()) with `margin_shift` added to the base margin, as XGBoost
  // JSON text: trees renumbered, tree_info, num_trees and (XGBoost >= 2)
  // iteration_indptr rewritten, best_iteration attributes dropped. Every
  // other field is kept. INVALID_ARGUMENT for bad rounds or a shift that
  // takes base_score out of (0, 1) in float.
  Result<std::string> Subset(const std::vector<size_t>& rounds, double margin_shift) const;

 private:
  struct Doc;
  explicit XGBoostRounds(std::unique_ptr<Doc> doc);
  std::unique_ptr<Doc> doc_;
};

struct CompactionOptions {
  Gate gate;
  std::function<void(std::string_view)> progress;  // optional, one line per technique
};

// One compacted model per technique. The eval rows are split: the even rows
// choose the size (the fewest rounds that pass the gate against the full
// model, on double-precision margins), the odd rows confirm it with the tree
// engine's own predictions, so the size is not judged on the rows that picked
// it; a size that fails confirmation makes the search go on. When no smaller
// size passes, the technique's model at half the rounds is returned with
// passed = false, so a refusal can show its cost.
struct CompactedModel {
  std::string name;  // "prefix 40/200 rounds", ...
  std::string json;  // XGBoost JSON artifact
  size_t rounds = 0;
  Accuracy accuracy;  // the engine's, on the confirmation (odd) rows
  bool passed = false;
};

// INVALID_ARGUMENT when eval's width differs from the model's, eval has
// fewer than two rows or the model a single round; errors of the tree engine
// otherwise. Cost: one single-round model load and prediction per round,
// then per technique a scan over sizes (one AUC per size) on the choosing
// rows, and one engine check per candidate size.
Result<std::vector<CompactedModel>> CompactTrees(const XGBoostRounds& model, const EvalSet& eval,
                                                 const CompactionOptions& options);

}  // namespace hotpath::optimize

#endif  // HOTPATH_OPTIMIZE_TREE_COMPACTION_H_
