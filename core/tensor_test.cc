#include "core/tensor.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace hotpath {
namespace {

TEST(TensorTest, ShapeAndAlignment) {
  Tensor t(DType::kFp32, {3, 5});
  EXPECT_EQ(t.num_elements(), 15);
  EXPECT_EQ(t.num_bytes(), 60u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw()) % 64, 0u);
  for (int i = 0; i < 15; ++i) EXPECT_EQ(t.data<float>()[i], 0.0f);
  t.data<float>()[14] = 2.5f;
  Tensor moved = std::move(t);
  EXPECT_EQ(moved.data<float>()[14], 2.5f);
}

TEST(TensorTest, DTypeNamesRoundTrip) {
  for (DType d : {DType::kFp32, DType::kFp64, DType::kInt8, DType::kInt32, DType::kInt64,
                  DType::kUint8, DType::kBool}) {
    auto parsed = ParseDType(DTypeName(d));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, d);
  }
  auto bad = ParseDType("FP17");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("FP17"), std::string::npos);
}

TEST(TensorTest, EmptyShapeIsScalar) { EXPECT_EQ(NumElements({}), 1); }

}  // namespace
}  // namespace hotpath
