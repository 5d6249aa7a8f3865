// The gRPC front end to end, checked with an independent Python client
// (python3-grpcio + protoc-generated messages from the public .proto):
// outputs against XGBoost's own predictions, errors against their codes.
#include "serve/grpc/grpc_server.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "runtime/tree/testing/xgboost_trainer.h"
#include "runtime/tree/tree_model.h"
#include "serve/model_map_service.h"

namespace hotpath {
namespace {

std::string RunClient(int port, const std::string& rows_path) {
  const std::string cmd = std::string("/usr/bin/python3 ") + HOTPATH_GRPC_CLIENT + " " + HOTPATH_GRPC_PY_DIR + " " +
                          std::to_string(port) + " risk " + rows_path + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while (p && (n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  if (p) pclose(p);
  return out;
}

TEST(GrpcServerTest, IndependentClientGetsXGBoostsPredictions) {
  if (std::system("/usr/bin/python3 -c 'import grpc' 2>/dev/null") != 0) GTEST_SKIP() << "Debian python3-grpcio missing";
  const auto dir = std::filesystem::temp_directory_path() / ("hotpath_grpc_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  testing::Dataset d;
  d.rows = 400;
  d.cols = 6;
  std::mt19937_64 rng(3);
  std::normal_distribution<float> n(0, 1);
  for (size_t i = 0; i < d.rows * d.cols; ++i) d.x.push_back(n(rng));
  for (size_t r = 0; r < d.rows; ++r) d.label.push_back(d.x[r * 6] + d.x[r * 6 + 1] > 0);
  auto booster = testing::XGBoostBooster::Train(d, {{"objective", "binary:logistic"}, {"max_depth", "4"}}, 30);
  ASSERT_TRUE(booster.ok());
  ASSERT_TRUE(booster->Save((dir / "m.json").string()).ok());
  auto model = TreeModel::Load((dir / "m.json").string(), {});
  ASSERT_TRUE(model.ok());

  ModelMapService::Options o;
  ModelMapService::Entry e;
  e.name = "risk";
  e.model = std::shared_ptr<const Model>(std::move(*model));
  o.models.push_back(e);
  auto service = ModelMapService::Create(o);
  ASSERT_TRUE(service.ok()) << service.status().ToString();
  GrpcServer::Options go;
  go.address = "127.0.0.1";
  go.port = 0;
  auto server = GrpcServer::Start(go, service->get(), nullptr);
  ASSERT_TRUE(server.ok()) << server.status().ToString();

  const size_t rows = 5;
  nlohmann::json j = nlohmann::json::array();
  for (size_t r = 0; r < rows; ++r) {
    j.push_back(std::vector<float>(d.x.begin() + r * 6, d.x.begin() + (r + 1) * 6));
  }
  std::ofstream(dir / "rows.json") << j.dump();
  const std::string text = RunClient((*server)->port(), (dir / "rows.json").string());
  std::filesystem::remove_all(dir);
  auto out = nlohmann::json::parse(text, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << text;
  EXPECT_TRUE(out["live"].get<bool>());
  EXPECT_TRUE(out["ready"].get<bool>());
  EXPECT_TRUE(out["model_ready"].get<bool>());
  EXPECT_EQ(out["inputs"][0]["datatype"], "FP32");
  auto want = booster->Predict(d.x.data(), rows, 6, testing::XGBoostBooster::Kind::kValue);
  ASSERT_TRUE(want.ok());
  for (const char* mode : {"infer_raw", "infer_contents"}) {
    const auto& r = out[mode];
    ASSERT_EQ(r["status"], "OK") << mode << ": " << r.dump();
    EXPECT_EQ(r["id"], "req-1");
    ASSERT_EQ(r["values"].size(), rows);
    for (size_t i = 0; i < rows; ++i) EXPECT_NEAR(r["values"][i].get<double>(), (*want)[i], 1e-6);
  }
  const auto& err = out["errors"];
  EXPECT_EQ(err["unknown_model"].get<std::string>().rfind("NOT_FOUND", 0), 0u) << err.dump();
  EXPECT_EQ(err["unknown_model_ready"].get<std::string>().rfind("NOT_FOUND", 0), 0u);
  EXPECT_EQ(err["short_contents"].get<std::string>().rfind("INVALID_ARGUMENT", 0), 0u);
  EXPECT_EQ(err["wrong_width"].get<std::string>().rfind("INVALID_ARGUMENT", 0), 0u);
  EXPECT_EQ(err["repository_index"].get<std::string>().rfind("UNIMPLEMENTED", 0), 0u);
}

}  // namespace
}  // namespace hotpath
