#include "scale/anomaly.h"

#include <cmath>

namespace hotpath::scale {

Result<std::vector<DetectedPoint>> DetectAnomalies(HoltWinters& model,
                                                   std::span<const double> series,
                                                   const AnomalyOptions& options) {
  if (!(options.threshold > 0.0)) {
    return InvalidArgumentError("threshold: must be > 0");
  }
  std::vector<DetectedPoint> out;
  for (size_t i = 0; i < series.size(); ++i) {
    const Observation ob = model.Observe(series[i]);
    const bool hit =
        options.upper_only ? ob.z > options.threshold : std::abs(ob.z) > options.threshold;
    if (hit) {
      out.push_back({i, series[i], ob.forecast, ob.z});
    }
  }
  return out;
}

DetectionScore ScoreDetections(std::span<const DetectedPoint> detected,
                               const std::vector<bool>& labels) {
  DetectionScore s;
  std::vector<bool> flagged(labels.size(), false);
  for (const auto& d : detected) {
    if (d.index < labels.size()) {
      flagged[d.index] = true;
    } else {
      ++s.false_positives;
    }
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    if (flagged[i] && labels[i]) {
      ++s.true_positives;
    }
    if (flagged[i] && !labels[i]) {
      ++s.false_positives;
    }
    if (!flagged[i] && labels[i]) {
      ++s.false_negatives;
    }
  }
  const size_t pos = s.true_positives + s.false_positives;
  const size_t act = s.true_positives + s.false_negatives;
  s.precision = pos ? static_cast<double>(s.true_positives) / static_cast<double>(pos) : 1.0;
  s.recall = act ? static_cast<double>(s.true_positives) / static_cast<double>(act) : 1.0;
  return s;
}

}  // namespace hotpath::scale
