// Hand-checked HTTP/1.1 request parsing cases (RFC 9112).
#include "serve/internal/http_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace hotpath::serve_internal {
namespace {

using Outcome = HttpRequestParser::Outcome;

HttpParseLimits Limits() {
  HttpParseLimits l;
  l.max_head_bytes = 256;
  l.max_body_bytes = 100;
  l.max_headers = 8;
  return l;
}

TEST(HttpParserTest, ParsesGetWithQuery) {
  HttpRequestParser p(Limits());
  HttpRequest r;
  const std::string s = "GET /v2/health/live?x=1 HTTP/1.1\r\nHost: a\r\n\r\n";
  ASSERT_EQ(p.Parse(s, &r), Outcome::kComplete);
  EXPECT_EQ(r.method, HttpMethod::kGet);
  EXPECT_EQ(r.path, "/v2/health/live");
  EXPECT_EQ(r.query, "x=1");
  EXPECT_TRUE(r.keep_alive);
  EXPECT_EQ(r.total_bytes, s.size());
  EXPECT_EQ(r.body, "");
}

TEST(HttpParserTest, ParsesPostBodyAndBinaryHeader) {
  HttpRequestParser p(Limits());
  HttpRequest r;
  const std::string s =
      "POST /v2/models/m/infer HTTP/1.1\r\ncontent-length: 5\r\n"
      "Inference-Header-Content-Length: 3\r\n\r\nhelloEXTRA";
  ASSERT_EQ(p.Parse(s, &r), Outcome::kComplete);
  EXPECT_EQ(r.method, HttpMethod::kPost);
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.inference_header_length, 3);
  EXPECT_EQ(r.total_bytes, s.size() - 5);
}

TEST(HttpParserTest, NeedsMoreUntilHeadAndBodyArriveByteByByte) {
  const std::string s = "POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
  HttpRequestParser p(Limits());
  HttpRequest r;
  for (size_t n = 0; n < s.size(); ++n) {
    ASSERT_EQ(p.Parse(std::string_view(s).substr(0, n), &r), Outcome::kNeedMore) << n;
    EXPECT_EQ(p.head_complete(), n >= s.size() - 3) << n;
  }
  ASSERT_EQ(p.Parse(s, &r), Outcome::kComplete);
  EXPECT_EQ(r.body, "abc");
}

TEST(HttpParserTest, PipelinedRequestsParseOneAtATime) {
  const std::string s =
      "GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nxyGET /c "
      "HTTP/1.1\r\n\r\n";
  HttpRequestParser p(Limits());
  std::string_view rest = s;
  std::string paths;
  HttpRequest r;
  while (p.Parse(rest, &r) == Outcome::kComplete) {
    paths += std::string(r.path) + std::string(r.body) + ";";
    rest.remove_prefix(r.total_bytes);
    p.Reset();
  }
  EXPECT_EQ(paths, "/a;/bxy;/c;");
  EXPECT_TRUE(rest.empty());
}

TEST(HttpParserTest, ConnectionSemantics) {
  HttpRequestParser p(Limits());
  HttpRequest r;
  ASSERT_EQ(p.Parse("GET / HTTP/1.0\r\n\r\n", &r), Outcome::kComplete);
  EXPECT_FALSE(r.keep_alive);  // 1.0 defaults to close
  p.Reset();
  ASSERT_EQ(p.Parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &r), Outcome::kComplete);
  EXPECT_TRUE(r.keep_alive);
  p.Reset();
  ASSERT_EQ(p.Parse("GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n", &r), Outcome::kComplete);
  EXPECT_FALSE(r.keep_alive);
}

TEST(HttpParserTest, ExpectContinueIsReportedWithTheHead) {
  HttpRequestParser p(Limits());
  HttpRequest r;
  ASSERT_EQ(p.Parse("POST /a HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n", &r),
            Outcome::kNeedMore);
  EXPECT_TRUE(p.head_complete());
  EXPECT_TRUE(r.expect_continue);
}

struct ErrorCase {
  const char* request;
  int status;
};

class HttpParserErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(HttpParserErrorTest, AnswersTheRightStatus) {
  HttpRequestParser p(Limits());
  HttpRequest r;
  ASSERT_EQ(p.Parse(GetParam().request, &r), Outcome::kError) << GetParam().request;
  EXPECT_EQ(p.error_status(), GetParam().status) << p.error_message();
  EXPECT_FALSE(p.error_message().empty());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, HttpParserErrorTest,
    ::testing::Values(
        ErrorCase{"POST /a HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413},
        ErrorCase{"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411},
        ErrorCase{"GET /a HTTP/2.0\r\n\r\n", 505}, ErrorCase{"GET /a HTTP/1.1 extra\r\n\r\n", 400},
        ErrorCase{"GET a HTTP/1.1\r\n\r\n", 400}, ErrorCase{"get /a HTTP/1.1\r\n\r\n", 400},
        ErrorCase{"GET /a HTTX/1.1\r\n\r\n", 400},
        ErrorCase{"GET /a HTTP/1.1\r\nBad Name: x\r\n\r\n", 400},
        ErrorCase{"GET /a HTTP/1.1\r\nNoColon\r\n\r\n", 400},
        ErrorCase{"GET /a HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400},
        ErrorCase{"GET /a HTTP/1.1\r\nA: b\x01\r\n\r\n", 400},
        ErrorCase{"POST /a HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400},
        ErrorCase{"POST /a HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
        ErrorCase{"POST /a HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
        ErrorCase{"POST /a HTTP/1.1\r\nExpect: magic\r\n\r\n", 417},
        ErrorCase{"GET /a HTTP/1.1\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\nF: 1\r\nG: 1\r\n"
                  "H: 1\r\nI: 1\r\n\r\n",
                  431}));

TEST(HttpParserTest, OversizedHeadIsRefusedBeforeItEnds) {
  HttpRequestParser p(Limits());
  HttpRequest r;
  const std::string s = "GET /a HTTP/1.1\r\nX: " + std::string(300, 'a');
  EXPECT_EQ(p.Parse(s, &r), Outcome::kError);
  EXPECT_EQ(p.error_status(), 431);
}

TEST(HttpParserTest, EqualsIgnoreCase) {
  EXPECT_TRUE(EqualsIgnoreCase("Content-LENGTH", "content-length"));
  EXPECT_FALSE(EqualsIgnoreCase("content-lengt", "content-length"));
}

}  // namespace
}  // namespace hotpath::serve_internal
