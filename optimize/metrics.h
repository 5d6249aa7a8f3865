// Accuracy metrics of the optimisation gate, for binary scores in [0, 1].
#ifndef HOTPATH_OPTIMIZE_METRICS_H_
#define HOTPATH_OPTIMIZE_METRICS_H_

#include <vector>

namespace hotpath::optimize {

// Area under the ROC curve (ties count one half). 0.5 when a class is absent.
double Auc(const std::vector<float>& scores, const std::vector<float>& labels);
// Mean binary cross-entropy; scores clamped to [1e-7, 1 - 1e-7].
double LogLoss(const std::vector<float>& scores, const std::vector<float>& labels);
double MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace hotpath::optimize

#endif  // HOTPATH_OPTIMIZE_METRICS_H_
