// Test and benchmark support: trains XGBoost models through the real
// libxgboost C API and predicts with XGBoost's own predictor, the oracle the
// tree engine is checked and measured against. Not linked into the server.
#ifndef HOTPATH_RUNTIME_TREE_TESTING_XGBOOST_TRAINER_H_
#define HOTPATH_RUNTIME_TREE_TESTING_XGBOOST_TRAINER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace hotpath::testing {

// A dense float matrix, row-major, NaN = missing.
struct Dataset {
  size_t rows = 0;
  size_t cols = 0;
  std::vector<float> x;       // [rows, cols]
  std::vector<float> label;   // [rows]
  std::vector<uint32_t> group_sizes;  // ranking objectives only
  std::vector<bool> categorical;      // per column; empty = all numeric
};

// An XGBoost booster (owns the handle). Move-only.
class XGBoostBooster {
 public:
  // Trains `rounds` boosting rounds on `data` with string `params`
  // ("objective", "max_depth", ...). Categorical columns need tree_method=hist.
  static Result<XGBoostBooster> Train(const Dataset& data,
                                      const std::map<std::string, std::string>& params,
                                      int rounds);
  // Loads a model saved as JSON or UBJSON.
  static Result<XGBoostBooster> Load(const std::string& path);
  XGBoostBooster(XGBoostBooster&& o) noexcept : handle_(o.handle_) { o.handle_ = nullptr; }
  XGBoostBooster& operator=(XGBoostBooster&&) = delete;
  XGBoostBooster(const XGBoostBooster&) = delete;
  ~XGBoostBooster();

  // Saves as JSON (path ends in .json) or UBJSON (.ubj).
  Status Save(const std::string& path) const;

  enum class Kind { kValue = 0, kMargin = 1, kContributions = 2, kApproxContributions = 3 };
  // Predicts with XGBoost's own predictor through a DMatrix (any kind).
  // iteration_end > 0 uses only boosting rounds [0, iteration_end).
  Result<std::vector<float>> Predict(const float* x, size_t rows, size_t cols, Kind kind,
                                     const std::vector<bool>& categorical = {},
                                     int iteration_end = 0) const;
  // XGBoost's fastest path: in-place prediction from a dense array
  // (XGBoosterPredictFromDense). kValue or kMargin. Returns a pointer into
  // XGBoost's own buffer, valid until the next call; *n gets its length.
  Result<const float*> InplacePredict(const float* x, size_t rows, size_t cols, Kind kind,
                                      size_t* n) const;

 private:
  explicit XGBoostBooster(void* handle) : handle_(handle) {}
  void* handle_;
};

}  // namespace hotpath::testing

#endif  // HOTPATH_RUNTIME_TREE_TESTING_XGBOOST_TRAINER_H_
