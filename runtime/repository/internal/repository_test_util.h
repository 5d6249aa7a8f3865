// Test support for the repository tests: a temporary repository folder,
// XGBoost models trained through libxgboost (the oracle), and configs.
#ifndef HOTPATH_RUNTIME_REPOSITORY_INTERNAL_REPOSITORY_TEST_UTIL_H_
#define HOTPATH_RUNTIME_REPOSITORY_INTERNAL_REPOSITORY_TEST_UTIL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/model.h"
#include "runtime/tree/testing/xgboost_trainer.h"

namespace hotpath::repository_internal {

// A fresh folder under the system temp dir, removed with its contents on
// destruction.
class TempRepo {
 public:
  TempRepo();
  ~TempRepo();
  TempRepo(const TempRepo&) = delete;
  TempRepo& operator=(const TempRepo&) = delete;

  const std::string& path() const { return path_; }
  std::string ModelDir(const std::string& model) const { return path_ + "/" + model; }
  // Writes `text` to <repo>/<relative>, creating folders.
  void WriteFile(const std::string& relative, const std::string& text) const;
  void WriteConfig(const std::string& model, const nlohmann::json& config) const;
  void Remove(const std::string& relative) const;

 private:
  std::string path_;
};

// A trained XGBoost binary classifier and rows to check it on.
struct TrainedModel {
  std::unique_ptr<testing::XGBoostBooster> booster;
  int features = 0;
  std::vector<float> rows;  // [num_rows, features], some NaN
  size_t num_rows = 0;
};

// Trains `rounds` rounds of depth-4 trees on `features` columns; `seed`
// varies the data so different versions predict differently.
TrainedModel TrainModel(int features, int rounds, uint32_t seed);

// Saves `model` as <repo>/<name>/<version>/<file> (model.json / model.ubj).
void WriteVersion(const TempRepo& repo, const std::string& name, int64_t version,
                  const TrainedModel& model, const std::string& file = "model.json");

// A valid config for an XGBoost model with `features` inputs and one output.
nlohmann::json BasicConfig(int features);

// XGBoost's own predictions of `kind` for `model.rows`.
std::vector<float> XGBoostPredict(const TrainedModel& model, testing::XGBoostBooster::Kind kind);

// Predict through `m` on `rows` (the model's width).
std::vector<float> EnginePredict(const Model& m, const std::vector<float>& rows, size_t num_rows,
                                 OutputKind kind);

}  // namespace hotpath::repository_internal

#endif  // HOTPATH_RUNTIME_REPOSITORY_INTERNAL_REPOSITORY_TEST_UTIL_H_
