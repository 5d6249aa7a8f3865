#include "runtime/tree/testing/xgboost_trainer.h"

#include <xgboost/c_api.h>

#include <cmath>
#include <cstdio>
#include <memory>

namespace hotpath::testing {
namespace {

Status Check(int rc, const char* what) {
  if (rc == 0) return OkStatus();
  return InternalError(std::string(what) + ": " + XGBGetLastError());
}

struct DMatrixDeleter {
  void operator()(void* h) const { XGDMatrixFree(h); }
};
using DMatrixPtr = std::unique_ptr<void, DMatrixDeleter>;

Result<DMatrixPtr> MakeDMatrix(const float* x, size_t rows, size_t cols,
                               const std::vector<bool>& categorical) {
  DMatrixHandle h = nullptr;
  RETURN_IF_ERROR(Check(XGDMatrixCreateFromMat(x, rows, cols, NAN, &h), "XGDMatrixCreateFromMat"));
  DMatrixPtr m(h);
  if (!categorical.empty()) {
    std::vector<const char*> types;
    for (bool c : categorical) types.push_back(c ? "c" : "q");
    RETURN_IF_ERROR(Check(XGDMatrixSetStrFeatureInfo(h, "feature_type", types.data(), types.size()),
                          "XGDMatrixSetStrFeatureInfo"));
  }
  return m;
}

}  // namespace

XGBoostBooster::~XGBoostBooster() {
  if (handle_ != nullptr) XGBoosterFree(handle_);
}

Result<XGBoostBooster> XGBoostBooster::Train(const Dataset& data,
                                             const std::map<std::string, std::string>& params,
                                             int rounds) {
  ASSIGN_OR_RETURN(DMatrixPtr dm, MakeDMatrix(data.x.data(), data.rows, data.cols, data.categorical));
  RETURN_IF_ERROR(Check(XGDMatrixSetFloatInfo(dm.get(), "label", data.label.data(), data.rows),
                        "set label"));
  if (!data.group_sizes.empty()) {
    RETURN_IF_ERROR(Check(XGDMatrixSetUIntInfo(dm.get(), "group", data.group_sizes.data(),
                                               data.group_sizes.size()),
                          "set group"));
  }
  DMatrixHandle dms[] = {dm.get()};
  BoosterHandle b = nullptr;
  RETURN_IF_ERROR(Check(XGBoosterCreate(dms, 1, &b), "XGBoosterCreate"));
  XGBoostBooster booster(b);
  RETURN_IF_ERROR(Check(XGBoosterSetParam(b, "nthread", "1"), "nthread"));
  RETURN_IF_ERROR(Check(XGBoosterSetParam(b, "verbosity", "0"), "verbosity"));
  for (const auto& [k, v] : params) {
    RETURN_IF_ERROR(Check(XGBoosterSetParam(b, k.c_str(), v.c_str()), k.c_str()));
  }
  for (int i = 0; i < rounds; ++i) {
    RETURN_IF_ERROR(Check(XGBoosterUpdateOneIter(b, i, dm.get()), "XGBoosterUpdateOneIter"));
  }
  return booster;
}

Result<XGBoostBooster> XGBoostBooster::Load(const std::string& path) {
  BoosterHandle b = nullptr;
  RETURN_IF_ERROR(Check(XGBoosterCreate(nullptr, 0, &b), "XGBoosterCreate"));
  XGBoostBooster booster(b);
  RETURN_IF_ERROR(Check(XGBoosterLoadModel(b, path.c_str()), "XGBoosterLoadModel"));
  RETURN_IF_ERROR(Check(XGBoosterSetParam(b, "nthread", "1"), "nthread"));
  return booster;
}

Status XGBoostBooster::Save(const std::string& path) const {
  return Check(XGBoosterSaveModel(handle_, path.c_str()), "XGBoosterSaveModel");
}

Result<std::vector<float>> XGBoostBooster::Predict(const float* x, size_t rows, size_t cols,
                                                   Kind kind,
                                                   const std::vector<bool>& categorical,
                                                   int iteration_end) const {
  ASSIGN_OR_RETURN(DMatrixPtr dm, MakeDMatrix(x, rows, cols, categorical));
  char config[160];
  std::snprintf(config, sizeof(config),
                "{\"type\": %d, \"training\": false, \"iteration_begin\": 0, "
                "\"iteration_end\": %d, \"strict_shape\": false}",
                static_cast<int>(kind), iteration_end);
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  RETURN_IF_ERROR(Check(XGBoosterPredictFromDMatrix(handle_, dm.get(), config, &shape, &dim, &result),
                        "XGBoosterPredictFromDMatrix"));
  size_t n = 1;
  for (bst_ulong i = 0; i < dim; ++i) n *= shape[i];
  return std::vector<float>(result, result + n);
}

Result<const float*> XGBoostBooster::InplacePredict(const float* x, size_t rows, size_t cols,
                                                    Kind kind, size_t* n) const {
  char array[256];
  std::snprintf(array, sizeof(array),
                "{\"data\": [%zu, true], \"shape\": [%zu, %zu], \"typestr\": \"<f4\", "
                "\"version\": 3}",
                reinterpret_cast<size_t>(x), rows, cols);
  char config[200];
  std::snprintf(config, sizeof(config),
                "{\"type\": %d, \"training\": false, \"iteration_begin\": 0, "
                "\"iteration_end\": 0, \"strict_shape\": false, \"missing\": NaN, "
                "\"cache_id\": 0}",
                static_cast<int>(kind));
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  RETURN_IF_ERROR(Check(XGBoosterPredictFromDense(handle_, array, config, nullptr, &shape, &dim,
                                                  &result),
                        "XGBoosterPredictFromDense"));
  size_t total = 1;
  for (bst_ulong i = 0; i < dim; ++i) total *= shape[i];
  *n = total;
  return result;
}

}  // namespace hotpath::testing
