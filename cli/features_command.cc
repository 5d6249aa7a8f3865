#include "cli/features_command.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>

#include "features/definitions.h"
#include "features/replay.h"
#include "serve/loadgen/latency_histogram.h"
#include "serve/testing/http_test_client.h"

namespace hotpath::cli {
namespace {

using Steady = std::chrono::steady_clock;

constexpr std::size_t kMaxReportedErrors = 100;

// ---- backfill -------------------------------------------------------------

std::string BackfillSummary(const features::ReplayStats& s, const std::string& out) {
  nlohmann::json j = {{"lines", s.lines},       {"rows", s.rows},         {"applied", s.applied},
                      {"too_late", s.too_late}, {"rejected", s.rejected}, {"out", out}};
  return j.dump() + "\n";
}

// ---- replay ---------------------------------------------------------------

struct ReplayTotals {
  uint64_t lines = 0;  // non-empty lines read
  uint64_t sent = 0;   // events sent
  uint64_t applied = 0;
  uint64_t too_late = 0;   // refused by the server: beyond the allowed lateness
  uint64_t rejected = 0;   // refused by the server for any other reason
  uint64_t malformed = 0;  // lines that are not JSON objects (not sent)
  uint64_t failed = 0;     // events of requests without an answer or with an error status
  std::vector<std::pair<uint64_t, std::string>> errors;  // (line, reason), the first 100
  loadgen::LatencyHistogram window, total;               // per request, ns
};

void NoteError(ReplayTotals* t, uint64_t line, std::string reason) {
  if (t->errors.size() < kMaxReportedErrors) t->errors.emplace_back(line, std::move(reason));
}

// One request's worth of events: a JSON array body and each event's line.
struct Batch {
  std::string body;
  std::vector<uint64_t> lines;
  void Clear() {
    body.clear();
    lines.clear();
  }
};

// Adds the server's answer to a batch into the totals.
void Tally(const Result<serve_testing::HttpResponse>& r, const Batch& b, ReplayTotals* t) {
  nlohmann::json j;
  if (r.ok()) j = nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  if (!r.ok() || r->status != 200 || !j.is_object()) {
    t->failed += b.lines.size();
    NoteError(
        t, b.lines.front(),
        r.ok() ? "HTTP " + std::to_string(r->status) + ": " + r->body : r.status().ToString());
    return;
  }
  t->applied += j.value("applied", uint64_t{0});
  for (const nlohmann::json& e : j.value("errors", nlohmann::json::array())) {
    const std::size_t i = e.value("index", std::size_t{0});
    const std::string code = e.value("code", "");
    ++(code == "OUT_OF_RANGE" ? t->too_late : t->rejected);
    NoteError(t, i < b.lines.size() ? b.lines[i] : b.lines.front(),
              code + ": " + e.value("error", ""));
  }
}

// Sends batches at a fixed event rate over one keep-alive connection.
class Replayer {
 public:
  Replayer(const FeaturesReplayArgs& a, std::ostream& progress) : a_(a), progress_(progress) {}

  Status Connect() {
    auto c = serve_testing::HttpTestClient::Connect(a_.port, std::chrono::seconds(10));
    if (!c.ok()) {
      return UnavailableError("no server at 127.0.0.1:" + std::to_string(a_.port) + ": " +
                              c.status().message());
    }
    conn_ = std::make_unique<serve_testing::HttpTestClient>(std::move(*c));
    return OkStatus();
  }

  // Waits until the batch is due, sends it and tallies the answer.
  Status Send(const Batch& b) {
    const uint64_t due_events = t_.sent + b.lines.size();
    const auto due = a_.rate > 0 ? start_ + std::chrono::nanoseconds(static_cast<int64_t>(
                                                static_cast<double>(due_events) * 1e9 / a_.rate))
                                 : Steady::now();
    std::this_thread::sleep_until(due);
    Result<serve_testing::HttpResponse> r =
        conn_->Roundtrip(serve_testing::PostJson("/v1/features/events", b.body));
    const uint64_t ns =
        static_cast<uint64_t>(std::chrono::nanoseconds(Steady::now() - due).count());
    t_.sent += b.lines.size();
    Tally(r, b, &t_);
    if (r.ok()) {
      t_.window.Record(ns);
      t_.total.Record(ns);
    }
    MaybeReport();
    return r.ok() ? OkStatus() : Connect();  // the outcome of a lost request is unknown: no resend
  }

  ReplayTotals& totals() { return t_; }
  double seconds() const { return std::chrono::duration<double>(Steady::now() - start_).count(); }

 private:
  void MaybeReport() {
    if (Steady::now() < start_ + std::chrono::seconds(next_report_s_)) return;
    char line[256];
    std::snprintf(
        line, sizeof line,
        "features replay: %3ds  %8.0f events/s  applied %llu  too late %llu  rejected %llu"
        "  malformed %llu  failed %llu | request p50 %.0f us p99 %.0f us\n",
        next_report_s_, static_cast<double>(t_.sent - sent_at_report_) / SecondsSinceReport(),
        static_cast<unsigned long long>(t_.applied), static_cast<unsigned long long>(t_.too_late),
        static_cast<unsigned long long>(t_.rejected), static_cast<unsigned long long>(t_.malformed),
        static_cast<unsigned long long>(t_.failed), t_.window.Quantile(0.5) / 1e3,
        t_.window.Quantile(0.99) / 1e3);
    progress_ << line << std::flush;
    t_.window.Reset();
    sent_at_report_ = t_.sent;
    last_report_ = Steady::now();
    while (Steady::now() >= start_ + std::chrono::seconds(next_report_s_)) ++next_report_s_;
  }
  double SecondsSinceReport() const {
    return std::max(1e-9, std::chrono::duration<double>(Steady::now() - last_report_).count());
  }

  const FeaturesReplayArgs& a_;
  std::ostream& progress_;
  std::unique_ptr<serve_testing::HttpTestClient> conn_;
  ReplayTotals t_;
  const Steady::time_point start_ = Steady::now();
  Steady::time_point last_report_ = start_;
  int next_report_s_ = 1;
  uint64_t sent_at_report_ = 0;
};

std::string ReplaySummary(const ReplayTotals& t, double secs) {
  nlohmann::json j = {{"lines", t.lines},
                      {"sent", t.sent},
                      {"applied", t.applied},
                      {"too_late", t.too_late},
                      {"rejected", t.rejected},
                      {"malformed", t.malformed},
                      {"failed", t.failed},
                      {"seconds", secs},
                      {"events_per_s", secs > 0 ? static_cast<double>(t.sent) / secs : 0.0},
                      {"request_p50_us", t.total.Quantile(0.5) / 1e3},
                      {"request_p99_us", t.total.Quantile(0.99) / 1e3}};
  return j.dump() + "\n";
}

}  // namespace

Status RunFeaturesBackfill(const FeaturesBackfillArgs& a, std::ostream& summary,
                           std::ostream& diagnostics) {
  if (a.features.empty()) return InvalidArgumentError("--features: name at least one feature");
  ASSIGN_OR_RETURN(features::Definitions defs, features::LoadDefinitionsFile(a.definitions));
  std::ifstream in(a.events);
  if (!in) return NotFoundError("cannot open events file '" + a.events + "'");
  const std::string tmp = a.out + ".tmp";
  std::ofstream csv(tmp, std::ios::trunc);
  if (!csv) return NotFoundError("--out: cannot write '" + tmp + "'");
  features::BackfillOptions o;
  o.definitions = std::make_shared<const features::Definitions>(std::move(defs));
  o.features = a.features;
  o.passthrough_fields = a.passthrough;
  o.events_name = a.events;
  features::ReplayStats stats;
  Status st = features::Backfill(o, in, csv, &stats);
  csv.close();
  if (st.ok() && !csv) st = InternalError("--out: writing '" + tmp + "' failed");
  std::error_code ec;
  if (st.ok()) std::filesystem::rename(tmp, a.out, ec);
  if (st.ok() && ec) st = InternalError("--out: renaming '" + tmp + "': " + ec.message());
  if (!st.ok()) {
    std::filesystem::remove(tmp, ec);
    return st;
  }
  for (const auto& [line, why] : stats.errors) {
    diagnostics << a.events << ":" << line << ": " << why.ToString() << "\n";
  }
  summary << BackfillSummary(stats, a.out);
  return OkStatus();
}

Status RunFeaturesReplay(const FeaturesReplayArgs& a, std::ostream& progress,
                         std::ostream& summary) {
  if (a.rate < 0) return InvalidArgumentError("--rate must be >= 0, got " + std::to_string(a.rate));
  if (a.batch < 1 || a.batch > 100'000) {
    return InvalidArgumentError("--batch must be in 1..100000, got " + std::to_string(a.batch));
  }
  std::ifstream in(a.file);
  if (!in) return NotFoundError("cannot open events file '" + a.file + "'");
  Replayer replayer(a, progress);
  RETURN_IF_ERROR(replayer.Connect());
  ReplayTotals& t = replayer.totals();
  Batch batch;
  std::string line;
  for (uint64_t n = 1;
       (a.limit == 0 || t.lines < static_cast<uint64_t>(a.limit)) && std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    ++t.lines;
    if (!nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false).is_object()) {
      ++t.malformed;
      NoteError(&t, n, "not a JSON object");
      continue;
    }
    batch.body += batch.lines.empty() ? "[" : ",";
    batch.body += line;
    batch.lines.push_back(n);
    if (batch.lines.size() < static_cast<std::size_t>(a.batch)) continue;
    batch.body += "]";
    RETURN_IF_ERROR(replayer.Send(batch));
    batch.Clear();
  }
  if (!batch.lines.empty()) {
    batch.body += "]";
    RETURN_IF_ERROR(replayer.Send(batch));
  }
  for (const auto& [n, why] : t.errors) progress << a.file << ":" << n << ": " << why << "\n";
  summary << ReplaySummary(t, replayer.seconds());
  return OkStatus();
}

}  // namespace hotpath::cli
