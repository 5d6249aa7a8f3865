// Warm-up: the rows a version is exercised with before it is marked ready,
// and the run itself (one Model::Predict per configured batch size).
#ifndef HOTPATH_RUNTIME_REPOSITORY_INTERNAL_WARMUP_H_
#define HOTPATH_RUNTIME_REPOSITORY_INTERNAL_WARMUP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "runtime/model.h"
#include "runtime/repository/model_config.h"

namespace hotpath::repository_internal {

// Sample rows, [rows, num_features] row-major: `random_rows` rows uniform in
// [-1, 1] from a fixed seed (the same rows on every load), or the rows of
// `model_dir/rows_file` (a JSON array of arrays of numbers; null = NaN).
// INVALID_ARGUMENT naming the file and row when a row is malformed or not
// num_features wide.
Result<std::vector<float>> WarmupRows(const WarmupConfig& warmup, const std::string& model_dir,
                                      int64_t num_features);

// Runs one Predict of `kind` per warm-up batch size, the batch filled by
// cycling through `rows`. Fails with the model's error, or INTERNAL when an
// output is not finite. `label` ("models/m/3") prefixes messages.
Status RunWarmup(const Model& model, const WarmupConfig& warmup, OutputKind kind,
                 const std::vector<float>& rows, const std::string& label);

}  // namespace hotpath::repository_internal

#endif  // HOTPATH_RUNTIME_REPOSITORY_INTERNAL_WARMUP_H_
