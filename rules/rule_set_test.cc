// Rule-set semantics: decision precedence, scores, reasons, phases, the
// variables each rule reads, and allocation-free steady-state evaluation.
#include "rules/rule_set.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "rules/schema.h"

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

// Counts every allocation in this test binary (for the no-allocation test).
// GCC cannot see that these deletes pair with the malloc-based new below.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace hotpath::rules {
namespace {

class RuleSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto schema = Schema::Create({{
        {"amount", Type::kNumber, Stage::kPreModel},
        {"country", Type::kString, Stage::kPreModel},
        {"is_new_device", Type::kBool, Stage::kPreModel},
        {"ts", Type::kTime, Stage::kPreModel},
        {"score", Type::kNumber, Stage::kPostModel},
    }});
    ASSERT_TRUE(schema.ok());
    schema_ = *schema;
  }

  std::shared_ptr<const RuleSet> Compile(const std::string& source) {
    auto r = RuleSet::Create({schema_, source, "t.rules"});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : nullptr;
  }

  VarId Id(const char* name) { return *schema_->Find(name); }

  std::vector<std::string> FiredNames(const RuleSet& rs, const Verdict& v) {
    std::vector<std::string> out;
    for (uint32_t i : v.fired()) out.push_back(rs.rule(i).name);
    return out;
  }

  std::shared_ptr<const Schema> schema_;
};

TEST_F(RuleSetTest, BlockBeatsReviewBeatsAllowThenFileOrder) {
  auto rs = Compile(R"(
rule a action=allow: amount > 0
rule r1 action=review: amount > 1
rule b1 action=block: amount > 2
rule r2 action=review: amount > 0
rule b2 action=block: amount > 3
)");
  Inputs in(schema_);
  Verdict v;
  in.SetNumber(Id("amount"), 5);
  rs->Evaluate(in, Phase::kAll, &v);
  EXPECT_EQ(v.action(), Action::kBlock);
  EXPECT_EQ(rs->rule(*v.decided_by()).name, "b1");
  EXPECT_EQ(FiredNames(*rs, v), (std::vector<std::string>{"a", "r1", "b1", "r2", "b2"}));

  v.Clear();
  in.SetNumber(Id("amount"), 1.5);
  rs->Evaluate(in, Phase::kAll, &v);
  EXPECT_EQ(v.action(), Action::kReview);
  EXPECT_EQ(rs->rule(*v.decided_by()).name, "r1");

  v.Clear();
  in.SetNumber(Id("amount"), -1);
  rs->Evaluate(in, Phase::kAll, &v);
  EXPECT_EQ(v.action(), Action::kNone);
  EXPECT_FALSE(v.decided_by().has_value());
  EXPECT_TRUE(v.fired().empty());
}

TEST_F(RuleSetTest, ScoresOfFiredRulesAdd) {
  auto rs = Compile(R"(
rule s1 score=10: amount > 100
rule s2 score=2.5: country in ["NG", "RU"]
rule s3 score=-4: is_new_device == false
rule s4 score=1000: amount > 1e9
)");
  Inputs in(schema_);
  in.SetNumber(Id("amount"), 150);
  in.SetString(Id("country"), "NG");
  Verdict v;
  rs->Evaluate(in, Phase::kAll, &v);
  EXPECT_DOUBLE_EQ(v.score(), 10 + 2.5 - 4);
  EXPECT_EQ(v.action(), Action::kNone);
  EXPECT_EQ(FiredNames(*rs, v), (std::vector<std::string>{"s1", "s2", "s3"}));
}

TEST_F(RuleSetTest, PhasesSplitByWhatRulesReadAndAccumulate) {
  auto rs = Compile(R"(
rule pre_block action=block: amount > 1000
rule post_review action=review score=1: score > 0.5
rule forced_post phase=post score=2: amount > 10
rule pre_score score=4: amount > 10
)");
  EXPECT_EQ(rs->rule(0).stage, Stage::kPreModel);
  EXPECT_EQ(rs->rule(1).stage, Stage::kPostModel);
  EXPECT_EQ(rs->rule(2).stage, Stage::kPostModel);
  EXPECT_EQ(rs->rule(3).stage, Stage::kPreModel);
  EXPECT_EQ(rs->rule(1).reads, std::vector<VarId>{Id("score")});
  auto pre_reads = rs->reads(Stage::kPreModel);
  auto post_reads = rs->reads(Stage::kPostModel);
  EXPECT_EQ(std::vector<VarId>(pre_reads.begin(), pre_reads.end()),
            std::vector<VarId>{Id("amount")});
  EXPECT_EQ(std::vector<VarId>(post_reads.begin(), post_reads.end()),
            (std::vector<VarId>{Id("amount"), Id("score")}));

  Inputs in(schema_);
  in.SetNumber(Id("amount"), 50);
  Verdict pre;
  rs->Evaluate(in, Phase::kPreModel, &pre);
  EXPECT_EQ(FiredNames(*rs, pre), (std::vector<std::string>{"pre_score"}));
  in.SetNumber(Id("score"), 0.9);
  rs->Evaluate(in, Phase::kPostModel, &pre);
  Verdict all;
  rs->Evaluate(in, Phase::kAll, &all);
  EXPECT_EQ(FiredNames(*rs, pre), FiredNames(*rs, all));
  EXPECT_EQ(pre.score(), all.score());
  EXPECT_EQ(all.action(), Action::kReview);
  EXPECT_EQ(all.score(), 1 + 2 + 4);
}

TEST_F(RuleSetTest, ReadsListsEveryVariableOnce) {
  auto rs = Compile(
      "rule r: (amount > 1 or lower(country) == \"x\") and amount < 5 and hour_of_day(ts) > 1");
  EXPECT_EQ(rs->rule(0).reads, (std::vector<VarId>{Id("amount"), Id("country"), Id("ts")}));
}

TEST_F(RuleSetTest, NewInputsHoldZeroValues) {
  auto rs = Compile(
      "rule r: amount == 0 and country == \"\" and not is_new_device and hour_of_day(ts) == 0");
  Inputs in(schema_);
  Verdict v;
  rs->Evaluate(in, Phase::kAll, &v);
  EXPECT_EQ(v.fired().size(), 1u);
}

TEST_F(RuleSetTest, SteadyStateEvaluationDoesNotAllocate) {
  auto rs = Compile(R"(
rule a action=review score=1: lower(country) in ["ng", "ru"] and amount > 10
rule b score=2: contains(lower(country), "g") or starts_with(country, "R")
rule c action=block: (amount > 5) == is_new_device and day_of_week(ts) < 7
)");
  Inputs in(schema_);
  in.SetNumber(Id("amount"), 20);
  in.SetString(Id("country"), "NG");
  in.SetBool(Id("is_new_device"), true);
  Verdict v;
  rs->Evaluate(in, Phase::kAll, &v);  // warm-up grows the verdict's buffers
  long before = g_allocations.load();
  for (int i = 0; i < 1000; ++i) {
    v.Clear();
    rs->Evaluate(in, Phase::kAll, &v);
  }
  EXPECT_EQ(g_allocations.load() - before, 0);
  EXPECT_EQ(v.fired().size(), 3u);
}

}  // namespace
}  // namespace hotpath::rules
