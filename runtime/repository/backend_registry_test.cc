#include "runtime/repository/backend_registry.h"

#include <gtest/gtest.h>

namespace hotpath {
namespace {

TEST(BackendRegistryTest, BuiltinsAndLookup) {
  BackendRegistry r = BackendRegistry::WithBuiltins();
  EXPECT_EQ(r.Names(), std::vector<std::string>({"lightgbm", "tree", "xgboost"}));
  EXPECT_TRUE(r.Find("xgboost").ok());
  Result<const BackendFactory*> missing = r.Find("onnx");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            "unknown backend 'onnx' (registered: lightgbm, tree, xgboost)");
}

TEST(BackendRegistryTest, RegisterRefusesDuplicatesAndEmpty) {
  BackendRegistry r;
  BackendFactory f = [](const BackendLoadRequest&) -> Result<std::unique_ptr<Model>> {
    return UnimplementedError("test");
  };
  EXPECT_TRUE(r.Register("onnx", f).ok());
  EXPECT_EQ(r.Register("onnx", f).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(r.Register("", f).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.Register("torch", nullptr).code(), StatusCode::kInvalidArgument);
}

TEST(BackendRegistryTest, MissingArtifactNamesFolder) {
  BackendRegistry r = BackendRegistry::WithBuiltins();
  ModelConfig config;
  config.backend = "tree";
  Result<std::unique_ptr<Model>> m = (**r.Find("tree"))({config, "/nonexistent/m/1"});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(m.status().message(),
            "/nonexistent/m/1: no model artifact (looked for model.json, model.ubj, model.txt)");
}

}  // namespace
}  // namespace hotpath
