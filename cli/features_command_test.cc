// `hotpath features backfill` and `hotpath features replay`, and the proof
// that training and serving agree: a labeled event log goes one event at a
// time through the server's own feature routes (FeaturesHttpApp over a
// DurableFeatureStore whose clock follows event time), the online answer is
// captured just before each event is ingested, and every row the backfill CLI
// writes for the same log must equal the captured values exactly.
#include "cli/features_command.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "core/clock.h"
#include "features/durable_store.h"
#include "serve/apps/features_http.h"
#include "serve/apps/features_http_server.h"

namespace hotpath::cli {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kStartMs = 1'767'225'600'000;  // 2026-01-01

// Every aggregation kind over two finite windows and lifetime, and every
// derived kind that needs no profile.
const char* kDefs = R"({
  "entities": [{"name": "user", "keys": ["user_id"]}],
  "sources": [
    {"name": "txn", "entity": "user", "timestamp_field": "ts"},
    {"name": "login", "entity": "user", "timestamp_field": "at", "timestamp_unit": "s"}
  ],
  "groups": [{
    "name": "u", "entity": "user", "bucket": "10s", "allowed_lateness": "1h", "retention": "1h",
    "windows": ["1m", "10m", "lifetime"],
    "aggregations": [
      {"name": "count", "source": "txn", "kind": "count"},
      {"name": "sum", "source": "txn", "field": "amount", "kind": "sum"},
      {"name": "mean", "source": "txn", "field": "amount", "kind": "mean"},
      {"name": "min", "source": "txn", "field": "amount", "kind": "min"},
      {"name": "max", "source": "txn", "field": "amount", "kind": "max"},
      {"name": "sd", "source": "txn", "field": "amount", "kind": "stddev"},
      {"name": "first", "source": "txn", "field": "amount", "kind": "first"},
      {"name": "last", "source": "txn", "field": "amount", "kind": "last"},
      {"name": "merchants", "source": "txn", "field": "merchant", "kind": "distinct_count"},
      {"name": "p90", "source": "txn", "field": "amount", "kind": "quantile", "q": 0.9},
      {"name": "recent", "source": "txn", "field": "amount", "kind": "last_n", "n": 3},
      {"name": "logins", "source": "login", "kind": "count"}
    ],
    "derived": [
      {"name": "ratio", "kind": "ratio", "numerator": "sum.1m", "denominator": "sum.10m"},
      {"name": "log_sum", "kind": "log1p", "input": "sum.10m"},
      {"name": "since_txn", "kind": "time_since_last", "source": "txn"},
      {"name": "hour", "kind": "hour_of_day"}
    ]
  }]
})";

std::vector<std::string> AllFeatures() {
  std::vector<std::string> out;
  for (const char* agg : {"count", "sum", "mean", "min", "max", "sd", "first", "last", "merchants",
                          "p90", "recent", "logins"}) {
    for (const char* w : {"1m", "10m", "lifetime"})
      out.push_back(std::string("u.") + agg + "." + w);
  }
  for (const char* d : {"ratio", "log_sum", "since_txn", "hour"})
    out.push_back(std::string("u.") + d);
  return out;
}

// A fresh directory under the system temp dir, removed at scope exit.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / (name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string File(const std::string& name, const std::string& text = "") const {
    const std::string p = (path / name).string();
    if (!text.empty()) std::ofstream(p) << text;
    return p;
  }
};

// A labeled log sorted by event time: four users, bursts and idle gaps
// (windows slide out), repeated timestamps, logins (timestamps in seconds),
// and two malformed lines.
std::vector<std::string> LabeledLog(std::size_t n) {
  std::mt19937_64 rng(7);
  std::vector<std::string> lines;
  int64_t ts = kStartMs;
  for (std::size_t i = 0; i < n; ++i) {
    const int gap = rng() % 10 == 0 ? 700'000 : static_cast<int>(rng() % 4) * 3'000;
    ts += gap;
    const std::string user = "user" + std::to_string(rng() % 4);
    nlohmann::json ev;
    if (rng() % 6 == 0) {
      ts = (ts + 999) / 1000 * 1000;  // logins carry seconds: round up, keeping the log sorted
      ev = {{"type", "login"}, {"user_id", user}, {"at", ts / 1000}};
    } else {
      ev = {{"type", "txn"},
            {"user_id", user},
            {"ts", ts},
            {"amount", static_cast<double>(rng() % 20'000) / 100 - 20},
            {"merchant", "m" + std::to_string(rng() % 9)},
            {"label", rng() % 5 == 0 ? 1 : 0}};
    }
    lines.push_back(ev.dump());
    if (i == n / 3) lines.push_back("{\"type\": \"txn\", \"user_id\": ");            // not JSON
    if (i == n / 2) lines.push_back(R"({"type": "txn", "user_id": "u", "ts": 1})");  // no amount
  }
  return lines;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

HttpAppResponse Call(HttpApp& app, std::string_view path, const std::string& body) {
  HttpAppResponse out;
  EXPECT_TRUE(
      app.Handle({"POST", path, "", body}, [&out](HttpAppResponse r) { out = std::move(r); }));
  return out;
}

// A feature as a CSV cell: empty unless present; last_n as its list length.
std::string Cell(const nlohmann::json& v) {
  if (v["status"] != "present") return "";
  const double x =
      v.contains("values") ? static_cast<double>(v["values"].size()) : v["value"].get<double>();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

// The online store behind the server's feature routes, its clock following
// event time: what serving answered just before each event.
struct OnlineCapture {
  std::vector<std::string> rows;  // "entity,ts,label,cells..." per applied event
  std::size_t applied = 0;
};

OnlineCapture CaptureOnline(const std::vector<std::string>& log, const std::string& state_dir) {
  auto defs = std::make_shared<const features::Definitions>(
      features::ParseDefinitions(kDefs, "defs.json").value());
  FakeClock clock{TimePoint(std::chrono::milliseconds(kStartMs))};
  features::DurableFeatureStore::Options so;
  so.store.definitions = defs;
  so.store.clock = &clock;
  so.dir = state_dir;
  so.sync = false;
  auto store = std::move(features::DurableFeatureStore::Open(so)).value();
  auto app = std::move(FeaturesHttpApp::Create(defs, store.get())).value();
  const nlohmann::json features = AllFeatures();
  OnlineCapture out;
  for (const std::string& line : log) {
    const nlohmann::json ev = nlohmann::json::parse(line, nullptr, false);
    if (ev.is_discarded() || !ev.contains("user_id") ||
        (ev["type"] == "txn" && !ev.contains("amount")))
      continue;
    const int64_t ts =
        ev["type"] == "txn" ? ev["ts"].get<int64_t>() : ev["at"].get<int64_t>() * 1000;
    clock.Advance(std::chrono::milliseconds(ts - features::WallMillis(clock)));
    const nlohmann::json read = {{"entities", nlohmann::json::array({ev["user_id"]})},
                                 {"features", features}};
    HttpAppResponse r = Call(*app, "/v1/features/read", read.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    std::string row = ev["user_id"].get<std::string>() + "," + std::to_string(ts) + "," +
                      (ev.contains("label") ? std::to_string(ev["label"].get<int>()) : "");
    const nlohmann::json answer = nlohmann::json::parse(r.body);
    for (const nlohmann::json& v : answer["values"][0]) row += "," + Cell(v);
    out.rows.push_back(row);
    HttpAppResponse ingest = Call(*app, "/v1/features/events", "[" + line + "]");
    out.applied += nlohmann::json::parse(ingest.body)["applied"].get<std::size_t>();
  }
  return out;
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(FeaturesBackfillTest, RowsEqualOnlineReadsCapturedBeforeEachEvent) {
  TempDir dir("hotpath_backfill_proof");
  const std::vector<std::string> log = LabeledLog(1500);
  const OnlineCapture online = CaptureOnline(log, (dir.path / "state").string());
  ASSERT_EQ(online.rows.size(), 1500u);
  ASSERT_EQ(online.applied, 1500u);

  FeaturesBackfillArgs a;
  a.events = dir.File("events.jsonl", Join(log));
  a.definitions = dir.File("defs.json", kDefs);
  a.features = AllFeatures();
  a.passthrough = {"label"};
  a.out = (dir.path / "training.csv").string();
  std::ostringstream summary, diagnostics;
  ASSERT_TRUE(RunFeaturesBackfill(a, summary, diagnostics).ok());
  const nlohmann::json s = nlohmann::json::parse(summary.str());
  EXPECT_EQ(s["rows"], 1500);
  EXPECT_EQ(s["applied"], 1500);
  EXPECT_EQ(s["rejected"], 2);  // the two malformed lines, named with their line numbers:
  EXPECT_NE(diagnostics.str().find("events.jsonl:" + std::to_string(1500 / 3 + 2) + ":"),
            std::string::npos)
      << diagnostics.str();

  const std::vector<std::string> csv = ReadLines(a.out);
  ASSERT_EQ(csv.size(), 1 + online.rows.size());
  std::string header = "entity,ts_ms,label";
  for (const std::string& f : a.features) header += "," + f;
  EXPECT_EQ(csv[0], header);
  std::size_t present = 0;
  for (std::size_t i = 0; i < online.rows.size(); ++i) {
    ASSERT_EQ(csv[i + 1], online.rows[i]) << "row " << i + 1 << " (log order) differs";
    present += csv[i + 1].find(",,") == std::string::npos;
  }
  EXPECT_GT(present, 100u);  // most rows have every feature: the comparison is not vacuous
  EXPECT_FALSE(fs::exists(a.out + ".tmp"));
}

TEST(FeaturesBackfillTest, RefusesAnUnsortedLogNamingTheLineAndLeavesNoFile) {
  TempDir dir("hotpath_backfill_unsorted");
  FeaturesBackfillArgs a;
  a.events = dir.File(
      "events.jsonl",
      "{\"type\":\"txn\",\"user_id\":\"a\",\"ts\":2000,\"amount\":1,\"merchant\":\"m\"}\n"
      "{\"type\":\"txn\",\"user_id\":\"a\",\"ts\":3000,\"amount\":1,\"merchant\":\"m\"}\n"
      "{\"type\":\"txn\",\"user_id\":\"a\",\"ts\":1000,\"amount\":1,\"merchant\":\"m\"}\n");
  a.definitions = dir.File("defs.json", kDefs);
  a.features = {"u.count.1m"};
  a.out = (dir.path / "out.csv").string();
  std::ostringstream summary, diagnostics;
  Status st = RunFeaturesBackfill(a, summary, diagnostics);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find(a.events + ": line 3"), std::string::npos) << st.message();
  EXPECT_FALSE(fs::exists(a.out));
  EXPECT_FALSE(fs::exists(a.out + ".tmp"));
}

TEST(FeaturesBackfillTest, RefusesBadInputsWithTheirNames) {
  TempDir dir("hotpath_backfill_bad");
  FeaturesBackfillArgs a;
  a.events = dir.File("events.jsonl", "{}\n");
  a.definitions = dir.File("defs.json", kDefs);
  a.features = {"u.nope.1m"};
  a.out = (dir.path / "out.csv").string();
  std::ostringstream summary, diagnostics;
  Status st = RunFeaturesBackfill(a, summary, diagnostics);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("u.nope.1m"), std::string::npos) << st.message();
  a.features = {};
  EXPECT_EQ(RunFeaturesBackfill(a, summary, diagnostics).code(), StatusCode::kInvalidArgument);
  a.features = {"u.count.1m"};
  a.definitions = (dir.path / "missing.json").string();
  EXPECT_EQ(RunFeaturesBackfill(a, summary, diagnostics).code(), StatusCode::kNotFound);
  a.definitions = dir.File("defs.json", kDefs);
  a.events = (dir.path / "missing.jsonl").string();
  EXPECT_EQ(RunFeaturesBackfill(a, summary, diagnostics).code(), StatusCode::kNotFound);
}

// ---- the real binary -------------------------------------------------------

struct ProcessResult {
  int exit_code = -1;
  std::string out, err;
};

ProcessResult RunHotpath(const std::vector<std::string>& args, const TempDir& dir) {
  std::string cmd = HOTPATH_BINARY;
  for (const std::string& a : args) cmd += " '" + a + "'";
  const std::string out = (dir.path / "stdout").string(), err = (dir.path / "stderr").string();
  cmd += " >" + out + " 2>" + err;
  const int status = std::system(cmd.c_str());
  ProcessResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::stringstream o, e;
  o << std::ifstream(out).rdbuf();
  e << std::ifstream(err).rdbuf();
  r.out = o.str();
  r.err = e.str();
  return r;
}

TEST(FeaturesCliTest, BackfillEndToEnd) {
  TempDir dir("hotpath_features_cli");
  const std::string defs = dir.File("defs.json", kDefs);
  const std::string good =
      dir.File("good.jsonl",
               "{\"type\":\"txn\",\"user_id\":\"a\",\"ts\":1000,\"amount\":5,\"merchant\":\"m\","
               "\"label\":1}\n"
               "garbage\n"
               "{\"type\":\"txn\",\"user_id\":\"a\",\"ts\":2000,\"amount\":7,\"merchant\":\"m\","
               "\"label\":0}\n"
               "{\"type\":\"txn\",\"user_id\":\"a\",\"ts\":2500,\"merchant\":\"m\"}\n");
  const std::string out = (dir.path / "train.csv").string();
  ProcessResult ok = RunHotpath({"features", "backfill", good, "--definitions", defs, "--features",
                                 "u.count.1m,u.sum.1m", "--passthrough", "label", "--out", out},
                                dir);
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  const nlohmann::json s = nlohmann::json::parse(ok.out);
  EXPECT_EQ(s["rows"], 2);
  EXPECT_EQ(s["rejected"], 2);  // malformed lines are counted, named, and skipped
  EXPECT_NE(ok.err.find(good + ":2:"), std::string::npos) << ok.err;
  EXPECT_NE(ok.err.find(good + ":4:"), std::string::npos) << ok.err;
  EXPECT_EQ(ReadLines(out), (std::vector<std::string>{"entity,ts_ms,label,u.count.1m,u.sum.1m",
                                                      "a,1000,1,,", "a,2000,0,1,5"}));

  const std::string unsorted = dir.File(
      "unsorted.jsonl",
      "{\"type\":\"txn\",\"user_id\":\"a\",\"ts\":2000,\"amount\":5,\"merchant\":\"m\"}\n"
      "{\"type\":\"txn\",\"user_id\":\"a\",\"ts\":1000,\"amount\":5,\"merchant\":\"m\"}\n");
  ProcessResult bad = RunHotpath({"features", "backfill", unsorted, "--definitions", defs,
                                  "--features", "u.count.1m", "--out", out + "2"},
                                 dir);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find(unsorted + ": line 2"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(out + "2"));

  ProcessResult missing =
      RunHotpath({"features", "backfill", good, "--features", "u.count.1m", "--out", out}, dir);
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("--definitions"), std::string::npos) << missing.err;
  ProcessResult no_sub = RunHotpath({"features"}, dir);
  EXPECT_NE(no_sub.exit_code, 0);
}

// ---- replay into a running server -------------------------------------------

struct FeatureServer {
  FakeClock clock{TimePoint(std::chrono::milliseconds(kStartMs + 3'700'000))};
  std::unique_ptr<features::DurableFeatureStore> store;
  std::unique_ptr<FeaturesHttpApp> app;
  std::unique_ptr<FeaturesHttpServer> http;

  explicit FeatureServer(const std::string& dir) {
    auto defs = std::make_shared<const features::Definitions>(
        features::ParseDefinitions(kDefs, "defs.json").value());
    features::DurableFeatureStore::Options so;
    so.store.definitions = defs;
    so.store.clock = &clock;
    so.dir = dir;
    so.sync = false;
    store = std::move(features::DurableFeatureStore::Open(so)).value();
    app = std::move(FeaturesHttpApp::Create(defs, store.get())).value();
    http = std::move(FeaturesHttpServer::Start({}, app.get())).value();
  }
};

TEST(FeaturesReplayTest, StreamsEventsIntoTheServerAndCountsRefusals) {
  TempDir dir("hotpath_features_replay");
  FeatureServer server((dir.path / "state").string());
  std::string log;
  for (int i = 0; i < 250; ++i) {
    log +=
        "{\"type\":\"txn\",\"user_id\":\"r\",\"ts\":" + std::to_string(kStartMs + 3'000'000 + i) +
        ",\"amount\":2,\"merchant\":\"m\"}\n";
    if (i == 10) log += "not json\n";
    if (i == 20)
      log += "{\"type\":\"txn\",\"user_id\":\"r\",\"ts\":" + std::to_string(kStartMs) +
             ",\"amount\":1,\"merchant\":\"m\"}\n";                // beyond the 1h lateness
    if (i == 30) log += "{\"type\":\"txn\",\"user_id\":\"r\"}\n";  // no timestamp
  }
  FeaturesReplayArgs a;
  a.file = dir.File("events.jsonl", log);
  a.port = server.http->port();
  a.rate = 200;  // 253 events: about 1.3 s, so at least one progress line
  a.batch = 50;
  std::ostringstream progress, summary;
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(RunFeaturesReplay(a, progress, summary).ok()) << progress.str();
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1200));
  const nlohmann::json s = nlohmann::json::parse(summary.str());
  EXPECT_EQ(s["lines"], 253);
  EXPECT_EQ(s["sent"], 252);
  EXPECT_EQ(s["applied"], 250);
  EXPECT_EQ(s["too_late"], 1);
  EXPECT_EQ(s["rejected"], 1);
  EXPECT_EQ(s["malformed"], 1);
  EXPECT_EQ(s["failed"], 0);
  EXPECT_NE(progress.str().find("features replay:"), std::string::npos) << progress.str();
  EXPECT_NE(progress.str().find("events.jsonl:12: not a JSON object"), std::string::npos)
      << progress.str();
  EXPECT_NE(progress.str().find("events.jsonl:23: OUT_OF_RANGE"), std::string::npos)
      << progress.str();

  // The events are in the server's store.
  auto sel = features::FeatureSelector::Create(server.store->store().definitions(),
                                               std::vector<std::string>{"u.count.lifetime"});
  std::vector<features::FeatureValue> values;
  ASSERT_TRUE(server.store->store().Read(std::vector<std::string>{"r"}, *sel, {}, &values).ok());
  EXPECT_EQ(values[0].value, 250);
}

TEST(FeaturesReplayTest, RefusesBadArgumentsAndMissingServers) {
  TempDir dir("hotpath_features_replay_bad");
  FeaturesReplayArgs a;
  a.file = dir.File("events.jsonl", "{}\n");
  std::ostringstream progress, summary;
  a.rate = -1;
  EXPECT_EQ(RunFeaturesReplay(a, progress, summary).code(), StatusCode::kInvalidArgument);
  a.rate = 10;
  a.batch = 0;
  EXPECT_EQ(RunFeaturesReplay(a, progress, summary).code(), StatusCode::kInvalidArgument);
  a.batch = 10;
  a.file = (dir.path / "missing.jsonl").string();
  EXPECT_EQ(RunFeaturesReplay(a, progress, summary).code(), StatusCode::kNotFound);
  a.file = dir.File("events.jsonl", "{}\n");
  a.port = 1;  // nothing listens there
  EXPECT_EQ(RunFeaturesReplay(a, progress, summary).code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace hotpath::cli
