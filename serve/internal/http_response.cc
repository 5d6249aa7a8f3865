#include "serve/internal/http_response.h"

#include <charconv>
#include <cstring>

namespace hotpath::serve_internal {

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
    case StatusCode::kFailedPrecondition:
      return 400;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kAborted:
      return 409;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kCancelled:
      return 499;
    case StatusCode::kUnimplemented:
      return 501;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 417:
      return "Expectation Failed";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 499:
      return "Client Closed Request";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

void AppendResponse(int status, std::string_view content_type, std::string_view body,
                    bool keep_alive, std::string_view extra_headers, ByteBuffer* out) {
  const std::string_view reason = ReasonPhrase(status);
  char* p =
      out->Reserve(128 + reason.size() + content_type.size() + extra_headers.size() + body.size());
  char* const start = p;
  auto put = [&p](std::string_view s) {
    if (s.empty()) {
      return;  // data() may be null
    }
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  };
  put("HTTP/1.1 ");
  p = std::to_chars(p, p + 3, status).ptr;
  *p++ = ' ';
  put(reason);
  put("\r\nContent-Type: ");
  put(content_type);
  put("\r\nContent-Length: ");
  p = std::to_chars(p, p + 20, body.size()).ptr;
  put(keep_alive ? "\r\n" : "\r\nConnection: close\r\n");
  put(extra_headers);
  put("\r\n");
  put(body);
  out->Commit(static_cast<size_t>(p - start));
}

}  // namespace hotpath::serve_internal
