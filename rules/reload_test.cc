// Reload under concurrent evaluation: readers never see a torn or freed rule
// set, failed reloads change nothing, and old versions outlive a swap for as
// long as a request holds them.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "rules/reloadable_rule_set.h"
#include "rules/schema.h"

namespace hotpath::rules {
namespace {

std::shared_ptr<const Schema> ReloadSchema() {
  static const std::shared_ptr<const Schema> schema = *Schema::Create({{
      {"amount", Type::kNumber, Stage::kPreModel},
      {"country", Type::kString, Stage::kPreModel},
  }});
  return schema;
}

// Version k of the rules: rule "v<k>" (block, score k) and "tail<k>" (score 1000).
std::string Version(int k) {
  std::string n = std::to_string(k);
  return "rule v" + n + " action=block score=" + n + ": amount > 0\n" + "rule tail" + n +
         " score=1000: lower(country) in [\"ng\", \"ru\"]\n";
}

// Checks that what fired comes wholly from the one version `rs` holds.
bool Consistent(const RuleSet& rs, const Verdict& v) {
  if (rs.rule_count() != 2 || v.fired().size() != 2) return false;
  int k = std::stoi(rs.rule(0).name.substr(1));
  return rs.rule(v.fired()[0]).name == "v" + std::to_string(k) &&
         rs.rule(v.fired()[1]).name == "tail" + std::to_string(k) && v.score() == k + 1000 &&
         v.action() == Action::kBlock;
}

TEST(ReloadTest, ConcurrentEvaluationSeesWholeVersions) {
  auto live = ReloadableRuleSet::Create({ReloadSchema(), Version(0), "v0.rules"});
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  ReloadableRuleSet& rules = **live;
  std::atomic<bool> stop{false};
  std::atomic<long> evaluations{0}, inconsistent{0};
  auto reader = [&] {
    Inputs in(ReloadSchema());
    in.SetNumber(0, 5);
    in.SetString(1, "NG");
    Verdict v;
    while (!stop.load(std::memory_order_relaxed)) {
      std::shared_ptr<const RuleSet> rs = rules.Current();
      v.Clear();
      rs->Evaluate(in, Phase::kAll, &v);
      if (!Consistent(*rs, v)) inconsistent.fetch_add(1);
      evaluations.fetch_add(1, std::memory_order_relaxed);
    }
  };
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i) readers.emplace_back(reader);
  const int kReloads = 300;
  for (int k = 1; k <= kReloads; ++k) {
    ASSERT_TRUE(rules.Reload(Version(k), "v" + std::to_string(k) + ".rules").ok());
    if (k % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (evaluations.load() < 1000 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(inconsistent.load(), 0);
  EXPECT_GT(evaluations.load(), 0);
  EXPECT_EQ(rules.generation(), static_cast<uint64_t>(kReloads));
  EXPECT_EQ(rules.Current()->rule(0).name, "v" + std::to_string(kReloads));
}

TEST(ReloadTest, FailedReloadKeepsTheCurrentVersion) {
  auto live = ReloadableRuleSet::Create({ReloadSchema(), Version(1), "v1.rules"});
  ASSERT_TRUE(live.ok());
  std::shared_ptr<const RuleSet> before = (*live)->Current();
  Status st = (*live)->Reload("rule broken: amount >", "broken.rules");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message().rfind("broken.rules:1:", 0), 0u) << st.message();
  EXPECT_EQ((*live)->Current(), before);
  EXPECT_EQ((*live)->generation(), 0u);
  EXPECT_EQ((*live)->ReloadFromFile("/nonexistent/x.rules").code(), StatusCode::kNotFound);
  EXPECT_EQ((*live)->Current(), before);
}

TEST(ReloadTest, HeldVersionOutlivesTheSwap) {
  std::string v1 = ::testing::TempDir() + "/v1.rules";
  std::string path = ::testing::TempDir() + "/v2.rules";
  std::ofstream(v1) << Version(1);
  std::ofstream(path) << Version(2);
  auto live = ReloadableRuleSet::CreateFromFile(ReloadSchema(), v1);
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  std::shared_ptr<const RuleSet> held = (*live)->Current();
  ASSERT_TRUE((*live)->ReloadFromFile(path).ok());
  EXPECT_EQ((*live)->generation(), 1u);
  EXPECT_EQ((*live)->Current()->rule(0).name, "v2");
  Inputs in(ReloadSchema());
  in.SetNumber(0, 1);
  in.SetString(1, "ru");
  Verdict v;
  held->Evaluate(in, Phase::kAll, &v);
  EXPECT_TRUE(Consistent(*held, v));
  EXPECT_EQ(held->rule(0).name, "v1");
}

}  // namespace
}  // namespace hotpath::rules
