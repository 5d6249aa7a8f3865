// HttpRequestParser: an incremental HTTP/1.1 request parser for one
// connection. Feed it the connection's unconsumed bytes after every read; it
// reports a complete request (head + Content-Length body), "need more", or an
// error with the HTTP status to answer. Pipelined requests are parsed one at
// a time: the caller consumes `total_bytes` and calls Reset() before the next.
//
// Refused: chunked or any Transfer-Encoding (411), heads over the limit or
// with too many headers (431), bodies over the limit (413, reported as soon
// as the head is complete), HTTP versions other than 1.0/1.1 (505), and
// malformed request lines or headers (400).
#ifndef HOTPATH_SERVE_INTERNAL_HTTP_PARSER_H_
#define HOTPATH_SERVE_INTERNAL_HTTP_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hotpath::serve_internal {

enum class HttpMethod : uint8_t { kGet, kHead, kPost, kPut, kDelete, kPatch, kOptions, kOther };

// A parsed request. The views point into the buffer given to Parse and are
// valid until that buffer changes.
struct HttpRequest {
  HttpMethod method = HttpMethod::kOther;
  std::string_view path;   // the target up to '?', starts with '/'
  std::string_view query;  // after '?', may be empty
  int minor_version = 1;   // HTTP/1.<minor>
  bool keep_alive = true;  // after Connection headers and the version default
  bool expect_continue = false;
  size_t content_length = 0;
  // Inference-Header-Content-Length (binary tensor extension); -1 = absent.
  int64_t inference_header_length = -1;
  std::string_view body;   // [content_length]
  size_t head_bytes = 0;   // request line + headers + blank line
  size_t total_bytes = 0;  // head_bytes + content_length
};

struct HttpParseLimits {
  size_t max_head_bytes = size_t{16} * 1024;
  size_t max_body_bytes = size_t{64} * 1024 * 1024;
  int max_headers = 64;
};

class HttpRequestParser {
 public:
  enum class Outcome { kNeedMore, kComplete, kError };

  explicit HttpRequestParser(const HttpParseLimits& limits) : limits_(limits) {}

  // Parses the request at the start of `buf`. kComplete: `*out` holds it.
  // kNeedMore: the head or body is incomplete (head_complete() says which;
  // after the head, `*out` holds it without the body). kError: error_status()
  // and error_message() say what to answer; the connection must be closed.
  Outcome Parse(std::string_view buf, HttpRequest* out);

  // Forgets the current request: call after consuming it.
  void Reset() {
    scanned_ = 0;
    head_bytes_ = 0;
  }
  bool head_complete() const { return head_bytes_ != 0; }
  int error_status() const { return error_status_; }
  const std::string& error_message() const { return error_message_; }

 private:
  Outcome Fail(int status, std::string message);
  Outcome ParseHead(std::string_view head, HttpRequest* out);
  Outcome ParseRequestLine(std::string_view line, HttpRequest* out);
  Outcome ParseHeader(std::string_view line, HttpRequest* out, bool* saw_length);

  HttpParseLimits limits_;
  size_t scanned_ = 0;     // bytes searched for the end of the head so far
  size_t head_bytes_ = 0;  // 0 until the head is complete
  int error_status_ = 0;
  std::string error_message_;
};

// Case-insensitive ASCII comparison.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace hotpath::serve_internal

#endif  // HOTPATH_SERVE_INTERNAL_HTTP_PARSER_H_
