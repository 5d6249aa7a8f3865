#include "runtime/repository/internal/warmup.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include <nlohmann/json.hpp>

#include "runtime/repository/internal/scan.h"

namespace hotpath::repository_internal {
namespace {

constexpr size_t kMaxRowsFileBytes = size_t{64} << 20;

std::vector<float> RandomRows(int rows, int64_t num_features) {
  std::mt19937 rng(20240229);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> out(static_cast<size_t>(rows) * static_cast<size_t>(num_features));
  for (float& v : out) v = dist(rng);
  return out;
}

Status AppendRow(const nlohmann::json& row, size_t index, int64_t num_features,
                 const std::string& file, std::vector<float>* out) {
  std::string where = file + ": row " + std::to_string(index) + ": ";
  if (!row.is_array()) return InvalidArgumentError(where + "must be an array of numbers");
  if (static_cast<int64_t>(row.size()) != num_features) {
    return InvalidArgumentError(where + "has " + std::to_string(row.size()) +
                                " values, the model takes " + std::to_string(num_features));
  }
  for (const nlohmann::json& v : row) {
    if (v.is_null()) {
      out->push_back(std::numeric_limits<float>::quiet_NaN());
    } else if (v.is_number()) {
      out->push_back(v.get<float>());
    } else {
      return InvalidArgumentError(where + "values must be numbers or null");
    }
  }
  return OkStatus();
}

}  // namespace

Result<std::vector<float>> WarmupRows(const WarmupConfig& warmup, const std::string& model_dir,
                                      int64_t num_features) {
  if (warmup.random_rows > 0) return RandomRows(warmup.random_rows, num_features);
  const std::string file = model_dir + "/" + warmup.rows_file;
  ASSIGN_OR_RETURN(std::string text, ReadSmallFile(file, kMaxRowsFileBytes));
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_array() || doc.empty()) {
    return InvalidArgumentError(file + ": must be a non-empty JSON array of rows");
  }
  std::vector<float> rows;
  for (size_t i = 0; i < doc.size(); ++i) {
    RETURN_IF_ERROR(AppendRow(doc[i], i, num_features, file, &rows));
  }
  return rows;
}

Status RunWarmup(const Model& model, const WarmupConfig& warmup, OutputKind kind,
                 const std::vector<float>& rows, const std::string& label) {
  const size_t width = static_cast<size_t>(model.num_features());
  const size_t num_rows = width == 0 ? 0 : rows.size() / width;
  const size_t out_width = static_cast<size_t>(model.OutputWidth(kind));
  if (num_rows == 0) return InvalidArgumentError(label + ": warm-up has no rows");
  std::vector<float> x, out;
  for (int batch : warmup.batch_sizes) {
    const size_t n = static_cast<size_t>(batch);
    x.resize(n * width);
    for (size_t r = 0; r < n; ++r) {
      std::copy_n(rows.begin() + static_cast<ptrdiff_t>((r % num_rows) * width), width,
                  x.begin() + static_cast<ptrdiff_t>(r * width));
    }
    out.assign(n * out_width, 0.0f);
    Status st = model.Predict(x.data(), n, kind, out.data());
    std::string what = label + ": warm-up batch of " + std::to_string(n) + " rows";
    if (!st.ok()) return Status(st.code(), what + " failed: " + st.message());
    for (float v : out) {
      if (!std::isfinite(v)) return InternalError(what + " produced a non-finite output");
    }
  }
  return OkStatus();
}

}  // namespace hotpath::repository_internal
