#include "serve/grpc/internal/codec.h"

#include <google/protobuf/stubs/logging.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace hotpath::grpc_internal {
namespace {

inference::ModelInferRequest Request() {
  inference::ModelInferRequest r;
  r.set_model_name("m");
  r.set_id("x");
  auto* t = r.add_inputs();
  t->set_name("input");
  t->set_datatype("FP32");
  t->add_shape(2);
  t->add_shape(3);
  for (int i = 0; i < 6; ++i) t->mutable_contents()->add_fp32_contents(i * 0.5f);
  return r;
}

TEST(GrpcCodecTest, DecodesContentsAndRaw) {
  InferRequest out;
  ASSERT_TRUE(DecodeInferRequest(Request(), &out).ok());
  ASSERT_EQ(out.inputs.size(), 1u);
  EXPECT_EQ(out.inputs[0].shape, (Shape{2, 3}));
  EXPECT_EQ(out.inputs[0].as<float>()[5], 2.5f);
  inference::ModelInferRequest raw = Request();
  raw.mutable_inputs(0)->clear_contents();
  float v[6] = {1, 2, 3, 4, 5, 6};
  raw.add_raw_input_contents(reinterpret_cast<const char*>(v), sizeof(v));
  ASSERT_TRUE(DecodeInferRequest(raw, &out).ok());
  EXPECT_EQ(std::memcmp(out.inputs[0].data.data(), v, sizeof(v)), 0);
}

void ExpectInvalid(const inference::ModelInferRequest& r, const std::string& message) {
  InferRequest out;
  Status s = DecodeInferRequest(r, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), message);
}

TEST(GrpcCodecTest, BadRequestsNameTheField) {
  auto r = Request();
  r.set_model_name("");
  ExpectInvalid(r, "model_name is empty");
  r = Request();
  r.mutable_inputs(0)->set_datatype("FP16X");
  ExpectInvalid(r, "input 'input': unknown datatype 'FP16X'");
  r = Request();
  r.mutable_inputs(0)->set_shape(0, -1);
  ExpectInvalid(r, "input 'input': shape has a negative dimension");
  r = Request();
  r.mutable_inputs(0)->mutable_contents()->mutable_fp32_contents()->RemoveLast();
  ExpectInvalid(r, "input 'input': contents.fp32_contents has 5 elements, shape needs 6");
  r = Request();
  r.mutable_inputs(0)->set_shape(0, int64_t{1} << 40);
  ExpectInvalid(r, "input 'input': tensor is too large");
  r = Request();
  r.add_raw_input_contents("abc");
  ExpectInvalid(r, "input 'input': raw_input_contents has 3 bytes, shape and datatype need 24");
  r = Request();
  (*r.mutable_parameters())["priority"].set_string_param("high");
  ExpectInvalid(r, "parameter 'priority' must be a non-negative int64");
}

// Random bytes parsed as a request (when protobuf accepts them) must decode
// to a request or an error, never crash.
TEST(GrpcCodecTest, FuzzedMessagesNeverCrash) {
  google::protobuf::LogSilencer quiet;  // mutated strings are invalid UTF-8
  std::mt19937_64 rng(5);
  const std::string seed = Request().SerializeAsString();
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = seed;
    for (int k = 0; k < 4; ++k) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    if (rng() % 4 == 0) bytes.resize(rng() % bytes.size());
    inference::ModelInferRequest r;
    if (!r.ParseFromString(bytes)) continue;
    InferRequest out;
    Status s = DecodeInferRequest(r, &out);
    if (s.ok()) {
      for (const auto& t : out.inputs) EXPECT_EQ(t.data.size(), NumElements(t.shape) * DTypeSize(t.dtype));
    }
  }
}

}  // namespace
}  // namespace hotpath::grpc_internal
