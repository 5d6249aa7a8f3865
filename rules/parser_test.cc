// Parse and type errors: every message carries file:line:col of the fault.
// The expected position is marked with '@' in the test source (and removed
// before compiling), so positions are derived from the text, not typed in.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "rules/rule_set.h"
#include "rules/schema.h"

namespace hotpath::rules {
namespace {

std::shared_ptr<const Schema> TestSchema() {
  auto schema = Schema::Create({{
      {"amount", Type::kNumber, Stage::kPreModel},
      {"country", Type::kString, Stage::kPreModel},
      {"is_new_device", Type::kBool, Stage::kPreModel},
      {"ts", Type::kTime, Stage::kPreModel},
      {"score.xgb", Type::kNumber, Stage::kPostModel},
  }});
  EXPECT_TRUE(schema.ok()) << schema.status().ToString();
  return *schema;
}

// Compiles `marked` without its '@' and expects an error at the '@'.
void ExpectErrorAt(std::string marked, const std::string& part) {
  size_t at = marked.find('@');
  ASSERT_NE(at, std::string::npos) << "test source lacks a marker: " << marked;
  size_t line_start = marked.rfind('\n', at == 0 ? 0 : at - 1);
  line_start = (line_start == std::string::npos || at == 0) ? 0 : line_start + 1;
  size_t line = 1 + std::count(marked.begin(), marked.begin() + at, '\n');
  size_t col = at - line_start + 1;
  marked.erase(at, 1);
  auto result = RuleSet::Create({TestSchema(), marked, "test.rules"});
  ASSERT_FALSE(result.ok()) << "compiled: " << marked;
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  const std::string msg = result.status().message();
  std::string prefix = "test.rules:" + std::to_string(line) + ":" + std::to_string(col) + ": ";
  EXPECT_EQ(msg.substr(0, prefix.size()), prefix) << "source: " << marked << "\nmessage: " << msg;
  EXPECT_NE(msg.find(part), std::string::npos) << "message: " << msg;
}

TEST(ParserErrorTest, LexicalErrors) {
  ExpectErrorAt("rule r: @\"abc", "unterminated string");
  ExpectErrorAt("rule r: amount > 1 @$", "unexpected character '$'");
  ExpectErrorAt("rule r: amount > 1 @\x01", "unexpected character '\\x01'");
  ExpectErrorAt("rule r: amount > @1.2.3", "malformed number");
  ExpectErrorAt("rule r: amount > @1e999", "malformed number");
  ExpectErrorAt("rule r: country == \"a@\\q\"", "unknown escape");
  ExpectErrorAt("rule r: country == @\"abc\\", "unterminated string");
  ExpectErrorAt("rule r: country == @\"abc\\\nrule s: true", "unterminated string");
}

TEST(ParserErrorTest, SyntaxErrors) {
  ExpectErrorAt("@amount > 1", "expected 'rule'");
  ExpectErrorAt("rule @: amount > 1", "expected a rule name");
  ExpectErrorAt("rule r @amount > 1", "expected ':'");
  ExpectErrorAt("rule r: (amount > 1@", "expected ')', got end of file");
  ExpectErrorAt("rule r: amount > 1 @amount", "after the expression");
  ExpectErrorAt("rule r: amount > @)", "expected an expression");
  ExpectErrorAt("rule r: country in @\"US\"", "'[' after 'in'");
  ExpectErrorAt("rule r: country in [\"US\" @\"CA\"]", "expected ',' or ']'");
  ExpectErrorAt("rule r: @frobnicate(amount) > 1", "unknown function 'frobnicate'");
  ExpectErrorAt("rule r: @min(amount) > 1", "takes at least 2 argument(s), got 1");
  ExpectErrorAt("rule r: @lower(country, country) == \"x\"", "takes 1 argument(s), got 2");
}

TEST(ParserErrorTest, AttributeErrors) {
  ExpectErrorAt("rule r action=@deny: amount > 1", "action must be block, review or allow");
  ExpectErrorAt("rule r @color=red: amount > 1", "unknown attribute 'color'");
  ExpectErrorAt("rule r score=1 @score=2: amount > 1", "given twice");
  ExpectErrorAt("rule r score=@high: amount > 1", "a number for 'score'");
  ExpectErrorAt("rule r phase=@early: amount > 1", "phase must be pre or post");
  ExpectErrorAt("rule a: amount > 1\nrule @a: amount > 2", "defined twice");
}

TEST(ParserErrorTest, TypeErrors) {
  ExpectErrorAt("rule r: @amout > 5", "unknown variable 'amout'");
  ExpectErrorAt("rule r: amount @> \"x\"",
                "needs two numbers, strings or times, got number and string");
  ExpectErrorAt("rule r: amount @+ 1", "must be a bool expression, got number");
  ExpectErrorAt("rule r: country in [\"US\", @5]", "list item is a number");
  ExpectErrorAt("rule r: lower(@amount) == \"x\"", "argument of 'lower' must be a string");
  ExpectErrorAt("rule r: hour_of_day(@amount) < 6", "argument of 'hour_of_day' must be a time");
  ExpectErrorAt("rule r: is_new_device @< true", "two numbers, strings or times");
  ExpectErrorAt("rule r: ts @+ ts > ts", "two numbers");
  ExpectErrorAt("rule r: @not amount", "operand of 'not' must be a bool");
  ExpectErrorAt("rule r: @-country == \"x\"", "operand of '-' must be a number");
  ExpectErrorAt("rule r: amount > 1 @and amount", "needs bool operands");
  ExpectErrorAt("rule r: is_new_device @in [1]", "'in' tests a number or a string");
  ExpectErrorAt("rule @r phase=pre: score.xgb > 0.5", "known only after the models ran");
}

TEST(ParserErrorTest, PositionsAcrossLinesAndComments) {
  ExpectErrorAt(
      "# header comment\nrule a: amount > 1  # trailing\n\nrule b:\n  is_new_device and\n  @nope",
      "unknown variable 'nope'");
  ExpectErrorAt("rule a: amount > 1\r\nrule b: country @== amount", "same type");
}

TEST(ParserErrorTest, NestingLimits) {
  std::string deep = "rule r: " + std::string(500, '(') + "amount > 1" + std::string(500, ')');
  auto r = RuleSet::Create({TestSchema(), deep, "deep.rules"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nested too deeply"), std::string::npos);
  std::string sum = "rule r: amount";
  for (int i = 0; i < 1000; ++i) sum += " + amount";
  r = RuleSet::Create({TestSchema(), sum + " > 1", "wide.rules"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("expression too large"), std::string::npos);
}

TEST(ParserTest, AcceptsTheDocumentedForms) {
  const char* kSource = R"(
# A comment line.
rule big_amount action=block score=10: amount > 10000
rule risky_country action=review score=2.5 phase=pre:
    country in ["NG", 'RU'] and not is_new_device
rule night score=-1: hour_of_day(ts) < 6 || day_of_week(ts) == 0 && !is_new_device
rule model_says action=block: score.xgb >= 0.9 and starts_with(lower(country), "n")
rule spread: max(amount, 1, 2) - min(amount, abs(-3)) > log1p(len(country)) / 2
rule not_listed: amount not in [1, 2, -3.5e2]
)";
  auto r = RuleSet::Create({TestSchema(), kSource, "ok.rules"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const RuleSet& rs = **r;
  ASSERT_EQ(rs.rule_count(), 6u);
  EXPECT_EQ(rs.rule(0).name, "big_amount");
  EXPECT_EQ(rs.rule(0).action, Action::kBlock);
  EXPECT_EQ(rs.rule(0).score, 10);
  EXPECT_EQ(rs.rule(0).line, 3u);
  EXPECT_EQ(rs.rule(1).score, 2.5);
  EXPECT_EQ(rs.rule(2).score, -1);
  EXPECT_EQ(rs.rule(3).stage, Stage::kPostModel);
  EXPECT_EQ(rs.rule(1).stage, Stage::kPreModel);
  EXPECT_TRUE(rs.has_post_model_rules());
}

TEST(SchemaTest, RejectsBadNames) {
  EXPECT_FALSE(Schema::Create({{{"1abc", Type::kNumber}}}).ok());
  EXPECT_FALSE(Schema::Create({{{"and", Type::kNumber}}}).ok());
  EXPECT_FALSE(Schema::Create({{{"a-b", Type::kNumber}}}).ok());
  EXPECT_FALSE(Schema::Create({{{"", Type::kNumber}}}).ok());
  auto dup = Schema::Create({{{"a", Type::kNumber}, {"a", Type::kString}}});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("'a' declared twice"), std::string::npos);
  EXPECT_TRUE(Schema::Create({{{"event.amount_usd", Type::kNumber}}}).ok());
}

TEST(RuleSetFileTest, MissingFileIsNotFound) {
  auto r = RuleSet::CreateFromFile(TestSchema(), "/nonexistent/dir/x.rules");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

TEST(RuleSetFileTest, ErrorsNameTheFile) {
  std::string path = ::testing::TempDir() + "/bad.rules";
  const std::string bad_line = "rule bad: amount > \"x\"";
  {
    std::ofstream f(path);
    f << "rule ok: amount > 1\n" << bad_line << "\n";
  }
  auto r = RuleSet::CreateFromFile(TestSchema(), path);
  ASSERT_FALSE(r.ok());
  std::string where = path + ":2:" + std::to_string(bad_line.find('>') + 1) + ": ";
  EXPECT_EQ(r.status().message().rfind(where, 0), 0u) << r.status().message();
}

}  // namespace
}  // namespace hotpath::rules
