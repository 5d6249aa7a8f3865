// HttpApp: application endpoints served by the HTTP front beside KServe v2
// (/metrics, the fraud API, ...). The front parses and limits the request,
// then hands any path outside /v2 to the app; the app answers exactly once,
// from any thread, and the front writes the answer on the connection's loop.
#ifndef HOTPATH_SERVE_HTTP_APP_H_
#define HOTPATH_SERVE_HTTP_APP_H_

#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace hotpath {

struct HttpAppRequest {
  std::string_view method;  // "GET", "POST", ...
  std::string_view path;    // starts with '/', without the query
  std::string_view query;   // after '?', may be empty
  std::string_view body;    // valid only during Handle: copy what is needed later
};

struct HttpAppResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

class HttpApp {
 public:
  using Respond = std::function<void(HttpAppResponse)>;
  virtual ~HttpApp() = default;
  // Returns false, without calling `respond`, when the app has no such
  // route (the front answers 404). Otherwise calls `respond` exactly once,
  // on any thread, possibly before returning. Thread-safe.
  virtual bool Handle(const HttpAppRequest& request, Respond respond) = 0;
};

// Dispatches to apps by path prefix (the longest registered prefix wins).
class HttpRouteTable final : public HttpApp {
 public:
  // `app` is borrowed and must outlive the table. Not thread-safe: register
  // every route before serving.
  void Add(std::string prefix, HttpApp* app) { routes_[std::move(prefix)] = app; }
  bool Handle(const HttpAppRequest& request, Respond respond) override {
    for (auto it = routes_.rbegin(); it != routes_.rend(); ++it) {
      if (request.path.substr(0, it->first.size()) == it->first) return it->second->Handle(request, std::move(respond));
    }
    return false;
  }

 private:
  std::map<std::string, HttpApp*> routes_;
};

// {"error": message} with `status`, JSON-escaped.
inline HttpAppResponse JsonError(int status, std::string_view message) {
  std::string body = "{\"error\": \"";
  for (char c : message) {
    if (c == '"' || c == '\\') {
      body += '\\';
      body += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned char>(c));
      body += buf;
    } else {
      body += c;
    }
  }
  body += "\"}";
  return {status, "application/json", std::move(body)};
}

}  // namespace hotpath

#endif  // HOTPATH_SERVE_HTTP_APP_H_
