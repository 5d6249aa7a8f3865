// Test and benchmark support: runs a private redis-server on a free port in
// a temporary directory (no persistence), and stops it on destruction.
#ifndef HOTPATH_FEATURES_INTERNAL_REDIS_SERVER_PROCESS_H_
#define HOTPATH_FEATURES_INTERNAL_REDIS_SERVER_PROCESS_H_

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

namespace hotpath::features::internal {

class RedisServerProcess {
 public:
  // Path of redis-server, or "" when it is not installed.
  static std::string FindBinary() {
    for (const char* p : {"/usr/bin/redis-server", "/usr/local/bin/redis-server"}) {
      if (::access(p, X_OK) == 0) return p;
    }
    return "";
  }

  RedisServerProcess() = default;
  RedisServerProcess(const RedisServerProcess&) = delete;
  RedisServerProcess& operator=(const RedisServerProcess&) = delete;
  ~RedisServerProcess() { Stop(); }

  // Starts the server and waits (up to 10 s) until it answers PING.
  bool Start() {
    const std::string bin = FindBinary();
    if (bin.empty()) return false;
    port_ = FreePort();
    std::string tmpl = (std::filesystem::temp_directory_path() / "hp-redis-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    pid_ = ::fork();
    if (pid_ == 0) {
      int null_fd = ::open("/dev/null", O_WRONLY);
      ::dup2(null_fd, 1);
      ::dup2(null_fd, 2);
      std::string port = std::to_string(port_);
      ::execl(bin.c_str(), bin.c_str(), "--port", port.c_str(), "--bind", "127.0.0.1", "--dir",
              dir_.c_str(), "--save", "", "--appendonly", "no", "--loglevel", "warning",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Waiting for a child process to listen: real time, not feature logic.
    for (int i = 0; i < 1000; ++i) {
      if (Ping()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  void Stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
      dir_.clear();
    }
  }

  int port() const { return port_; }

 private:
  static int FreePort() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
  }

  bool Ping() const {
    redisContext* c = redisConnect("127.0.0.1", port_);
    bool ok = c != nullptr && !c->err;
    if (ok) {
      auto* r = static_cast<redisReply*>(redisCommand(c, "PING"));
      ok = r != nullptr && r->type == REDIS_REPLY_STATUS;
      if (r) freeReplyObject(r);
    }
    if (c) redisFree(c);
    return ok;
  }

  int port_ = 0;
  pid_t pid_ = -1;
  std::string dir_;
};

}  // namespace hotpath::features::internal

#endif  // HOTPATH_FEATURES_INTERNAL_REDIS_SERVER_PROCESS_H_
