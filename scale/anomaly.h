// Robust anomaly detection on the seasonal residual: a point is anomalous when
// its one-step Holt-Winters residual lies more than `threshold` robust standard
// deviations (1.4826·MAD around the median) from the in-sample residuals'
// median. Also scores detections against labels (precision/recall).
// DetectAnomalies advances the model it is given, so calls on one model must
// not overlap; ScoreDetections is pure.
#ifndef HOTPATH_SCALE_ANOMALY_H_
#define HOTPATH_SCALE_ANOMALY_H_

#include <span>
#include <vector>

#include "core/status.h"
#include "scale/forecast.h"

namespace hotpath::scale {

struct AnomalyOptions {
  double threshold = 4.0;   // robust z above which a point is anomalous; > 0
  bool upper_only = false;  // flag only demand above forecast (bursts)
};

struct DetectedPoint {
  size_t index = 0;       // position in the scanned series
  double value = 0.0;     // observed demand
  double forecast = 0.0;  // one-step forecast
  double z = 0.0;         // robust z-score of the residual
};

// Scans `series` (the points following the model's history) with `model`,
// updating it robustly point by point, and returns the anomalous points in
// order. `model` is advanced past `series`. INVALID_ARGUMENT on a bad threshold.
Result<std::vector<DetectedPoint>> DetectAnomalies(HoltWinters& model,
                                                   std::span<const double> series,
                                                   const AnomalyOptions& options);

struct DetectionScore {
  size_t true_positives = 0;
  size_t false_positives = 0;
  size_t false_negatives = 0;
  double precision = 1.0;  // tp / (tp + fp); 1 when nothing was flagged
  double recall = 1.0;     // tp / (tp + fn); 1 when nothing was labelled
};

// Point-wise score of detections against labels ([series] true = anomaly).
// Detected indices outside `labels` count as false positives.
DetectionScore ScoreDetections(std::span<const DetectedPoint> detected,
                               const std::vector<bool>& labels);

}  // namespace hotpath::scale

#endif  // HOTPATH_SCALE_ANOMALY_H_
