// Parser fuzzing: random bytes, random token soup, mutations of a valid file
// and pathological shapes. Compilation must never crash or hang; it returns a
// rule set or an INVALID_ARGUMENT whose "file:line:col: " lies inside the text.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "rules/rule_set.h"
#include "rules/schema.h"

namespace hotpath::rules {
namespace {

std::shared_ptr<const Schema> FuzzSchema() {
  static const std::shared_ptr<const Schema> schema = *Schema::Create({{
      {"amount", Type::kNumber, Stage::kPreModel},
      {"country", Type::kString, Stage::kPreModel},
      {"is_new_device", Type::kBool, Stage::kPreModel},
      {"ts", Type::kTime, Stage::kPreModel},
      {"score", Type::kNumber, Stage::kPostModel},
  }});
  return schema;
}

// Compiles `source`; checks the error's position is inside the text, or
// evaluates the compiled rules once.
void CompileOrExplain(const std::string& source) {
  auto result = RuleSet::Create({FuzzSchema(), source, "fuzz.rules"});
  if (result.ok()) {
    Inputs in(FuzzSchema());
    Verdict v;
    (*result)->Evaluate(in, Phase::kAll, &v);
    return;
  }
  ASSERT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  std::string msg = result.status().message();
  unsigned line = 0, col = 0;
  int consumed = 0;
  ASSERT_EQ(std::sscanf(msg.c_str(), "fuzz.rules:%u:%u: %n", &line, &col, &consumed), 2) << msg;
  ASSERT_GT(consumed, 0) << msg;
  ASSERT_LT(static_cast<size_t>(consumed), msg.size()) << "empty message: " << msg;
  std::vector<size_t> line_lengths{0};
  for (char c : source) {
    if (c == '\n')
      line_lengths.push_back(0);
    else
      ++line_lengths.back();
  }
  ASSERT_GE(line, 1u) << msg;
  ASSERT_LE(line, line_lengths.size()) << msg;
  ASSERT_GE(col, 1u) << msg;
  ASSERT_LE(col, line_lengths[line - 1] + 1) << msg;
}

TEST(FuzzTest, RandomBytes) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 5000; ++i) {
    std::string s(std::uniform_int_distribution<int>(0, 120)(rng), '\0');
    for (char& c : s) c = static_cast<char>(rng());
    ASSERT_NO_FATAL_FAILURE(CompileOrExplain(s));
  }
}

TEST(FuzzTest, TokenSoup) {
  static const std::vector<std::string> vocab = {
      "rule",  "r1",          "r2",          "action",      "=",
      "block", "review",      "score",       "phase",       "pre",
      "post",  ":",           "amount",      "country",     "is_new_device",
      "ts",    "score",       "(",           ")",           "[",
      "]",     ",",           "and",         "or",          "not",
      "in",    "+",           "-",           "*",           "/",
      "==",    "!=",          "<",           "<=",          ">",
      ">=",    "&&",          "||",          "!",           "1",
      "2.5",   "-3",          "1e3",         "\"NG\"",      "'x'",
      "lower", "len",         "min",         "max",         "abs",
      "log1p", "hour_of_day", "day_of_week", "starts_with", "contains",
      "true",  "false",       "#c\n",        "\n"};
  std::mt19937_64 rng(2);
  int compiled = 0;
  for (int i = 0; i < 30000; ++i) {
    std::string s = (i % 2 == 0) ? "rule r:" : "";
    for (int n = std::uniform_int_distribution<int>(1, 30)(rng); n > 0; --n) {
      s += vocab[rng() % vocab.size()];
      s += ' ';
    }
    ASSERT_NO_FATAL_FAILURE(CompileOrExplain(s));
    compiled += RuleSet::Create({FuzzSchema(), s, "fuzz.rules"}).ok();
  }
  RecordProperty("compiled", compiled);
}

TEST(FuzzTest, MutatedValidFile) {
  const std::string valid = R"(# fraud rules
rule big action=block score=10: amount > 10000 and country in ["NG", "RU", "KP"]
rule night action=review phase=pre: hour_of_day(ts) < 6 and amount > max(100, abs(-50))
rule model score=5: score >= 0.9 or (is_new_device and starts_with(lower(country), "n"))
rule odd: not (amount not in [1, 2, 3]) || len(country) == 2 && day_of_week(ts) != 0
)";
  ASSERT_TRUE(RuleSet::Create({FuzzSchema(), valid, "fuzz.rules"}).ok());
  std::mt19937_64 rng(3);
  const std::string alphabet = "()[],:=<>!&|+-*/\"'#\n abc019._";
  for (int i = 0; i < 20000; ++i) {
    std::string s = valid;
    for (int edits = std::uniform_int_distribution<int>(1, 4)(rng); edits > 0; --edits) {
      size_t at = rng() % (s.size() + 1);
      char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          if (at < s.size()) s.erase(at, 1);
          break;
        case 1:
          s.insert(at, 1, c);
          break;
        default:
          if (at < s.size()) s[at] = c;
          break;
      }
    }
    ASSERT_NO_FATAL_FAILURE(CompileOrExplain(s));
  }
}

TEST(FuzzTest, PathologicalShapes) {
  const size_t n = 100000;
  std::vector<std::string> sources = {
      "rule r: " + std::string(n, '('),
      "rule r: " + std::string(n, '(') + "true" + std::string(n, ')'),
      "rule r: " + std::string(n, '-') + "1 > 0",
      "rule r: " + std::string(n, '!') + "true",
      "rule r: amount in [" + std::string(n, '[') + "]",
      "rule r: \"" + std::string(n, 'x'),
      "rule r: min(" + std::string(n, ',') + ")",
  };
  std::string chain = "rule r: amount";
  for (size_t i = 0; i < n / 10; ++i) chain += " * amount";
  sources.push_back(chain + " > 0");
  std::string nots = "rule r: ";
  for (size_t i = 0; i < n / 10; ++i) nots += "not ";
  sources.push_back(nots + "true");
  std::string many;
  for (int i = 0; i < 70000; ++i) many += "rule r" + std::to_string(i) + ": true\n";
  sources.push_back(many);
  for (const std::string& s : sources) ASSERT_NO_FATAL_FAILURE(CompileOrExplain(s));
}

TEST(FuzzTest, ProgramLimitsAreErrorsAtTheRule) {
  const int kLimit = 16384;  // operands index constants with 14 bits
  std::string many_constants;
  for (int i = 0; i <= kLimit; ++i) {
    many_constants += "rule r" + std::to_string(i) + ": amount + " + std::to_string(i) + " > 0\n";
  }
  auto r = RuleSet::Create({FuzzSchema(), many_constants, "fuzz.rules"});
  ASSERT_FALSE(r.ok());
  // Rule r<kLimit> (on line kLimit + 1; its name at column 6) needs constant number kLimit + 1.
  std::string where = "fuzz.rules:" + std::to_string(kLimit + 1) + ":6: ";
  EXPECT_EQ(r.status().message(), where + "rule 'r" + std::to_string(kLimit) + "': more than " +
                                      std::to_string(kLimit) + " constants in the file");
  ASSERT_NO_FATAL_FAILURE(CompileOrExplain(many_constants));
}

TEST(FuzzTest, LargeValidInputsCompile) {
  std::string list = "rule r: country in [";
  for (int i = 0; i < 50000; ++i) list += (i ? ",\"c" : "\"c") + std::to_string(i) + "\"";
  auto r = RuleSet::Create({FuzzSchema(), list + "]", "fuzz.rules"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Inputs in(FuzzSchema());
  in.SetString(1, "c49999");
  Verdict v;
  (*r)->Evaluate(in, Phase::kAll, &v);
  EXPECT_EQ(v.fired().size(), 1u);
}

}  // namespace
}  // namespace hotpath::rules
