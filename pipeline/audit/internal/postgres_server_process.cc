#include "pipeline/audit/internal/postgres_server_process.h"

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

namespace hotpath::audit::internal {
namespace {

namespace fs = std::filesystem;

// Whom the server runs as: the postgres user when we are root, else ourselves.
struct RunAs {
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

Result<RunAs> ServerUser() {
  if (::geteuid() != 0) return RunAs{};
  const passwd* pw = ::getpwnam("postgres");
  if (pw == nullptr)
    return FailedPreconditionError(
        "running as root and there is no 'postgres' user to run the server");
  return RunAs{true, pw->pw_uid, pw->pw_gid};
}

}  // namespace

std::string PostgresServerProcess::FindBinDir() {
  std::string best;
  int best_version = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const int version = std::atoi(e.path().filename().c_str());
    const fs::path bin = e.path() / "bin";
    if (version > best_version && ::access((bin / "initdb").c_str(), X_OK) == 0 &&
        ::access((bin / "postgres").c_str(), X_OK) == 0) {
      best = bin.string();
      best_version = version;
    }
  }
  return best;
}

PostgresServerProcess::PostgresServerProcess(Options options) : options_(options) {}

PostgresServerProcess::~PostgresServerProcess() {
  Stop();
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

Status PostgresServerProcess::Start() {
  if (pid_ > 0) return OkStatus();
  if (dir_.empty()) RETURN_IF_ERROR(InitDb());
  if (port_ != 0) return Launch();
  // A free port: try random ones until the server binds one.
  std::mt19937 rng(std::random_device{}());
  Status s;
  for (int attempt = 0; attempt < 20; ++attempt) {
    port_ = std::uniform_int_distribution<int>(20000, 59999)(rng);
    s = Launch();
    if (s.ok()) return s;
  }
  port_ = 0;
  return s;
}

Status PostgresServerProcess::InitDb() {
  bin_ = FindBinDir();
  if (bin_.empty())
    return FailedPreconditionError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin)");
  ASSIGN_OR_RETURN(RunAs user, ServerUser());
  std::string tmpl = "/tmp/hp-pg-XXXXXX";  // short: unix socket paths are limited to 107 bytes
  if (::mkdtemp(tmpl.data()) == nullptr) return InternalError("mkdtemp failed");
  dir_ = tmpl;
  if (user.switch_user && ::chown(dir_.c_str(), user.uid, user.gid) != 0) {
    return InternalError("cannot hand " + dir_ + " to the postgres user");
  }
  pid_t pid;
  RETURN_IF_ERROR(Run({bin_ + "/initdb", "-D", dir_ + "/data", "-U", "hotpath", "-A", "trust", "-E",
                       "UTF8", "--no-locale", "--no-sync", "--no-instructions"},
                      dir_ + "/initdb.log", &pid));
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return InternalError("initdb failed: " + LogTail(dir_ + "/initdb.log"));
  }
  return OkStatus();
}

Status PostgresServerProcess::Launch() {
  const std::string log = dir_ + "/postgres.log";
  RETURN_IF_ERROR(Run(
      {bin_ + "/postgres", "-D", dir_ + "/data", "-p", std::to_string(port_), "-k", dir_, "-c",
       "listen_addresses=127.0.0.1", "-c", std::string("fsync=") + (options_.fsync ? "on" : "off"),
       "-c", "max_connections=64", "-c", "logging_collector=off"},
      log, &pid_));
  const std::string ping =
      "host=127.0.0.1 port=" + std::to_string(port_) + " user=hotpath dbname=postgres";
  // Waiting for a child process to listen: real time.
  for (int i = 0; i < 1500; ++i) {
    if (PQping(ping.c_str()) == PQPING_OK) return OkStatus();
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {  // exited: e.g. the port is taken
      pid_ = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Stop();
  return InternalError("postgres did not start on port " + std::to_string(port_) + ": " +
                       LogTail(log));
}

Status PostgresServerProcess::Run(const std::vector<std::string>& argv, const std::string& log,
                                  pid_t* pid) const {
  ASSIGN_OR_RETURN(RunAs user, ServerUser());
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t child = ::fork();
  if (child < 0) return InternalError("fork failed");
  if (child == 0) {  // async-signal-safe calls only
    if (user.switch_user &&
        (::setgroups(0, nullptr) != 0 || ::setgid(user.gid) != 0 || ::setuid(user.uid) != 0)) {
      ::_exit(126);
    }
    ::prctl(PR_SET_PDEATHSIG,
            SIGINT);  // no server outlives a crashed test (after setuid, which clears it)
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    const int in = ::open("/dev/null", O_RDONLY);
    if (out < 0 || in < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::setsid();  // a terminal's Ctrl-C reaches the test, not the server
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  *pid = child;
  return OkStatus();
}

void PostgresServerProcess::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGINT);  // fast shutdown
  for (int i = 0; i < 1500; ++i) {
    const pid_t r = ::waitpid(pid_, nullptr, WNOHANG);
    if (r == pid_ || r < 0) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string PostgresServerProcess::Url(const std::string& db) const {
  return "postgresql://hotpath@127.0.0.1:" + std::to_string(port_) + "/" + db;
}

Status PostgresServerProcess::CreateDatabase(const std::string& db) const {
  PGconn* c = PQconnectdb(Url("postgres").c_str());
  Status s;
  if (PQstatus(c) != CONNECTION_OK) {
    s = UnavailableError(std::string("postgres: ") + PQerrorMessage(c));
  } else {
    PGresult* r = PQexec(c, ("CREATE DATABASE \"" + db + "\"").c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
      s = InternalError(std::string("CREATE DATABASE: ") + PQresultErrorMessage(r));
    PQclear(r);
  }
  PQfinish(c);
  return s;
}

std::string PostgresServerProcess::LogTail(const std::string& log) const {
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string all = ss.str();
  return all.size() > 2000 ? all.substr(all.size() - 2000) : all;
}

}  // namespace hotpath::audit::internal
