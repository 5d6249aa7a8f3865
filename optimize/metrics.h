// Accuracy metrics of the optimisation gate, for binary scores in [0, 1], and
// the gate itself: how much worse than the baseline a variant may be.
#ifndef HOTPATH_OPTIMIZE_METRICS_H_
#define HOTPATH_OPTIMIZE_METRICS_H_

#include <vector>

namespace hotpath::optimize {

// Area under the ROC curve (ties count one half). 0.5 when a class is absent.
double Auc(const std::vector<float>& scores, const std::vector<float>& labels);
// Mean binary cross-entropy; scores clamped to [1e-7, 1 - 1e-7].
double LogLoss(const std::vector<float>& scores, const std::vector<float>& labels);
double MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b);

// A variant's accuracy on the held-out rows.
struct Accuracy {
  double auc = 0;
  double log_loss = 0;
  double max_abs_diff = 0;  // max |score - reference score| over the rows
};

// `scores` and `reference` (the baseline's scores) [rows], labels 0/1 [rows].
Accuracy MeasureAccuracy(const std::vector<float>& scores, const std::vector<float>& labels,
                         const std::vector<float>& reference);

// A variant passes when AUC_base - AUC <= max_auc_loss, log loss - log
// loss_base <= max_logloss_increase and max |variant - baseline| <=
// max_abs_diff.
struct Gate {
  double max_auc_loss = 0.002;
  double max_logloss_increase = 0.01;
  double max_abs_diff = 1.0;

  bool Passes(const Accuracy& baseline, const Accuracy& variant) const {
    return baseline.auc - variant.auc <= max_auc_loss &&
           variant.log_loss - baseline.log_loss <= max_logloss_increase &&
           variant.max_abs_diff <= max_abs_diff;
  }
};

}  // namespace hotpath::optimize

#endif  // HOTPATH_OPTIMIZE_METRICS_H_
