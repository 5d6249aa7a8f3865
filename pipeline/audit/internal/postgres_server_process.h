// Test and benchmark support: a private PostgreSQL server (initdb into a
// temporary directory, `postgres` on 127.0.0.1 at a free port, its unix
// socket in that directory), stopped and removed on destruction. As root
// (initdb and postgres refuse it) the server runs as the `postgres` user.
// The superuser is "hotpath" with trust authentication.
#ifndef HOTPATH_PIPELINE_AUDIT_INTERNAL_POSTGRES_SERVER_PROCESS_H_
#define HOTPATH_PIPELINE_AUDIT_INTERNAL_POSTGRES_SERVER_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "core/status.h"

namespace hotpath::audit::internal {

class PostgresServerProcess {
 public:
  struct Options {
    // Off for tests (commits still go through the WAL; the machine is not
    // expected to lose power); on for benchmarks of real commit cost.
    bool fsync = false;
  };
  // The folder with initdb and postgres (the newest installed version), or
  // "" when PostgreSQL is not installed.
  static std::string FindBinDir();

  explicit PostgresServerProcess(Options options);
  ~PostgresServerProcess();
  PostgresServerProcess(const PostgresServerProcess&) = delete;
  PostgresServerProcess& operator=(const PostgresServerProcess&) = delete;

  // First call: initdb, then start on a free port. After Stop: starts again
  // on the same data and port. Returns once the server accepts connections
  // (at most ~30 s); INTERNAL with the server's log otherwise.
  Status Start();
  // Fast shutdown (sessions are terminated); waits for the server to exit.
  void Stop();

  int port() const { return port_; }
  // postgresql://hotpath@127.0.0.1:PORT/DB
  std::string Url(const std::string& db) const;
  // CREATE DATABASE "db".
  Status CreateDatabase(const std::string& db) const;

 private:
  Status InitDb();
  // Starts postgres on port_; OK once it answers.
  Status Launch();
  Status Run(const std::vector<std::string>& argv, const std::string& log, pid_t* pid) const;
  std::string LogTail(const std::string& log) const;

  const Options options_;
  std::string bin_;
  std::string dir_;  // data in dir_/data, the socket and logs in dir_
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace hotpath::audit::internal

#endif  // HOTPATH_PIPELINE_AUDIT_INTERNAL_POSTGRES_SERVER_PROCESS_H_
