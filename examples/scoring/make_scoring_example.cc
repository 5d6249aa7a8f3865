// Produces the offline-scoring example: a card-transaction risk model
// (XGBoost, binary:logistic, trained here through the XGBoost C API on
// synthetic traffic) and a CSV of fresh transactions to score.
//
//   make_scoring_example OUT_DIR   -> OUT_DIR/model.json, OUT_DIR/rows.csv
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "runtime/tree/testing/xgboost_trainer.h"

namespace {

constexpr const char* kColumns[] = {"amount", "log_amount", "hour", "is_weekend", "txn_count_1h",
                                    "txn_count_24h", "amount_mean_24h", "amount_ratio_24h",
                                    "new_device", "new_country", "merchant_risk", "card_age_days"};
constexpr int kFeatures = 12;

// One synthetic transaction and whether it is fraud; some history is missing.
void Transaction(std::mt19937_64& rng, float* x, float* label) {
  std::uniform_real_distribution<float> u(0, 1);
  std::lognormal_distribution<float> amount(3.5f, 1.0f);
  const bool fraud = u(rng) < 0.03f;
  const float a = fraud && u(rng) < 0.6f ? amount(rng) * 6 : amount(rng);
  const float mean24 = amount(rng);
  x[0] = a;
  x[1] = std::log1p(a);
  x[2] = std::floor(fraud ? u(rng) * 6 : u(rng) * 24);
  x[3] = u(rng) < 2.0f / 7 ? 1 : 0;
  x[4] = std::floor(fraud ? 2 + u(rng) * 8 : u(rng) * 3);
  x[5] = x[4] + std::floor(u(rng) * 10);
  x[6] = u(rng) < 0.1f ? NAN : mean24;
  x[7] = std::isnan(x[6]) ? NAN : a / (mean24 + 1);
  x[8] = (fraud ? u(rng) < 0.5f : u(rng) < 0.05f) ? 1 : 0;
  x[9] = (fraud ? u(rng) < 0.3f : u(rng) < 0.02f) ? 1 : 0;
  x[10] = u(rng);
  x[11] = u(rng) < 0.05f ? NAN : std::floor(u(rng) * 2000);
  *label = fraud ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_scoring_example OUT_DIR\n");
    return 2;
  }
  const std::filesystem::path out(argv[1]);
  std::filesystem::create_directories(out);
  std::mt19937_64 rng(2026);
  hotpath::testing::Dataset d;
  d.rows = 50000;
  d.cols = kFeatures;
  d.x.resize(d.rows * kFeatures);
  d.label.resize(d.rows);
  for (size_t r = 0; r < d.rows; ++r) Transaction(rng, &d.x[r * kFeatures], &d.label[r]);
  std::fprintf(stderr, "make_scoring_example: training 200 trees on %zu transactions...\n", d.rows);
  auto booster = hotpath::testing::XGBoostBooster::Train(
      d, {{"objective", "binary:logistic"}, {"max_depth", "6"}, {"eta", "0.1"}, {"tree_method", "hist"}},
      200);
  if (!booster.ok() || !booster->Save((out / "model.json").string()).ok()) {
    std::fprintf(stderr, "make_scoring_example: training failed\n");
    return 1;
  }
  std::ofstream csv(out / "rows.csv");
  for (int f = 0; f < kFeatures; ++f) csv << (f ? "," : "") << kColumns[f];
  csv << "\n";
  for (int r = 0; r < 10000; ++r) {
    float x[kFeatures], y;
    Transaction(rng, x, &y);
    for (int f = 0; f < kFeatures; ++f) {
      csv << (f ? "," : "");
      if (!std::isnan(x[f])) csv << x[f];
    }
    csv << "\n";
  }
  std::fprintf(stderr, "make_scoring_example: wrote %s/model.json and rows.csv\n", out.c_str());
  return 0;
}
