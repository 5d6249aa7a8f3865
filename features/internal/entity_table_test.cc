#include "features/internal/entity_table.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "features/definitions.h"
#include "features/internal/plan.h"

namespace hotpath::features::internal {
namespace {

// Random inserts, finds and erasures against std::map as the reference.
TEST(EntityTableTest, MatchesStdMapUnderRandomOperations) {
  EntityTable table;
  std::map<std::string, int> ref;
  std::mt19937_64 rng(17);
  for (int step = 0; step < 200'000; ++step) {
    std::string key = "k" + std::to_string(rng() % 3'000);
    const uint64_t h = EntityHash(key);
    switch (rng() % 4) {
      case 0:
      case 1:
        table.FindOrInsert(h, key);
        ref.try_emplace(key, 0);
        break;
      case 2:
        EXPECT_EQ(table.Find(h, key) != nullptr, ref.count(key) == 1) << key;
        break;
      default: {
        const std::string prefix = "k" + std::to_string(rng() % 10);
        auto match = [&](const std::string& k) {
          return k.rfind(prefix, 0) == 0 && k.size() == prefix.size() + 2;
        };
        std::size_t removed =
            table.EraseIf([&](const EntityTable::Entry& e) { return match(e.key); });
        std::size_t expected = std::erase_if(ref, [&](const auto& kv) { return match(kv.first); });
        EXPECT_EQ(removed, expected);
      }
    }
    ASSERT_EQ(table.size(), ref.size());
  }
  for (const auto& [key, marker] : ref) {
    const EntityTable::Entry* e = table.Find(EntityHash(key), key);
    ASSERT_NE(e, nullptr) << key;
    EXPECT_EQ(e->key, key);
  }
}

// States growing in the huge-page arena while the table rehashes and erases
// around them: each keeps exactly the data of a twin state built outside the
// table, and survives an encode/decode round trip (what a snapshot does).
TEST(EntityTableTest, ArenaStatesSurviveGrowthErasureAndSnapshot) {
  const Definitions defs = ParseDefinitions(R"({
    "entities": [{"name": "user", "keys": ["id"]}],
    "sources": [{"name": "s", "entity": "user", "timestamp_field": "ts"}],
    "groups": [{"name": "g", "entity": "user", "bucket": "1m", "ttl": "1h",
      "windows": ["5m", "1h"],
      "aggregations": [{"name": "n", "source": "s", "kind": "count"},
                       {"name": "x", "source": "s", "field": "v", "kind": "max"}]}]})",
                                            "t.json")
                               .value();
  const GroupPlan plan = GroupPlan::Compile(defs, 0);
  auto encode = [&](const EntityState& st) {
    std::string out;
    ByteWriter w(&out);
    st.Encode(plan, w);
    return out;
  };
  EntityTable table;
  std::map<std::string, EntityState> twins;
  std::mt19937_64 rng(5);
  Event ev;
  ev.numbers = {0};
  for (int step = 0; step < 60'000; ++step) {
    ev.entity_key = "e" + std::to_string(rng() % 4'000);
    ev.ts_ms = int64_t{step} * 1'000;  // a minute bucket per 60 steps: states keep growing
    ev.numbers[0] = static_cast<double>(rng() % 1000);
    const uint64_t h = EntityHash(ev.entity_key);
    const int64_t now_b = BucketOf(ev.ts_ms, plan.bucket_ms);
    for (EntityState* st : {&table.FindOrInsert(h, ev.entity_key).state, &twins[ev.entity_key]}) {
      st->Advance(plan, now_b);
      st->Apply(plan, plan.sources[0], ev);
    }
    table.UpdateData(h, ev.entity_key);
    if (step % 15'000 == 14'999) {  // expire entities idle for 10 minutes, as the TTL sweep does
      auto idle = [&](const EntityState& st) { return ev.ts_ms - st.last_event_ms() > 600'000; };
      const std::size_t removed =
          table.EraseIf([&](const EntityTable::Entry& e) { return idle(e.state); });
      EXPECT_EQ(removed, std::erase_if(twins, [&](const auto& kv) { return idle(kv.second); }));
    }
  }
  ASSERT_EQ(table.size(), twins.size());
  for (const auto& [key, twin] : twins) {
    const EntityTable::Entry* e = table.Find(EntityHash(key), key);
    ASSERT_NE(e, nullptr) << key;
    const std::string bytes = encode(e->state);
    ASSERT_EQ(bytes, encode(twin)) << key;
    EntityState decoded;
    ByteReader r(bytes);
    ASSERT_TRUE(decoded.Decode(plan, r) && r.done()) << key;
    EXPECT_EQ(encode(decoded), bytes) << key;
  }
}

}  // namespace
}  // namespace hotpath::features::internal
