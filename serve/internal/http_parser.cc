#include "serve/internal/http_parser.h"

#include <charconv>
#include <utility>

namespace hotpath::serve_internal {
namespace {

constexpr std::string_view kCrlf = "\r\n";

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool IsValueChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7f);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// Parses 1..18 decimal digits; false on anything else.
bool ParseSize(std::string_view s, size_t* out) {
  if (s.empty() || s.size() > 18) {
    return false;
  }
  for (char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

HttpMethod MethodFromName(std::string_view m) {
  if (m == "GET") {
    return HttpMethod::kGet;
  }
  if (m == "POST") {
    return HttpMethod::kPost;
  }
  if (m == "HEAD") {
    return HttpMethod::kHead;
  }
  if (m == "PUT") {
    return HttpMethod::kPut;
  }
  if (m == "DELETE") {
    return HttpMethod::kDelete;
  }
  if (m == "PATCH") {
    return HttpMethod::kPatch;
  }
  if (m == "OPTIONS") {
    return HttpMethod::kOptions;
  }
  return HttpMethod::kOther;
}

// Applies a Connection header's comma-separated tokens.
void ApplyConnection(std::string_view value, bool* close, bool* keep_alive) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    const std::string_view token = Trim(value.substr(0, comma));
    if (EqualsIgnoreCase(token, "close")) {
      *close = true;
    }
    if (EqualsIgnoreCase(token, "keep-alive")) {
      *keep_alive = true;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    value.remove_prefix(comma + 1);
  }
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') {
      x = static_cast<char>(x - 'A' + 'a');
    }
    if (y >= 'A' && y <= 'Z') {
      y = static_cast<char>(y - 'A' + 'a');
    }
    if (x != y) {
      return false;
    }
  }
  return true;
}

HttpRequestParser::Outcome HttpRequestParser::Fail(int status, std::string message) {
  error_status_ = status;
  error_message_ = std::move(message);
  return Outcome::kError;
}

HttpRequestParser::Outcome HttpRequestParser::Parse(std::string_view buf, HttpRequest* out) {
  if (head_bytes_ == 0) {
    const size_t from = scanned_ >= 3 ? scanned_ - 3 : 0;
    const size_t end = buf.find("\r\n\r\n", from);
    if (end == std::string_view::npos) {
      scanned_ = buf.size();
      if (buf.size() > limits_.max_head_bytes) {
        return Fail(431, "request head is larger than " + std::to_string(limits_.max_head_bytes) +
                             " bytes");
      }
      return Outcome::kNeedMore;
    }
    if (end + 4 > limits_.max_head_bytes) {
      return Fail(
          431, "request head is larger than " + std::to_string(limits_.max_head_bytes) + " bytes");
    }
    head_bytes_ = end + 4;
  }
  const Outcome head = ParseHead(buf.substr(0, head_bytes_ - 2), out);
  if (head != Outcome::kComplete) {
    return head;
  }
  out->head_bytes = head_bytes_;
  out->total_bytes = head_bytes_ + out->content_length;
  if (buf.size() < out->total_bytes) {
    out->body = {};
    return Outcome::kNeedMore;
  }
  out->body = buf.substr(head_bytes_, out->content_length);
  return Outcome::kComplete;
}

// `head` is the request line and header lines, each ending in CRLF.
HttpRequestParser::Outcome HttpRequestParser::ParseHead(std::string_view head, HttpRequest* out) {
  *out = HttpRequest();
  size_t eol = head.find(kCrlf);
  Outcome o = ParseRequestLine(head.substr(0, eol), out);
  if (o != Outcome::kComplete) {
    return o;
  }
  head.remove_prefix(eol + 2);
  bool saw_length = false, close = false, keep_alive = false;
  int headers = 0;
  while (!head.empty()) {
    if (++headers > limits_.max_headers) {
      return Fail(431, "more than " + std::to_string(limits_.max_headers) + " headers");
    }
    eol = head.find(kCrlf);
    const std::string_view line = head.substr(0, eol);
    o = ParseHeader(line, out, &saw_length);
    if (o != Outcome::kComplete) {
      return o;
    }
    const size_t colon = line.find(':');
    if (EqualsIgnoreCase(line.substr(0, colon), "connection")) {
      ApplyConnection(line.substr(colon + 1), &close, &keep_alive);
    }
    head.remove_prefix(eol + 2);
  }
  out->keep_alive = !close && (out->minor_version == 1 || keep_alive);
  if (out->content_length > limits_.max_body_bytes) {
    return Fail(413, "request body of " + std::to_string(out->content_length) +
                         " bytes is larger than the limit of " +
                         std::to_string(limits_.max_body_bytes));
  }
  return Outcome::kComplete;
}

HttpRequestParser::Outcome HttpRequestParser::ParseRequestLine(std::string_view line,
                                                               HttpRequest* out) {
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return Fail(400, "malformed request line");
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (method.empty() || method.size() > 16) {
    return Fail(400, "malformed request method");
  }
  for (char c : method) {
    if (c < 'A' || c > 'Z') {
      return Fail(400, "malformed request method");
    }
  }
  if (target.empty() || target[0] != '/') {
    return Fail(400, "request target must start with '/'");
  }
  for (char c : target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return Fail(400, "request target contains a control character");
    }
  }
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
    return Fail(400, "malformed HTTP version");
  }
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) {
    return Fail(505, "HTTP version " + std::string(version.substr(5)) + " is not supported");
  }
  out->method = MethodFromName(method);
  out->minor_version = version[7] - '0';
  const size_t q = target.find('?');
  out->path = target.substr(0, q);
  out->query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  return Outcome::kComplete;
}

HttpRequestParser::Outcome HttpRequestParser::ParseHeader(std::string_view line, HttpRequest* out,
                                                          bool* saw_length) {
  if (line.empty() || line[0] == ' ' || line[0] == '\t') {
    return Fail(400, "malformed header line (obsolete line folding is not accepted)");
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Fail(400, "header line without a name");
  }
  const std::string_view name = line.substr(0, colon);
  for (char c : name) {
    if (!IsTokenChar(c)) {
      return Fail(400, "invalid character in header name");
    }
  }
  const std::string_view value = Trim(line.substr(colon + 1));
  for (char c : value) {
    if (!IsValueChar(c)) {
      return Fail(400, "invalid character in header '" + std::string(name) + "'");
    }
  }
  if (EqualsIgnoreCase(name, "content-length")) {
    size_t n = 0;
    if (!ParseSize(value, &n)) {
      return Fail(400, "Content-Length: not a decimal byte count");
    }
    if (*saw_length && n != out->content_length) {
      return Fail(400, "Content-Length: conflicting values");
    }
    *saw_length = true;
    out->content_length = n;
  } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
    return Fail(411, "Transfer-Encoding is not supported; send the body with Content-Length");
  } else if (EqualsIgnoreCase(name, "expect")) {
    if (!EqualsIgnoreCase(value, "100-continue")) {
      return Fail(417, "Expect: only 100-continue is supported");
    }
    out->expect_continue = true;
  } else if (EqualsIgnoreCase(name, "inference-header-content-length")) {
    size_t n = 0;
    if (!ParseSize(value, &n)) {
      return Fail(400, "Inference-Header-Content-Length: not a decimal byte count");
    }
    out->inference_header_length = static_cast<int64_t>(n);
  }
  return Outcome::kComplete;
}

}  // namespace hotpath::serve_internal
