// KServe v2 request decoding and response encoding against hand-checked
// bodies (the protocol's own examples, escapes, the binary extension).
#include "serve/internal/kserve_codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "serve/internal/json_reader.h"

namespace hotpath::serve_internal {
namespace {

std::vector<float> Floats(const InferTensor& t) {
  std::vector<float> v(t.data.size() / sizeof(float));
  std::memcpy(v.data(), t.data.data(), t.data.size());
  return v;
}

Status Decode(const std::string& body, InferRequest* req, InferWireOptions* wire,
              int64_t json_bytes = -1) {
  return DecodeInferRequest(body, json_bytes, req, wire);
}

TEST(KServeDecodeTest, FlatAndNestedDataGiveTheSameTensor) {
  InferRequest a, b;
  InferWireOptions wa, wb;
  ASSERT_TRUE(Decode(R"({"id":"r1","inputs":[{"name":"input","shape":[2,3],"datatype":"FP32",
      "data":[1,2.5,-3e2,0.1,null,6]}]})",
                     &a, &wa)
                  .ok());
  ASSERT_TRUE(Decode(R"({"inputs":[{"data":[[1,2.5,-3e2],[0.1,null,6]],"datatype":"FP32",
      "shape":[2,3],"name":"input"}]})",
                     &b, &wb)
                  .ok());
  ASSERT_EQ(a.inputs.size(), 1u);
  EXPECT_EQ(a.inputs[0].name, "input");
  EXPECT_EQ(a.inputs[0].shape, (Shape{2, 3}));
  const std::vector<float> fa = Floats(a.inputs[0]), fb = Floats(b.inputs[0]);
  ASSERT_EQ(fa.size(), 6u);
  EXPECT_EQ(fa[0], 1.0f);
  EXPECT_EQ(fa[2], -300.0f);
  EXPECT_EQ(fa[3], 0.1f);  // correctly rounded
  EXPECT_TRUE(std::isnan(fa[4]));
  for (size_t i = 0; i < 6; ++i) {
    if (i != 4) {
      EXPECT_EQ(fa[i], fb[i]) << i;
    }
  }
  EXPECT_TRUE(wa.has_id);
  EXPECT_EQ(wa.id, "r1");
  EXPECT_FALSE(wb.has_id);
}

TEST(KServeDecodeTest, IntegerAndBoolTypes) {
  InferRequest r;
  InferWireOptions w;
  ASSERT_TRUE(Decode(R"({"inputs":[{"name":"a","shape":[3],"datatype":"INT8","data":[-128,0,127]},
      {"name":"b","shape":[2],"datatype":"BOOL","data":[true,false]},
      {"name":"c","shape":[1],"datatype":"INT64","data":[-9223372036854775808]}]})",
                     &r, &w)
                  .ok());
  ASSERT_EQ(r.inputs.size(), 3u);
  EXPECT_EQ(r.inputs[0].as<int8_t>()[0], -128);
  EXPECT_EQ(r.inputs[0].as<int8_t>()[2], 127);
  EXPECT_EQ(r.inputs[1].data[0], std::byte{1});
  EXPECT_EQ(r.inputs[1].data[1], std::byte{0});
  EXPECT_EQ(r.inputs[2].as<int64_t>()[0], INT64_MIN);
}

TEST(KServeDecodeTest, OutputsAndParameters) {
  InferRequest r;
  InferWireOptions w;
  ASSERT_TRUE(Decode(R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}],
      "parameters":{"binary_data_output":true,"priority":2,"timeout":1500,"other":{"a":[1]}},
      "outputs":[{"name":"o1","parameters":{"binary_data":true}},{"name":"o2"}]})",
                     &r, &w)
                  .ok());
  EXPECT_TRUE(w.binary_output_all);
  EXPECT_EQ(r.priority, 2);
  EXPECT_EQ(r.timeout, std::chrono::microseconds(1500));
  ASSERT_EQ(r.requested_outputs, (std::vector<std::string>{"o1", "o2"}));
  EXPECT_EQ(w.binary_outputs, (std::vector<uint8_t>{1, 0}));
}

TEST(KServeDecodeTest, BinaryExtension) {
  const std::string json =
      R"({"inputs":[{"name":"a","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":8}},)"
      R"({"name":"b","shape":[1],"datatype":"INT32","data":[7]}]})";
  const float vals[2] = {1.5f, NAN};
  std::string body = json + std::string(reinterpret_cast<const char*>(vals), 8);
  InferRequest r;
  InferWireOptions w;
  ASSERT_TRUE(Decode(body, &r, &w, static_cast<int64_t>(json.size())).ok());
  EXPECT_EQ(Floats(r.inputs[0])[0], 1.5f);
  EXPECT_TRUE(std::isnan(Floats(r.inputs[0])[1]));
  EXPECT_EQ(r.inputs[1].as<int32_t>()[0], 7);
  // One byte short, one byte extra.
  Status st = Decode(body.substr(0, body.size() - 1), &r, &w, static_cast<int64_t>(json.size()));
  EXPECT_NE(st.message().find("binary_data_size"), std::string::npos) << st.message();
  st = Decode(body + "x", &r, &w, static_cast<int64_t>(json.size()));
  EXPECT_NE(st.message().find("binary section"), std::string::npos) << st.message();
}

struct BadCase {
  const char* body;
  const char* must_mention;
};

class KServeDecodeErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(KServeDecodeErrorTest, NamesTheField) {
  InferRequest r;
  InferWireOptions w;
  const Status st = Decode(GetParam().body, &r, &w);
  ASSERT_FALSE(st.ok()) << GetParam().body;
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find(GetParam().must_mention), std::string::npos) << st.message();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, KServeDecodeErrorTest,
    ::testing::Values(
        BadCase{R"({"inputs":[)", "malformed JSON"},
        BadCase{R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}]} x)",
                "trailing"},
        BadCase{R"({"inputs":[]})", "inputs: at least one"},
        // Found by libFuzzer: an escaped unknown key, then a bad value with escapes.
        BadCase{
            R"({"inputs":[{"na\u006de2":["\u0041\u0042\u0043\u0044\u0045\u0046\u0047\u0048\u0049\u0050\u0051\u0052\u0053\u0054\u0055\u0056",}]})",
            "inputs[0]"},
        BadCase{R"({"id":"a"})", "inputs: required"},
        BadCase{R"({"inputs":[{"name":"x","shape":[2],"datatype":"FP32","data":[1]}]})",
                "inputs[0].data: 1 values but shape [2] needs 2"},
        BadCase{R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP16","data":[1]}]})",
                "inputs[0].datatype: 'FP16'"},
        BadCase{R"({"inputs":[{"name":"x","shape":[1],"datatype":"INT8","data":[300]}]})",
                "inputs[0].data[0]: 300 is out of range for INT8"},
        BadCase{R"({"inputs":[{"name":"x","shape":[1],"datatype":"INT32","data":[1.5]}]})",
                "inputs[0].data[0]"},
        BadCase{R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":["a"]}]})",
                "inputs[0].data[0]"},
        BadCase{R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1e39]}]})",
                "out of FP32 range"},
        BadCase{R"({"inputs":[{"name":"x","shape":[-1],"datatype":"FP32","data":[1]}]})",
                "inputs[0].shape"},
        BadCase{R"({"inputs":[{"shape":[1],"datatype":"FP32","data":[1]}]})",
                "inputs[0].name: required"},
        BadCase{R"({"inputs":[{"name":"x","datatype":"FP32","data":[1]}]})",
                "inputs[0].shape: required"},
        BadCase{R"({"inputs":[{"name":"x","shape":[1],"data":[1]}]})",
                "inputs[0].datatype: required"},
        BadCase{R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32"}]})", "inputs[0].data"},
        BadCase{R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[01]}]})",
                "malformed JSON"},
        BadCase{R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[NaN]}]})",
                "inputs[0].data[0]"},
        BadCase{
            R"({"inputs":[{"name":"x","shape":[4000000000,4000000000],"datatype":"FP32","data":[1]}]})",
            "too many elements"},
        BadCase{
            R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}],"outputs":[{}]})",
            "outputs[0].name: required"},
        BadCase{R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}],)"
                R"("outputs":[{"name":"o","parameters":{"classification":2}}]})",
                "outputs[0].parameters.classification"}));

TEST(KServeEncodeTest, JsonAndBinaryOutputs) {
  InferRequest req;
  req.requested_outputs = {"p"};
  InferWireOptions wire;
  wire.has_id = true;
  wire.id = "q\"1";
  wire.binary_outputs = {0};
  InferResponse resp;
  resp.model_name = "m";
  resp.model_version = "3";
  resp.outputs.resize(1);
  resp.outputs[0].name = "p";
  resp.outputs[0].shape = {2, 1};
  const float v[2] = {0.25f, 0.1f};
  resp.outputs[0].data.resize(8);
  std::memcpy(resp.outputs[0].data.data(), v, 8);
  std::string body;
  const size_t all_json = EncodeInferResponse(req, resp, wire, &body);
  EXPECT_EQ(all_json, body.size());
  EXPECT_EQ(body, R"({"model_name":"m","model_version":"3","id":"q\"1","outputs":[{"name":"p",)"
                  R"("datatype":"FP32","shape":[2,1],"data":[0.25,0.1]}]})");
  wire.binary_outputs = {1};
  const size_t json_len = EncodeInferResponse(req, resp, wire, &body);
  EXPECT_EQ(body.substr(0, json_len),
            R"({"model_name":"m","model_version":"3","id":"q\"1","outputs":[{"name":"p",)"
            R"("datatype":"FP32","shape":[2,1],"parameters":{"binary_data_size":8}}]})");
  EXPECT_EQ(body.size(), json_len + 8);
  EXPECT_EQ(std::memcmp(body.data() + json_len, v, 8), 0);
}

TEST(KServeEncodeTest, ErrorsAndMetadata) {
  std::string body;
  EncodeError("bad \"x\"\n", &body);
  EXPECT_EQ(body, R"({"error":"bad \"x\"\u000a"})");
  ModelMetadata m{"m",
                  {"1", "2"},
                  "hotpath",
                  {{"input", DType::kFp32, {-1, 4}}},
                  {{"output", DType::kFp32, {-1, 1}}}};
  EncodeModelMetadata(m, &body);
  EXPECT_EQ(body,
            R"({"name":"m","versions":["1","2"],"platform":"hotpath","inputs":[{"name":"input",)"
            R"("datatype":"FP32","shape":[-1,4]}],"outputs":[{"name":"output","datatype":"FP32",)"
            R"("shape":[-1,1]}]})");
}

TEST(JsonReaderTest, StringEscapesAndDepthLimit) {
  JsonReader r(R"(["a\"b\\c\/\n\u00e9\u20ac", "plain"])");
  std::string_view s;
  ASSERT_TRUE(r.BeginArray());
  ASSERT_TRUE(r.NextElement());
  ASSERT_TRUE(r.ReadString(&s));
  EXPECT_EQ(s, "a\"b\\c/\n\xc3\xa9\xe2\x82\xac");
  ASSERT_TRUE(r.NextElement());
  ASSERT_TRUE(r.ReadString(&s));
  EXPECT_EQ(s, "plain");
  EXPECT_FALSE(r.NextElement());
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.AtEnd());

  const std::string deep = std::string(100, '[') + std::string(100, ']');
  JsonReader d(deep);
  EXPECT_FALSE(d.SkipValue());
  EXPECT_NE(d.status().message().find("nested deeper"), std::string::npos);
}

}  // namespace
}  // namespace hotpath::serve_internal
