// bench_audit: the fraud audit trail's write path, SQLite (embedded) vs
// PostgreSQL (a private server this bench starts; fsync on unless
// --server-fsync off). --clients
// threads append closed-loop (each waits for its record to be durable, as a
// decision does); reported: appends/s, append-to-durable p50/p99 and records
// per commit (group commit), plus PostgreSQL with one record per transaction
// (max_batch 1) to show what group commit buys. Records carry a ~1.2 KB
// detail like the fraud engine's. Progress on stderr; the last stdout line
// is one JSON object.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/audit/audit_log.h"
#include "pipeline/audit/internal/postgres_server_process.h"

namespace hotpath::audit {
namespace {

using Steady = std::chrono::steady_clock;

struct Args {
  int clients = 16;
  int seconds = 3;
  bool server_fsync = true;  // off: the statement's own cost, without the disk
};

struct Figures {
  double appends_per_s = 0;
  double p50_us = 0;
  double p99_us = 0;
  double records_per_commit = 0;
};

AuditRecord Record(int client, int i) {
  AuditRecord r;
  r.txn_id = "bench-" + std::to_string(client) + "-" + std::to_string(i);
  r.timestamp_ms = 1'700'000'000'000 + i;
  r.decision = "allow";
  r.score = 0.0123;
  r.latency_us = 400;
  r.detail_json = "{\"id\":\"" + r.txn_id + "\",\"features\":{" + std::string(1200, ' ') + "}}";
  return r;
}

Result<Figures> Run(const AuditLog::Options& options, const Args& args) {
  ASSIGN_OR_RETURN(std::unique_ptr<AuditLog> log, AuditLog::Open(options));
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  std::vector<std::vector<float>> latencies(static_cast<size_t>(args.clients));
  std::vector<std::thread> threads;
  const auto start = Steady::now();
  for (int c = 0; c < args.clients; ++c) {
    threads.emplace_back([&, c] {
      for (int i = 0; !stop; ++i) {
        const auto t0 = Steady::now();
        if (!log->AppendSync(Record(c, i)).ok()) {
          errors++;
          continue;
        }
        latencies[c].push_back(
            std::chrono::duration<float, std::micro>(Steady::now() - t0).count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(args.seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Steady::now() - start).count();
  if (errors > 0) return InternalError(std::to_string(errors.load()) + " appends failed");
  std::vector<float> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  Figures f;
  f.appends_per_s = static_cast<double>(all.size()) / elapsed;
  f.p50_us = all.empty() ? 0 : all[all.size() / 2];
  f.p99_us = all.empty() ? 0 : all[all.size() * 99 / 100];
  f.records_per_commit = static_cast<double>(log->committed_records()) /
                         static_cast<double>(std::max<uint64_t>(1, log->commits()));
  return f;
}

int Main(int argc, char** argv) {
  Args args;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--clients")) args.clients = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--seconds")) args.seconds = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--server-fsync"))
      args.server_fsync = std::strcmp(argv[i + 1], "off") != 0;
  }
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "hotpath_bench_audit";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  internal::PostgresServerProcess server({.fsync = args.server_fsync});
  if (Status s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "bench_audit: %s\n", s.ToString().c_str());
    return 1;
  }
  struct Config {
    const char* name;
    AuditLog::Options options;
  };
  std::vector<Config> configs;
  auto sqlite = [&](const char* name, AuditLog::Durability d) {
    AuditLog::Options o;
    o.location = (dir / (std::string(name) + ".db")).string();
    o.durability = d;
    configs.push_back({name, o});
  };
  auto postgres = [&](const char* name, size_t max_batch) {
    if (!server.CreateDatabase(name).ok()) return;
    AuditLog::Options o;
    o.location = server.Url(name);
    o.max_batch = max_batch;
    configs.push_back({name, o});
  };
  sqlite("sqlite", AuditLog::Durability::kProcess);
  sqlite("sqlite_fsync", AuditLog::Durability::kMachine);
  postgres("postgresql", 1024);
  postgres("postgresql_batch1", 1);
  std::string json = "{\"clients\":" + std::to_string(args.clients) +
                     ",\"seconds\":" + std::to_string(args.seconds) +
                     ",\"server_fsync\":" + (args.server_fsync ? "true" : "false");
  for (const Config& c : configs) {
    Result<Figures> f = Run(c.options, args);
    if (!f.ok()) {
      std::fprintf(stderr, "bench_audit: %s: %s\n", c.name, f.status().ToString().c_str());
      return 1;
    }
    std::fprintf(stderr,
                 "%-18s %9.0f appends/s  p50 %7.0f us  p99 %7.0f us  %6.1f records/commit\n",
                 c.name, f->appends_per_s, f->p50_us, f->p99_us, f->records_per_commit);
    char buf[256];
    std::snprintf(buf, sizeof(buf),
                  ",\"%s\":{\"appends_per_s\":%.0f,\"p50_us\":%.0f,\"p99_us\":%.0f,\"records_per_"
                  "commit\":%.1f}",
                  c.name, f->appends_per_s, f->p50_us, f->p99_us, f->records_per_commit);
    json += buf;
  }
  std::filesystem::remove_all(dir);
  std::printf("%s}\n", json.c_str());
  return 0;
}

}  // namespace
}  // namespace hotpath::audit

int main(int argc, char** argv) { return hotpath::audit::Main(argc, argv); }
