// Crash test: a child process ingests and acknowledges batches, is SIGKILLed
// mid-stream, and the recovered store must hold every acknowledged event —
// checked aggregate by aggregate against a brute-force recomputation.
#include "features/durable_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "features/internal/brute_force_oracle.h"

namespace hotpath::features {
namespace {

constexpr int64_t kStartMs = 1'700'000'000'000;
constexpr int64_t kStepMs = 250;
constexpr int kKeys = 20;

const char* kDefs = R"({
  "entities": [{"name": "user", "keys": ["user_id"]}],
  "sources": [{"name": "txn", "entity": "user", "timestamp_field": "ts"}],
  "groups": [{
    "name": "g", "entity": "user", "bucket": "1s", "allowed_lateness": "1m",
    "windows": ["10s", "1m", "lifetime"],
    "aggregations": [
      {"name": "count", "source": "txn", "kind": "count"},
      {"name": "sum", "source": "txn", "field": "v", "kind": "sum"},
      {"name": "min", "source": "txn", "field": "v", "kind": "min"},
      {"name": "max", "source": "txn", "field": "v", "kind": "max"},
      {"name": "std", "source": "txn", "field": "v", "kind": "stddev"},
      {"name": "first", "source": "txn", "field": "v", "kind": "first"},
      {"name": "last", "source": "txn", "field": "v", "kind": "last"},
      {"name": "distinct", "source": "txn", "field": "k", "kind": "distinct_count"},
      {"name": "p90", "source": "txn", "field": "v", "kind": "quantile", "q": 0.9},
      {"name": "recent", "source": "txn", "field": "w", "kind": "last_n", "n": 4}
    ]
  }]
})";

std::shared_ptr<const Definitions> Defs() {
  return std::make_shared<Definitions>(ParseDefinitions(kDefs, "t.json").value());
}

// Batch `i` (deterministic): a few events near its clock time, plus one event
// of the "batches" entity so that recovery can count persisted batches.
std::vector<internal::OracleEvent> MakeBatch(int i) {
  std::mt19937_64 rng(1000 + i);
  const int64_t now = kStartMs + i * kStepMs;
  std::vector<internal::OracleEvent> out;
  for (int e = 0, n = 1 + static_cast<int>(rng() % 8); e < n; ++e) {
    int64_t ts = now - static_cast<int64_t>(rng() % 5'000);
    out.push_back({"u" + std::to_string(rng() % kKeys), ts,
                   static_cast<double>(static_cast<int>(rng() % 1000) - 500),
                   static_cast<double>(ts) + static_cast<double>(e) / 16, rng() % 30});
  }
  out.push_back({"batches", now, 1, static_cast<double>(now), 0});
  return out;
}

std::vector<Event> ToEvents(const std::vector<internal::OracleEvent>& batch) {
  std::vector<Event> events;
  for (const auto& o : batch) {
    events.push_back(Event{0, o.key, o.ts, {o.v, o.w}, {KeyedValueHash(std::to_string(o.k))}});
  }
  return events;
}

DurableFeatureStore::Options Opts(const std::string& dir, const Clock* clock, bool deferred = false) {
  DurableFeatureStore::Options o;
  o.deferred_log = deferred;
  o.store.definitions = Defs();
  o.store.clock = clock;
  o.store.shards = 8;
  o.dir = dir;
  o.snapshot_after_bytes = 24 << 10;  // several snapshots during the run
  return o;
}

// With deferred logging the child flushes (and acknowledges) every this many batches.
constexpr int kFlushEvery = 3;

// Child: ingest forever, writing each acknowledged batch number to `ack_fd`.
// Deferred: a batch is acknowledged once a Flush after its Ingest returned.
[[noreturn]] void RunChild(const std::string& dir, int ack_fd, bool deferred) {
  FakeClock clock{TimePoint(std::chrono::milliseconds(kStartMs))};
  auto store = DurableFeatureStore::Open(Opts(dir, &clock, deferred));
  if (!store.ok()) _exit(2);
  for (int32_t i = 0;; ++i) {
    auto report = (*store)->Ingest(ToEvents(MakeBatch(i)));
    if (!report.ok() || !report->errors.empty()) _exit(3);
    clock.Advance(std::chrono::milliseconds(kStepMs));
    if (deferred && i % kFlushEvery != kFlushEvery - 1) continue;
    if (!(*store)->Flush().ok()) _exit(5);
    if (::write(ack_fd, &i, sizeof i) != sizeof i) _exit(4);
  }
}

std::string TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "hp-durable-XXXXXX").string();
  return ::mkdtemp(tmpl.data());
}

// Reads every aggregate of every entity and checks it against the oracle.
void CheckRecovered(const FeatureStore& store, const internal::Oracle& oracle, int64_t now) {
  const Definitions& defs = store.definitions();
  const FeatureGroupDef& g = defs.groups[0];
  std::vector<std::string> names;
  for (const AggregationDef& a : g.aggregations) {
    for (const WindowDef& w : g.windows) names.push_back("g." + a.name + "." + w.name);
  }
  FeatureSelector sel = FeatureSelector::Create(defs, names).value();
  std::vector<std::string> ids;
  for (int k = 0; k < kKeys; ++k) ids.push_back("u" + std::to_string(k));
  std::vector<FeatureValue> out;
  ASSERT_TRUE(store.Read(ids, sel, {}, &out).ok());
  for (std::size_t e = 0; e < ids.size(); ++e) {
    for (std::size_t i = 0; i < names.size(); ++i) {
      const FeatureRef& r = sel.refs()[i];
      internal::CheckAgg(g.aggregations[r.index], oracle.InWindow(ids[e], r.window, now),
                         out[e * names.size() + i], false, ids[e] + " " + names[i]);
    }
  }
}

// Both logging modes: the log written by each Ingest, or deferred to Flush.
class DurableStoreCrashTest : public ::testing::TestWithParam<bool> {};

INSTANTIATE_TEST_SUITE_P(LogModes, DurableStoreCrashTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Deferred" : "PerIngest"; });

TEST_P(DurableStoreCrashTest, SigkillMidStreamLosesNoAcknowledgedEvent) {
  const bool deferred = GetParam();
  const std::string dir = TempDir();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    RunChild(dir, fds[1], deferred);
  }
  ::close(fds[1]);
  int32_t ack = -1, last_acked = -1;
  while (::read(fds[0], &ack, sizeof ack) == sizeof ack) {
    if (last_acked < 300 && ack >= 300) ::kill(pid, SIGKILL);  // mid-stream: the child is ingesting
    last_acked = ack;
  }
  ::close(fds[0]);
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) << "child exited " << wstatus;
  ASSERT_GE(last_acked, 300);

  // Late enough for every batch that may have persisted (read windows end at now).
  const int64_t now = kStartMs + (last_acked + 1 + (deferred ? kFlushEvery : 1)) * kStepMs;
  FakeClock clock{TimePoint(std::chrono::milliseconds(now))};
  auto store = DurableFeatureStore::Open(Opts(dir, &clock));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  // Batches 0..last_acked were acknowledged; those after it may or may not
  // be there (the one in flight, or with deferred logging those since the
  // last acknowledged Flush and the one after).
  std::vector<std::string> counter = {"batches"};
  std::vector<FeatureValue> out;
  auto sel = FeatureSelector::Create((*store)->store().definitions(),
                                     std::vector<std::string>{"g.count.lifetime"})
                 .value();
  ASSERT_TRUE((*store)->store().Read(counter, sel, {}, &out).ok());
  ASSERT_EQ(out[0].status, ValueStatus::kPresent);
  const int persisted = static_cast<int>(out[0].value);
  EXPECT_GE(persisted, last_acked + 1);
  EXPECT_LE(persisted, last_acked + 1 + (deferred ? kFlushEvery : 1));
  internal::Oracle checked((*store)->store().definitions());
  for (int i = 0; i < persisted; ++i) {
    for (auto& e : MakeBatch(i)) checked.Add(e);
  }
  CheckRecovered((*store)->store(), checked, now);
  std::filesystem::remove_all(dir);
}

TEST(DurableStoreTest, TornTailIsCutAndSnapshotsRoundTrip) {
  const std::string dir = TempDir();
  FakeClock clock{TimePoint(std::chrono::milliseconds(kStartMs))};
  auto defs = Defs();
  internal::Oracle oracle(*defs);
  {
    auto store = DurableFeatureStore::Open(Opts(dir, &clock)).value();
    for (int i = 0; i < 40; ++i) {
      auto batch = MakeBatch(i);
      ASSERT_TRUE(store->Ingest(ToEvents(batch)).ok());
      for (auto& e : batch) oracle.Add(e);
      if (i == 20) {
        ASSERT_TRUE(store->Snapshot().ok());
      }
      clock.Advance(std::chrono::milliseconds(kStepMs));
    }
    EXPECT_TRUE(store->LastSnapshotStatus().ok()) << store->LastSnapshotStatus().ToString();
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".log") {
      std::ofstream(entry.path(), std::ios::app | std::ios::binary) << "\x10\x00\x00\x00torn";
    }
  }
  auto store = DurableFeatureStore::Open(Opts(dir, &clock));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  CheckRecovered((*store)->store(), oracle, WallMillis(clock));
  std::filesystem::remove_all(dir);
}

// Deferred logging: Ingest applies at once (reads see it) and leaves the
// file alone; Flush writes the queued batches, which a reopen then recovers.
TEST(DurableStoreTest, DeferredLogIsWrittenByFlush) {
  const std::string dir = TempDir();
  FakeClock clock{TimePoint(std::chrono::milliseconds(kStartMs))};
  DurableFeatureStore::Options o = Opts(dir, &clock, /*deferred=*/true);
  o.snapshot_after_bytes = 0;
  auto log_bytes = [&] {
    uintmax_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      if (e.path().extension() == ".log") n += std::filesystem::file_size(e.path());
    }
    return n;
  };
  auto defs = Defs();
  internal::Oracle oracle(*defs);
  {
    auto store = DurableFeatureStore::Open(o).value();
    for (int i = 0; i < 40; ++i) {  // enough for every key to have events (CheckRecovered)
      auto batch = MakeBatch(i);
      auto report = store->Ingest(ToEvents(batch));
      ASSERT_TRUE(report.ok() && report->errors.empty());
      for (auto& e : batch) oracle.Add(e);
      clock.Advance(std::chrono::milliseconds(kStepMs));
    }
    EXPECT_EQ(log_bytes(), 0u);
    {
      SCOPED_TRACE("applied, not yet logged");
      CheckRecovered(store->store(), oracle, WallMillis(clock));
    }
    ASSERT_TRUE(store->Flush().ok());
    const uintmax_t flushed = log_bytes();
    EXPECT_GT(flushed, 0u);
    ASSERT_TRUE(store->Flush().ok());  // nothing queued: nothing written
    EXPECT_EQ(log_bytes(), flushed);
    auto reopened = DurableFeatureStore::Open(Opts(dir, &clock));  // as after a crash here
    ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
    SCOPED_TRACE("recovered from the log");
    CheckRecovered((*reopened)->store(), oracle, WallMillis(clock));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hotpath::features
