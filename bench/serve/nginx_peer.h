// NginxPeer: Debian's nginx started on a free loopback port with a temporary
// config, answering POST <path> with a fixed body (the floor the HTTP front
// is compared against). Stopped and cleaned up by the destructor.
#ifndef HOTPATH_BENCH_SERVE_NGINX_PEER_H_
#define HOTPATH_BENCH_SERVE_NGINX_PEER_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "core/status.h"

namespace hotpath::bench {

class NginxPeer {
 public:
  // Starts `binary` (e.g. "nginx") with one worker process, keep-alive
  // without a request cap, no logging, returning `body` (application/json)
  // for every request. UNAVAILABLE when nginx is missing or does not come
  // up within 5 s. REQUIRES: `body` has no single quote or backslash.
  static Result<std::unique_ptr<NginxPeer>> Start(const std::string& binary,
                                                  const std::string& body);
  ~NginxPeer();
  NginxPeer(const NginxPeer&) = delete;
  NginxPeer& operator=(const NginxPeer&) = delete;

  int port() const { return port_; }

 private:
  NginxPeer() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string dir_;
};

}  // namespace hotpath::bench

#endif  // HOTPATH_BENCH_SERVE_NGINX_PEER_H_
