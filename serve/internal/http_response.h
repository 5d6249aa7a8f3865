// HTTP/1.1 response heads and the one place where canonical Status codes
// become HTTP status codes.
#ifndef HOTPATH_SERVE_INTERNAL_HTTP_RESPONSE_H_
#define HOTPATH_SERVE_INTERNAL_HTTP_RESPONSE_H_

#include <string_view>

#include "core/status.h"
#include "serve/internal/byte_buffer.h"

namespace hotpath::serve_internal {

// INVALID_ARGUMENT/OUT_OF_RANGE/FAILED_PRECONDITION 400, NOT_FOUND 404,
// ALREADY_EXISTS/ABORTED 409, PERMISSION_DENIED 403, RESOURCE_EXHAUSTED 429,
// CANCELLED 499, UNIMPLEMENTED 501, UNAVAILABLE 503, DEADLINE_EXCEEDED 504,
// anything else 500.
int HttpStatusFor(StatusCode code);

// "OK", "Not Found", ... ("Unknown" for codes this server never sends).
std::string_view ReasonPhrase(int status);

// Appends a complete response. `extra_headers` is empty or whole header
// lines, each ending in CRLF. Adds "Connection: close" when !keep_alive.
void AppendResponse(int status, std::string_view content_type, std::string_view body,
                    bool keep_alive, std::string_view extra_headers, ByteBuffer* out);

}  // namespace hotpath::serve_internal

#endif  // HOTPATH_SERVE_INTERNAL_HTTP_RESPONSE_H_
