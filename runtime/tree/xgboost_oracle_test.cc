// The tree engine against the real XGBoost library (libxgboost C API) as the
// oracle: models trained here with varied objectives, depths, sizes, missing
// values and categorical features; fresh random rows; margins must be
// bit-identical, outputs within 1e-6 and contributions within 1e-5.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "runtime/tree/testing/xgboost_trainer.h"
#include "runtime/tree/tree_model.h"

namespace hotpath {
namespace {

using testing::Dataset;
using testing::XGBoostBooster;

struct Case {
  std::string name;
  std::string objective;
  int depth;
  int rounds;
  int features;
  double nan_fraction = 0.0;
  int categorical = 0;  // number of categorical columns (first ones)
  int num_class = 0;
  std::map<std::string, std::string> extra = {};
  bool ubjson = false;
  int train_rows = 1500;
};

constexpr int kCategories = 12;

// Random rows: normal features, NaN with probability nan_fraction, integer
// categories in the first `categorical` columns (a few unseen ones too).
std::vector<float> RandomRows(const Case& c, size_t rows, std::mt19937_64* rng, bool unseen_cats) {
  std::normal_distribution<float> normal(0.0f, 1.5f);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::uniform_int_distribution<int> cat(0, unseen_cats ? kCategories + 6 : kCategories - 1);
  std::vector<float> x(rows * c.features);
  for (size_t r = 0; r < rows; ++r) {
    for (int f = 0; f < c.features; ++f) {
      float v = f < c.categorical ? static_cast<float>(cat(*rng)) : normal(*rng);
      if (u(*rng) < c.nan_fraction) v = NAN;
      x[r * c.features + f] = v;
    }
  }
  return x;
}

Dataset MakeTrainingSet(const Case& c, std::mt19937_64* rng) {
  Dataset d;
  d.rows = c.train_rows;
  d.cols = c.features;
  d.x = RandomRows(c, d.rows, rng, /*unseen_cats=*/false);
  std::normal_distribution<float> noise(0.0f, 0.3f);
  for (size_t r = 0; r < d.rows; ++r) {
    const float* row = &d.x[r * d.cols];
    auto v = [&](int f) { float x = row[f % c.features]; return std::isnan(x) ? 0.0f : x; };
    float s = v(0) * 0.8f + std::sin(v(1) * 2.0f) + 0.5f * v(2) * v(3 % c.features) + noise(*rng);
    if (c.categorical > 0) s += (static_cast<int>(v(0)) % 3 == 0) ? 1.5f : -0.5f;
    float y;
    if (c.objective == "binary:logistic") {
      y = s > 0.3f ? 1.0f : 0.0f;
    } else if (c.objective == "reg:logistic") {
      y = 1.0f / (1.0f + std::exp(-s));
    } else if (c.objective == "count:poisson") {
      y = std::floor(std::exp(0.5f * s) + 0.5f);
    } else if (c.num_class > 0) {
      y = static_cast<float>(static_cast<int>(std::fabs(s) * 2.0f) % c.num_class);
    } else if (c.objective.rfind("rank:", 0) == 0) {
      y = static_cast<float>(std::clamp(static_cast<int>(s + 2.0f), 0, 4));
    } else {
      y = s;
    }
    d.label.push_back(y);
  }
  if (c.objective.rfind("rank:", 0) == 0) {
    d.group_sizes.assign(d.rows / 30, 30);
    d.group_sizes.back() += d.rows % 30;
  }
  if (c.categorical > 0) {
    d.categorical.assign(d.cols, false);
    for (int f = 0; f < c.categorical; ++f) d.categorical[f] = true;
  }
  return d;
}

std::vector<Case> Cases() {
  return {
      {"binary_d6_t100_nan", "binary:logistic", 6, 100, 32, 0.1},
      {"binary_stump", "binary:logistic", 1, 1, 1},
      {"regression_d12", "reg:squarederror", 12, 50, 20, 0.2, 0, 0, {}, false, 4000},
      {"regression_1000_trees", "reg:squarederror", 3, 1000, 8, 0.0, 0, 0, {}, false, 600},
      {"reg_logistic", "reg:logistic", 4, 30, 10},
      {"poisson", "count:poisson", 5, 80, 12, 0.05},
      {"softprob3_nan", "multi:softprob", 4, 40, 16, 0.15, 0, 3},
      {"softmax5", "multi:softmax", 3, 20, 8, 0.0, 0, 5},
      {"rank_pairwise", "rank:pairwise", 5, 50, 10},
      {"rank_ndcg", "rank:ndcg", 4, 40, 10, 0.1},
      {"binary_categorical", "binary:logistic", 5, 50, 10, 0.05, 3, 0, {{"tree_method", "hist"}, {"max_cat_to_onehot", "1"}}},
      {"softprob_categorical", "multi:softprob", 4, 30, 8, 0.0, 2, 4, {{"tree_method", "hist"}}},
      {"onehot_categorical", "reg:squarederror", 3, 40, 6, 0.1, 2, 0, {{"tree_method", "hist"}, {"max_cat_to_onehot", "64"}}},
      {"wide_500_features", "reg:squarederror", 6, 20, 500, 0.3, 0, 0, {{"tree_method", "hist"}}, false, 800},
      {"base_score_0_3", "binary:logistic", 6, 60, 16, 0.0, 0, 0, {{"base_score", "0.3"}}},
      {"exact_d8", "reg:squarederror", 8, 200, 30, 0.0, 0, 0, {{"tree_method", "exact"}}},
      {"binary_d10_hist", "binary:logistic", 10, 100, 40, 0.1, 0, 0, {{"tree_method", "hist"}}},
      {"poisson_d2_300", "count:poisson", 2, 300, 6},
      {"bench_like", "binary:logistic", 6, 500, 32, 0.0, 0, 0, {}, false, 3000},
      {"lossguide", "reg:squarederror", 12, 60, 16, 0.1, 0, 0, {{"tree_method", "hist"}, {"grow_policy", "lossguide"}, {"max_leaves", "64"}}},
      {"heavy_missing", "binary:logistic", 7, 150, 20, 0.5},
      {"forest_softprob10", "multi:softprob", 6, 10, 12, 0.0, 0, 10, {{"num_parallel_tree", "2"}, {"subsample", "0.8"}, {"colsample_bynode", "0.8"}}},
      {"ubjson_binary", "binary:logistic", 6, 40, 16, 0.1, 0, 0, {}, true},
      {"ubjson_categorical", "reg:squarederror", 5, 30, 8, 0.0, 3, 0, {{"tree_method", "hist"}}, true},
  };
}

class XGBoostOracleTest : public ::testing::TestWithParam<Case> {};

void ExpectClose(const std::vector<float>& want, const float* got, double tol, const char* what) {
  size_t bad = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double w = want[i], g = got[i];
    if (!(std::fabs(w - g) <= tol * std::max(1.0, std::fabs(w)))) {
      if (++bad <= 5) ADD_FAILURE() << what << "[" << i << "]: xgboost " << w << " hotpath " << g;
    }
  }
  EXPECT_EQ(bad, 0u) << what;
}

TEST_P(XGBoostOracleTest, MatchesXGBoost) {
  const Case& c = GetParam();
  std::mt19937_64 rng(std::hash<std::string>()(c.name));
  Dataset train = MakeTrainingSet(c, &rng);
  std::map<std::string, std::string> params = {{"objective", c.objective},
                                               {"max_depth", std::to_string(c.depth)},
                                               {"eta", "0.3"},
                                               {"seed", "7"}};
  if (c.num_class > 0) params["num_class"] = std::to_string(c.num_class);
  for (const auto& [k, v] : c.extra) params[k] = v;
  auto booster = XGBoostBooster::Train(train, params, c.rounds);
  ASSERT_TRUE(booster.ok()) << booster.status().ToString();

  const std::string path = (std::filesystem::temp_directory_path() /
                            ("hotpath_" + c.name + (c.ubjson ? ".ubj" : ".json"))).string();
  ASSERT_TRUE(booster->Save(path).ok());
  TreeModel::Options opts;
  auto model = TreeModel::Load(path, opts);
  TreeModel::Options scalar_opts;
  scalar_opts.allow_simd = false;
  auto scalar = TreeModel::Load(path, scalar_opts);
  if (model.ok()) std::filesystem::remove(path);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  ASSERT_TRUE(scalar.ok());
  ASSERT_EQ((*model)->num_features(), c.features);

  const size_t rows = 400;
  std::vector<float> x = RandomRows(c, rows, &rng, /*unseen_cats=*/c.categorical > 0);
  const auto& cats = train.categorical;
  auto margin = booster->Predict(x.data(), rows, c.features, XGBoostBooster::Kind::kMargin, cats);
  auto value = booster->Predict(x.data(), rows, c.features, XGBoostBooster::Kind::kValue, cats);
  auto contribs = booster->Predict(x.data(), rows, c.features, XGBoostBooster::Kind::kContributions, cats);
  ASSERT_TRUE(margin.ok() && value.ok() && contribs.ok());

  std::vector<float> out(rows * (*model)->OutputWidth(OutputKind::kContributions));
  ASSERT_EQ(margin->size(), rows * (*model)->OutputWidth(OutputKind::kMargin));
  ASSERT_TRUE((*model)->Predict(x.data(), rows, OutputKind::kMargin, out.data()).ok());
  size_t differ = 0;
  for (size_t i = 0; i < margin->size(); ++i) {
    if (std::memcmp(&(*margin)[i], &out[i], sizeof(float)) != 0 && ++differ <= 5) {
      ADD_FAILURE() << "margin[" << i << "]: xgboost " << (*margin)[i] << " hotpath " << out[i];
    }
  }
  EXPECT_EQ(differ, 0u) << "margins must be bit-identical (" << (*model)->kernel_name() << ")";
  // The scalar kernels too, whichever kernel the model picked above; odd
  // batch sizes exercise the SIMD blocks and their single-row tail.
  std::vector<float> scalar_out(margin->size());
  ASSERT_TRUE((*scalar)->Predict(x.data(), rows, OutputKind::kMargin, scalar_out.data()).ok());
  EXPECT_EQ(0, std::memcmp(scalar_out.data(), margin->data(), margin->size() * sizeof(float)))
      << "scalar kernel margins differ from XGBoost";
  const size_t groups = static_cast<size_t>((*model)->num_groups());
  for (size_t batch : {1u, 17u, 77u}) {
    ASSERT_TRUE((*model)->Predict(x.data(), batch, OutputKind::kMargin, out.data()).ok());
    EXPECT_EQ(0, std::memcmp(out.data(), margin->data(), batch * groups * sizeof(float))) << "batch " << batch;
  }

  ASSERT_EQ(value->size(), rows * (*model)->OutputWidth(OutputKind::kValue));
  ASSERT_TRUE((*model)->Predict(x.data(), rows, OutputKind::kValue, out.data()).ok());
  ExpectClose(*value, out.data(), 1e-6, "value");

  ASSERT_EQ(contribs->size(), rows * (*model)->OutputWidth(OutputKind::kContributions));
  ASSERT_TRUE((*model)->Predict(x.data(), rows, OutputKind::kContributions, out.data()).ok());
  ExpectClose(*contribs, out.data(), 1e-5, "contribution");

  auto approx = booster->Predict(x.data(), rows, c.features, XGBoostBooster::Kind::kApproxContributions, cats);
  ASSERT_TRUE(approx.ok());
  ASSERT_TRUE((*model)->Predict(x.data(), rows, OutputKind::kApproxContributions, out.data()).ok());
  ExpectClose(*approx, out.data(), 1e-5, "approximate contribution");
}

INSTANTIATE_TEST_SUITE_P(Models, XGBoostOracleTest, ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return info.param.name; });

// Models of the binned kernel's shape take it on CPUs with AVX-512 VBMI, with
// byte bins (the histogram method's default max_bin 256) or word bins (more
// cuts: max_bin 1024, the exact method), and every row scored alone gives
// XGBoost's margin bits; 65 features keep the 16-lane kernel.
TEST(BinnedKernelTest, ModelsMatchXGBoostRowByRow) {
  __builtin_cpu_init();
  const bool vbmi = __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512bw");
  const std::map<std::string, std::string> hist = {{"tree_method", "hist"}};
  const std::map<std::string, std::string> hist1024 = {{"tree_method", "hist"}, {"max_bin", "1024"}};
  const std::map<std::string, std::string> exact = {{"tree_method", "exact"}};
  struct Expect { Case c; const char* kernel; };
  const Expect cases[] = {
      {{"hist_bench_shape", "binary:logistic", 6, 300, 32, 0.05, 0, 0, hist, false, 6000}, "avx512-binned8"},
      {{"hist_64_features", "reg:squarederror", 5, 80, 64, 0.2, 0, 0, hist, false, 3000}, "avx512-binned8"},
      {{"hist_softprob4", "multi:softprob", 6, 30, 24, 0.1, 0, 4, hist, false, 3000}, "avx512-binned8"},
      {{"hist_max_bin_1024", "reg:squarederror", 6, 100, 4, 0.1, 0, 0, hist1024, false, 6000}, "avx512-binned16"},
      {{"exact_bench_shape", "binary:logistic", 6, 200, 32, 0.05, 0, 0, exact, false, 4000}, "avx512-binned16"},
      {{"hist_65_features", "reg:squarederror", 4, 30, 65, 0.1, 0, 0, hist, false, 2000}, "avx512"},
  };
  for (const Expect& want : cases) {
    const Case& c = want.c;
    SCOPED_TRACE(c.name);
    std::mt19937_64 rng(std::hash<std::string>()(c.name));
    std::map<std::string, std::string> params = {{"objective", c.objective}, {"max_depth", std::to_string(c.depth)}};
    if (c.num_class > 0) params["num_class"] = std::to_string(c.num_class);
    params.insert(c.extra.begin(), c.extra.end());
    auto booster = XGBoostBooster::Train(MakeTrainingSet(c, &rng), params, c.rounds);
    ASSERT_TRUE(booster.ok()) << booster.status().ToString();
    const std::string path = (std::filesystem::temp_directory_path() / ("hotpath_" + c.name + ".json")).string();
    ASSERT_TRUE(booster->Save(path).ok());
    auto model = TreeModel::Load(path, {});
    std::filesystem::remove(path);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    if (vbmi) {
      EXPECT_STREQ((*model)->kernel_name(), want.kernel);
    }
    const size_t rows = 500, groups = static_cast<size_t>((*model)->num_groups());
    std::vector<float> x = RandomRows(c, rows, &rng, false);
    for (size_t i = 0; i < rows * c.features; i += 97) x[i] = 0.0f;  // some values on cuts' neighbours
    auto margin = booster->Predict(x.data(), rows, c.features, XGBoostBooster::Kind::kMargin);
    ASSERT_TRUE(margin.ok());
    std::vector<float> out(groups);
    size_t differ = 0;
    for (size_t r = 0; r < rows; ++r) {
      ASSERT_TRUE((*model)->Predict(&x[r * c.features], 1, OutputKind::kMargin, out.data()).ok());
      differ += std::memcmp(out.data(), &(*margin)[r * groups], groups * sizeof(float)) != 0;
    }
    EXPECT_EQ(differ, 0u) << "rows whose margins differ from XGBoost's";
  }
}

// Single rows, batches and several threads give the same bits.
TEST(TreeModelThreadsTest, ThreadsAndBatchSizesAgree) {
  Case c{"threads", "multi:softprob", 6, 30, 20, 0.1, 0, 3};
  std::mt19937_64 rng(11);
  Dataset train = MakeTrainingSet(c, &rng);
  auto booster = XGBoostBooster::Train(train, {{"objective", c.objective}, {"max_depth", "6"}, {"num_class", "3"}}, c.rounds);
  ASSERT_TRUE(booster.ok());
  const std::string path = (std::filesystem::temp_directory_path() / "hotpath_threads.json").string();
  ASSERT_TRUE(booster->Save(path).ok());
  TreeModel::Options one;
  TreeModel::Options four;
  four.num_threads = 4;
  four.min_rows_per_thread = 16;
  auto m1 = TreeModel::Load(path, one);
  auto m4 = TreeModel::Load(path, four);
  std::filesystem::remove(path);
  ASSERT_TRUE(m1.ok() && m4.ok());
  const size_t rows = 3000;
  std::vector<float> x = RandomRows(c, rows, &rng, false);
  std::vector<float> a(rows * 3), b(rows * 3), single(3);
  ASSERT_TRUE((*m1)->Predict(x.data(), rows, OutputKind::kValue, a.data()).ok());
  ASSERT_TRUE((*m4)->Predict(x.data(), rows, OutputKind::kValue, b.data()).ok());
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)));
  for (size_t r = 0; r < rows; r += 97) {
    ASSERT_TRUE((*m1)->Predict(&x[r * 20], 1, OutputKind::kValue, single.data()).ok());
    EXPECT_EQ(0, std::memcmp(single.data(), &a[r * 3], 3 * sizeof(float))) << "row " << r;
  }
}

}  // namespace
}  // namespace hotpath
