// Fuzzing as an ordinary test: random and mutated inputs through the HTTP
// request parser and the infer request decoder, each checked by the
// invariants in serve/testing/fuzz_targets.h (parsing in pieces equals
// parsing whole; decoded tensors re-encode to the same values). The same
// targets build as libFuzzer binaries under clang.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "serve/testing/fuzz_targets.h"

namespace hotpath::serve_testing {
namespace {

// One random edit (flip, insert, erase, duplicate, splice a token) of `s`.
void Mutate(std::string* s, const std::vector<std::string>& tokens, std::mt19937_64* rng) {
  std::uniform_int_distribution<int> op(0, 5);
  const size_t pos = s->empty() ? 0 : (*rng)() % (s->size() + 1);
  switch (op(*rng)) {
    case 0:
      if (!s->empty()) (*s)[pos % s->size()] ^= static_cast<char>(1 << ((*rng)() % 8));
      break;
    case 1:
      s->insert(pos, 1, static_cast<char>((*rng)() % 256));
      break;
    case 2:
      if (!s->empty()) s->erase(pos % s->size(), 1 + (*rng)() % 8);
      break;
    case 3:
      s->insert(pos, s->substr(pos, (*rng)() % 32));
      break;
    case 4:
      s->insert(pos, tokens[(*rng)() % tokens.size()]);
      break;
    default:
      s->resize(pos);
      break;
  }
}

template <typename Target>
void FuzzRun(const std::vector<std::string>& seeds, const std::vector<std::string>& tokens,
             int iterations, Target target) {
  std::mt19937_64 rng(20261124);
  for (int i = 0; i < iterations; ++i) {
    std::string input;
    if (i % 10 == 0) {
      input.resize(rng() % 200);
      for (char& c : input) c = static_cast<char>(rng() % 256);
    } else {
      input = seeds[rng() % seeds.size()];
      for (int m = 1 + static_cast<int>(rng() % 4); m > 0; --m) Mutate(&input, tokens, &rng);
    }
    const std::string broken = target(reinterpret_cast<const uint8_t*>(input.data()), input.size());
    ASSERT_EQ(broken, "") << "input #" << i << ": " << ::testing::PrintToString(input);
  }
}

TEST(FuzzTest, HttpRequestParser) {
  const std::vector<std::string> seeds = {
      "GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n",
      "POST /v2/models/m/infer HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcdGET / HTTP/1.0\r\n\r\n",
      "POST /a HTTP/1.1\r\nContent-Length: 3\r\nConnection: close\r\nExpect: "
      "100-continue\r\n\r\nxyz",
      "GET /a?b=c HTTP/1.1\r\nInference-Header-Content-Length: 2\r\nA:\tb \r\n\r\n"};
  const std::vector<std::string> tokens = {"\r\n",
                                           "\r\n\r\n",
                                           ":",
                                           " ",
                                           "Content-Length: 9\r\n",
                                           "Transfer-Encoding: chunked\r\n",
                                           "HTTP/1.1",
                                           "0",
                                           "99999999999999999999",
                                           "\t",
                                           "\x80"};
  FuzzRun(seeds, tokens, 100000, FuzzHttpParser);
}

TEST(FuzzTest, InferRequestDecoder) {
  const std::string binary_json =
      R"({"inputs":[{"name":"a","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":8}}]})";
  const std::vector<std::string> seeds = {
      std::string(1, '\0') +
          R"({"id":"1","inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2.5,-3e-2,null]}]})",
      std::string(1, '\0') +
          R"({"inputs":[{"data":[[1,2],[3,4]],"shape":[2,2],"datatype":"INT32","name":"x"},)"
          R"({"name":"b","shape":[2],"datatype":"BOOL","data":[true,false]}],)"
          R"("outputs":[{"name":"o","parameters":{"binary_data":true}}],"parameters":{"priority":1}})",
      std::string(1, '\0') +
          R"({"inputs":[{"name":"d","shape":[3],"datatype":"FP64","data":[1e300,-0.0,5e-324]},)"
          R"({"name":"u","shape":[2],"datatype":"UINT8","data":[0,255]},)"
          R"({"name":"i","shape":[1],"datatype":"INT64","data":[-9223372036854775808]}]})",
      std::string(1, static_cast<char>(128 + binary_json.size() % 128)) + binary_json +
          std::string("\0\0\x80?\0\0\0@", 8)};
  const std::vector<std::string> tokens = {"[",
                                           "]",
                                           "{",
                                           "}",
                                           ",",
                                           "\"",
                                           "null",
                                           "true",
                                           "1e400",
                                           "-",
                                           "\\u00",
                                           "\"data\":[1]",
                                           "\"shape\":[1]",
                                           "\"datatype\":\"INT8\"",
                                           "999",
                                           "0.5"};
  FuzzRun(seeds, tokens, 100000, FuzzInferDecoder);
}

}  // namespace
}  // namespace hotpath::serve_testing
