#include "bench/serve/nginx_peer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "serve/testing/http_test_client.h"

namespace hotpath::bench {
namespace {

bool Accepting(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

std::string Config(const std::string& dir, int port, const std::string& body) {
  const std::string user = geteuid() == 0 ? "user root;\n" : "";
  return user + "worker_processes 1;\ndaemon off;\npid " + dir + "/nginx.pid;\nerror_log " + dir +
         "/error.log warn;\nevents { worker_connections 4096; }\nhttp {\n  access_log off;\n"
         "  keepalive_requests 1000000000;\n  keepalive_timeout 120s;\n"
         "  client_body_temp_path " +
         dir + "/body;\n  proxy_temp_path " + dir +
         "/proxy;\n"
         "  fastcgi_temp_path " +
         dir + "/fastcgi;\n  uwsgi_temp_path " + dir +
         "/uwsgi;\n"
         "  scgi_temp_path " +
         dir +
         "/scgi;\n  default_type application/json;\n"
         "  server {\n    listen 127.0.0.1:" +
         std::to_string(port) +
         ";\n"
         "    location / { return 200 '" +
         body + "'; }\n  }\n}\n";
}

}  // namespace

Result<std::unique_ptr<NginxPeer>> NginxPeer::Start(const std::string& binary,
                                                    const std::string& body) {
  std::unique_ptr<NginxPeer> peer(new NginxPeer());
  char tmpl[] = "/tmp/hotpath_nginx_XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    return UnavailableError("mkdtemp failed");
  }
  peer->dir_ = tmpl;
  peer->port_ = serve_testing::FreeLoopbackPort();
  if (peer->port_ == 0) return UnavailableError("no free loopback port for nginx");
  const std::string conf = peer->dir_ + "/nginx.conf";
  std::ofstream(conf) << Config(peer->dir_, peer->port_, body);
  peer->pid_ = fork();
  if (peer->pid_ == 0) {
    execlp(binary.c_str(), binary.c_str(), "-q", "-p", peer->dir_.c_str(), "-c", conf.c_str(),
           static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!Accepting(peer->port_)) {
    int status = 0;
    if (waitpid(peer->pid_, &status, WNOHANG) == peer->pid_) {
      peer->pid_ = -1;
      return UnavailableError("nginx ('" + binary +
                              "') exited; is the nginx-light package installed? See " + peer->dir_ +
                              "/error.log");
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return UnavailableError("nginx did not start in 5 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return peer;
}

NginxPeer::~NginxPeer() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  std::error_code ec;
  if (!dir_.empty()) {
    std::filesystem::remove_all(dir_, ec);
  }
}

}  // namespace hotpath::bench
