#include "features/replay.h"

#include <gtest/gtest.h>

#include <random>
#include <sstream>

#include "features/internal/brute_force_oracle.h"

namespace hotpath::features {
namespace {

const char* kDefs = R"({
  "entities": [{"name": "user", "keys": ["user_id"]}],
  "sources": [{"name": "txn", "entity": "user", "timestamp_field": "ts"}],
  "groups": [{
    "name": "g", "entity": "user", "bucket": "10s", "windows": ["1m", "10m", "lifetime"],
    "aggregations": [
      {"name": "count", "source": "txn", "kind": "count"},
      {"name": "sum", "source": "txn", "field": "v", "kind": "sum"},
      {"name": "max", "source": "txn", "field": "v", "kind": "max"}
    ]
  }]
})";

std::shared_ptr<const Definitions> Defs() {
  return std::make_shared<Definitions>(ParseDefinitions(kDefs, "t.json").value());
}

std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> out(1);
  for (char c : line) {
    if (c == ',') {
      out.emplace_back();
    } else {
      out.back().push_back(c);
    }
  }
  return out;
}

TEST(ReplayTest, ReplaysJsonlAndReportsBadLines) {
  auto defs = Defs();
  FakeClock clock{TimePoint(std::chrono::milliseconds(100'000))};
  FeatureStore::Options so;
  so.definitions = defs;
  so.clock = &clock;
  auto store = std::move(FeatureStore::Create(so)).value();
  auto parser = std::move(EventParser::Create(defs)).value();
  std::istringstream in(
      "{\"type\":\"txn\",\"user_id\":\"a\",\"ts\":100000,\"v\":2}\n"
      "not json\n"
      "\n"
      "{\"type\":\"txn\",\"user_id\":\"a\",\"ts\":1000,\"v\":2}\n"
      "{\"type\":\"txn\",\"user_id\":\"a\",\"ts\":100000,\"v\":3}\n");
  auto stats = ReplayJsonl(
      in, *parser,
      [&](std::span<const Event> b) -> Result<IngestReport> { return store->Ingest(b); },
      /*batch_size=*/2);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->lines, 4u);
  EXPECT_EQ(stats->applied, 2u);
  EXPECT_EQ(stats->rejected, 1u);
  EXPECT_EQ(stats->too_late, 1u);
  ASSERT_EQ(stats->errors.size(), 2u);
  EXPECT_EQ(stats->errors[0].first, 2u);
  EXPECT_EQ(stats->errors[1].first, 4u);
}

// Every backfilled row equals a brute-force recomputation over the events
// that came before it: point-in-time correct, nothing from the future.
TEST(BackfillTest, RowsArePointInTimeCorrect) {
  auto defs = Defs();
  std::mt19937_64 rng(4);
  std::ostringstream log;
  std::vector<internal::OracleEvent> events;
  int64_t ts = 1'700'000'000'000;
  for (int i = 0; i < 300; ++i) {
    ts += static_cast<int64_t>(rng() % 7'000);
    internal::OracleEvent e{"u" + std::to_string(rng() % 4), ts, static_cast<double>(rng() % 100),
                            0, 0};
    events.push_back(e);
    log << "{\"type\":\"txn\",\"user_id\":\"" << e.key << "\",\"ts\":" << e.ts << ",\"v\":" << e.v
        << ",\"label\":" << (i % 3 == 0) << "}\n";
  }
  BackfillOptions opt;
  opt.definitions = defs;
  opt.features = {"g.count.1m", "g.sum.10m", "g.max.1m", "g.count.lifetime"};
  opt.passthrough_fields = {"label"};
  std::istringstream in(log.str());
  std::ostringstream csv;
  ReplayStats stats;
  ASSERT_TRUE(Backfill(opt, in, csv, &stats).ok());
  EXPECT_EQ(stats.applied, events.size());
  std::istringstream rows(csv.str());
  std::string line;
  std::getline(rows, line);
  EXPECT_EQ(line, "entity,ts_ms,label,g.count.1m,g.sum.10m,g.max.1m,g.count.lifetime");
  internal::Oracle before(*defs);
  const AggRef refs[] = {{0, 0}, {1, 1}, {2, 0}, {0, 2}};
  for (std::size_t i = 0; i < events.size(); ++i) {
    ASSERT_TRUE(std::getline(rows, line));
    std::vector<std::string> cells = Split(line);
    ASSERT_EQ(cells.size(), 7u) << line;
    EXPECT_EQ(cells[0], events[i].key);
    EXPECT_EQ(cells[2], i % 3 == 0 ? "1" : "0");
    for (int f = 0; f < 4; ++f) {
      auto in_window = before.InWindow(events[i].key, refs[f].window, events[i].ts);
      double want = 0;
      for (const auto* e : in_window) {
        want = refs[f].aggregation == 0   ? want + 1
               : refs[f].aggregation == 1 ? want + e->v
                                          : std::max(want, e->v);
      }
      const bool unknown_entity = before.LastTs(events[i].key) == INT64_MIN;
      if (unknown_entity || (refs[f].aggregation == 2 && in_window.empty())) {
        EXPECT_EQ(cells[3 + f], "") << line;
      } else {
        EXPECT_DOUBLE_EQ(std::stod(cells[3 + f]), want) << i << " " << line;
      }
    }
    before.Add(events[i]);
  }
}

TEST(BackfillTest, RefusesUnsortedLog) {
  std::istringstream in(
      "{\"type\":\"txn\",\"user_id\":\"a\",\"ts\":5000,\"v\":1}\n"
      "{\"type\":\"txn\",\"user_id\":\"a\",\"ts\":4000,\"v\":1}\n");
  std::ostringstream csv;
  ReplayStats stats;
  BackfillOptions opt;
  opt.definitions = Defs();
  opt.features = {"g.count.1m"};
  Status st = Backfill(opt, in, csv, &stats);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("line 2"), std::string::npos);
}

}  // namespace
}  // namespace hotpath::features
