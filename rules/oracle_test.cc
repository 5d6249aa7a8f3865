// Differential test: random typed expressions are generated here as a test-
// side tree, printed to rules source (with minimal parentheses, so operator
// precedence is exercised), compiled by the library, and evaluated on random
// inputs. A plain recursive interpreter over the test-side tree, written from
// the language reference alone, is the oracle; results must match exactly.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "rules/rule_set.h"
#include "rules/schema.h"

namespace hotpath::rules {
namespace {

enum class Ty { kNum, kStr, kBool, kTime };

struct Expr {
  enum Kind { kNumLit, kStrLit, kBoolLit, kVar, kNeg, kNot, kBin, kCall, kIn } kind = kNumLit;
  Ty type = Ty::kNum;
  std::string op;  // operator or function name
  std::vector<Expr> kids;
  double num = 0;
  std::string str;
  bool boolean = false;
  int var = 0;
  bool negated = false;
  std::vector<double> nums;
  std::vector<std::string> strs;
};

// The test schema: variable i has name kVars[i].name.
struct VarSpec {
  const char* name;
  Ty type;
  bool post;
};
constexpr VarSpec kVars[] = {
    {"n0", Ty::kNum, false},     {"n1", Ty::kNum, false},  {"amount.usd", Ty::kNum, false},
    {"m.score", Ty::kNum, true}, {"s0", Ty::kStr, false},  {"s1", Ty::kStr, false},
    {"s2", Ty::kStr, true},      {"b0", Ty::kBool, false}, {"b1", Ty::kBool, false},
    {"t0", Ty::kTime, false},    {"t1", Ty::kTime, false},
};
constexpr int kVarCount = sizeof(kVars) / sizeof(kVars[0]);

const std::vector<std::string>& StringPool() {
  static const std::vector<std::string> pool = {
      "",   "a",    "A",           "ab",       "AB",  "aB",  "NG", "ng",
      "US", "x\"y", "back\\slash", "\xc3\xa9", "abc", "Abc", "b",  "tab\there"};
  return pool;
}

const std::vector<double>& NumberPool() {
  static const std::vector<double> pool = {0,     1,      2, 3,    0.5,   10, 100, 1000,   0.1,
                                           1e300, 2.5e-3, 7, 3600, 86400, 6,  23,  1e-300, 4.75};
  return pool;
}

// One event's values, indexed like kVars.
struct Env {
  double n[kVarCount] = {};
  std::string s[kVarCount];
  bool b[kVarCount] = {};
  int64_t t[kVarCount] = {};
};

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}

  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Int(0, static_cast<int>(v.size()) - 1)];
  }

  int VarOf(Ty t) {
    std::vector<int> ids;
    for (int i = 0; i < kVarCount; ++i) {
      if (kVars[i].type == t && (allow_post_ || !kVars[i].post)) ids.push_back(i);
    }
    return Pick(ids);
  }
  void set_allow_post(bool allow) { allow_post_ = allow; }

  Expr Leaf(Ty t) {
    Expr e;
    e.type = t;
    if (t == Ty::kTime || Chance(0.5)) {
      e.kind = Expr::kVar;
      e.var = VarOf(t);
      return e;
    }
    switch (t) {
      case Ty::kNum:
        e.kind = Expr::kNumLit;
        e.num = LiteralNumber();
        break;
      case Ty::kStr:
        e.kind = Expr::kStrLit;
        e.str = Pick(StringPool());
        break;
      default:
        e.kind = Expr::kBoolLit;
        e.boolean = Chance(0.5);
        break;
    }
    return e;
  }

  double LiteralNumber() {
    if (Chance(0.2)) return std::uniform_real_distribution<double>(0, 1000)(rng_);
    return Pick(NumberPool());
  }

  Expr Node(Expr::Kind kind, Ty t, std::string op, std::vector<Expr> kids) {
    Expr e;
    e.kind = kind;
    e.type = t;
    e.op = std::move(op);
    e.kids = std::move(kids);
    return e;
  }

  Expr Num(int d) {
    if (d <= 0 || Chance(0.25)) return Leaf(Ty::kNum);
    switch (Int(0, 9)) {
      case 0:
        return Node(Expr::kNeg, Ty::kNum, "-", {Num(d - 1)});
      case 1:
      case 2: {
        static const std::vector<std::string> ops = {"+", "-", "*", "/"};
        return Node(Expr::kBin, Ty::kNum, Pick(ops), {Num(d - 1), Num(d - 1)});
      }
      case 3:
        return Node(Expr::kCall, Ty::kNum, Chance(0.5) ? "abs" : "log1p", {Num(d - 1)});
      case 4: {
        std::vector<Expr> args = {Num(d - 1), Num(d - 1)};
        if (Chance(0.3)) args.push_back(Num(d - 1));
        return Node(Expr::kCall, Ty::kNum, Chance(0.5) ? "min" : "max", std::move(args));
      }
      case 5:
        return Node(Expr::kCall, Ty::kNum, "len", {Str(d - 1)});
      case 6:
        return Node(Expr::kCall, Ty::kNum, "hour_of_day", {Leaf(Ty::kTime)});
      case 7:
        return Node(Expr::kCall, Ty::kNum, "day_of_week", {Leaf(Ty::kTime)});
      case 8:
        return Node(Expr::kBin, Ty::kNum, "-", {Leaf(Ty::kTime), Leaf(Ty::kTime)});
      default:
        return Leaf(Ty::kNum);
    }
  }

  Expr Str(int d) {
    if (d <= 0 || Chance(0.6)) return Leaf(Ty::kStr);
    return Node(Expr::kCall, Ty::kStr, "lower", {Str(d - 1)});
  }

  Expr Bool(int d) {
    if (d <= 0 || Chance(0.1)) return Leaf(Ty::kBool);
    static const std::vector<std::string> cmps = {"==", "!=", "<", "<=", ">", ">="};
    switch (Int(0, 11)) {
      case 0:
        return Node(Expr::kNot, Ty::kBool, "not", {Bool(d - 1)});
      case 1:
      case 2:
        return Node(Expr::kBin, Ty::kBool, "and", {Bool(d - 1), Bool(d - 1)});
      case 3:
        return Node(Expr::kBin, Ty::kBool, "or", {Bool(d - 1), Bool(d - 1)});
      case 4:
      case 5:
        return Node(Expr::kBin, Ty::kBool, Pick(cmps), {Num(d - 1), Num(d - 1)});
      case 6:
        return Node(Expr::kBin, Ty::kBool, Pick(cmps), {Str(d - 1), Str(d - 1)});
      case 7:
        return Node(Expr::kBin, Ty::kBool, Pick(cmps), {Leaf(Ty::kTime), Leaf(Ty::kTime)});
      case 8:
        return Node(Expr::kBin, Ty::kBool, Chance(0.5) ? "==" : "!=", {Bool(d - 1), Bool(d - 1)});
      case 9:
        return InList(d);
      case 10: {
        static const std::vector<std::string> fns = {"starts_with", "ends_with", "contains"};
        return Node(Expr::kCall, Ty::kBool, Pick(fns), {Str(d - 1), Str(d - 1)});
      }
      default:
        return Leaf(Ty::kBool);
    }
  }

  Expr InList(int d) {
    bool strings = Chance(0.5);
    Expr e = Node(Expr::kIn, Ty::kBool, "in", {strings ? Str(d - 1) : Num(d - 1)});
    e.negated = Chance(0.3);
    int n = Chance(0.2) ? Int(0, 40) : Int(0, 6);  // long lists use the hash / bisection paths
    for (int i = 0; i < n; ++i) {
      if (strings)
        e.strs.push_back(Chance(0.7) ? Pick(StringPool()) : RandomString());
      else
        e.nums.push_back((Chance(0.3) ? -1 : 1) * (Chance(0.7) ? Pick(NumberPool()) : Int(0, 60)));
    }
    return e;
  }

  std::string RandomString() {
    static const std::string alphabet = "aAbBnNgG09 _-\"\\";
    std::string s;
    for (int i = Int(0, 5); i > 0; --i)
      s += alphabet[Int(0, static_cast<int>(alphabet.size()) - 1)];
    return s;
  }

  Env RandomEnv() {
    static const std::vector<double> special = {0.0,
                                                -0.0,
                                                1,
                                                -1,
                                                0.5,
                                                1e300,
                                                -1e300,
                                                1e-300,
                                                std::numeric_limits<double>::infinity(),
                                                -std::numeric_limits<double>::infinity(),
                                                std::numeric_limits<double>::quiet_NaN(),
                                                100,
                                                7,
                                                23,
                                                3600};
    static const std::vector<int64_t> times = {
        0, -1, 86399, 86400, -86401, 1700000000, 1699999999, -2000000000, 4102444800};
    Env env;
    for (int i = 0; i < kVarCount; ++i) {
      double r = std::uniform_real_distribution<double>(-1000, 1000)(rng_);
      env.n[i] = Chance(0.4) ? Pick(special) : (Chance(0.5) ? Pick(NumberPool()) : r);
      env.s[i] = Chance(0.6) ? Pick(StringPool()) : RandomString();
      env.b[i] = Chance(0.5);
      env.t[i] = Chance(0.3)
                     ? Pick(times)
                     : std::uniform_int_distribution<int64_t>(-3000000000LL, 5000000000LL)(rng_);
    }
    return env;
  }

 private:
  std::mt19937_64 rng_;
  bool allow_post_ = true;
};

// ---- Printing (minimal parentheses by precedence, random spellings) ----

std::string NumLiteral(double d) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", std::fabs(d));
  return (std::signbit(d) ? "-" : "") + std::string(buf);
}

std::string StrLiteral(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\t') {
      out += "\\t";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

int Precedence(const std::string& op) {
  if (op == "or") return 1;
  if (op == "and") return 2;
  if (op == "+" || op == "-") return 5;
  if (op == "*" || op == "/") return 6;
  return 4;  // comparisons
}

class Printer {
 public:
  explicit Printer(Gen* gen) : gen_(gen) {}

  std::string Print(const Expr& e, int min_prec) {
    int prec = 8;
    std::string s = Render(e, &prec);
    if (prec < min_prec || gen_->Chance(0.05)) return "(" + s + ")";
    return s;
  }

 private:
  std::string Render(const Expr& e, int* prec) {
    switch (e.kind) {
      case Expr::kNumLit:
        *prec = std::signbit(e.num) ? 7 : 8;
        return NumLiteral(e.num);
      case Expr::kStrLit:
        return StrLiteral(e.str);
      case Expr::kBoolLit:
        return e.boolean ? "true" : "false";
      case Expr::kVar:
        return kVars[e.var].name;
      case Expr::kNeg:
        *prec = 7;
        return "-" + Print(e.kids[0], 7);
      case Expr::kNot:
        *prec = 3;
        return (gen_->Chance(0.5) ? "not " : "!") + Print(e.kids[0], 3);
      case Expr::kCall:
        return Call(e);
      case Expr::kIn:
        *prec = 4;
        return Print(e.kids[0], 5) + (e.negated ? " not in " : " in ") + List(e);
      case Expr::kBin:
        break;
    }
    int p = Precedence(e.op);
    *prec = p;
    std::string op = e.op;
    if (op == "and" && gen_->Chance(0.3)) op = "&&";
    if (op == "or" && gen_->Chance(0.3)) op = "||";
    int lhs_min = p == 4 ? 5 : p;
    return Print(e.kids[0], lhs_min) + " " + op + " " + Print(e.kids[1], p + 1);
  }

  std::string Call(const Expr& e) {
    std::string s = e.op + "(";
    for (size_t i = 0; i < e.kids.size(); ++i) s += (i ? ", " : "") + Print(e.kids[i], 0);
    return s + ")";
  }

  std::string List(const Expr& e) {
    std::string s = "[";
    for (size_t i = 0; i < e.nums.size(); ++i) s += (i ? ", " : "") + NumLiteral(e.nums[i]);
    for (size_t i = 0; i < e.strs.size(); ++i) s += (i ? ", " : "") + StrLiteral(e.strs[i]);
    return s + "]";
  }

  Gen* gen_;
};

// ---- The oracle: a recursive interpreter of the language reference ----

struct Val {
  double n = 0;
  std::string s = {};
  bool b = false;
  int64_t t = 0;
};

std::string AsciiLower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  }
  return s;
}

double OracleCall(const std::string& f, const std::vector<Val>& a) {
  if (f == "abs") return std::fabs(a[0].n);
  if (f == "log1p") return std::log1p(a[0].n);
  if (f == "len") return static_cast<double>(a[0].s.size());
  if (f == "hour_of_day") return static_cast<double>(((a[0].t % 86400) + 86400) % 86400 / 3600);
  if (f == "day_of_week") {
    using namespace std::chrono;
    sys_days day = floor<days>(sys_seconds(seconds(a[0].t)));
    return weekday(day).c_encoding();
  }
  double acc = a[0].n;  // min / max fold left: min(x, y) = y < x ? y : x
  for (size_t i = 1; i < a.size(); ++i) {
    bool take = f == "min" ? a[i].n < acc : acc < a[i].n;
    if (take) acc = a[i].n;
  }
  return acc;
}

template <typename T>
bool Compare(const std::string& op, const T& x, const T& y) {
  if (op == "==") return x == y;
  if (op == "!=") return x != y;
  if (op == "<") return x < y;
  if (op == "<=") return x <= y;
  if (op == ">") return x > y;
  return x >= y;
}

Val Eval(const Expr& e, const Env& env);

Val EvalBinary(const Expr& e, const Env& env) {
  if (e.op == "and") return Val{.b = Eval(e.kids[0], env).b && Eval(e.kids[1], env).b};
  if (e.op == "or") return Val{.b = Eval(e.kids[0], env).b || Eval(e.kids[1], env).b};
  Val x = Eval(e.kids[0], env);
  Val y = Eval(e.kids[1], env);
  switch (e.kids[0].type) {
    case Ty::kStr:
      return Val{.b = Compare(e.op, x.s, y.s)};
    case Ty::kBool:
      return Val{.b = Compare(e.op, x.b, y.b)};
    case Ty::kTime:
      if (e.op == "-") return Val{.n = static_cast<double>(x.t) - static_cast<double>(y.t)};
      return Val{.b = Compare(e.op, x.t, y.t)};
    case Ty::kNum:
      break;
  }
  if (e.op == "+") return Val{.n = x.n + y.n};
  if (e.op == "-") return Val{.n = x.n - y.n};
  if (e.op == "*") return Val{.n = x.n * y.n};
  if (e.op == "/") return Val{.n = x.n / y.n};
  return Val{.b = Compare(e.op, x.n, y.n)};
}

Val EvalCall(const Expr& e, const Env& env) {
  std::vector<Val> a;
  for (const Expr& k : e.kids) a.push_back(Eval(k, env));
  if (e.op == "lower") return Val{.s = AsciiLower(a[0].s)};
  if (e.op == "starts_with") return Val{.b = a[0].s.rfind(a[1].s, 0) == 0};
  if (e.op == "ends_with") {
    const std::string &s = a[0].s, &x = a[1].s;
    return Val{.b = s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0};
  }
  if (e.op == "contains") return Val{.b = a[0].s.find(a[1].s) != std::string::npos};
  return Val{.n = OracleCall(e.op, a)};
}

Val Eval(const Expr& e, const Env& env) {
  switch (e.kind) {
    case Expr::kNumLit:
      return Val{.n = e.num};
    case Expr::kStrLit:
      return Val{.s = e.str};
    case Expr::kBoolLit:
      return Val{.b = e.boolean};
    case Expr::kVar:
      return Val{.n = env.n[e.var], .s = env.s[e.var], .b = env.b[e.var], .t = env.t[e.var]};
    case Expr::kNeg:
      return Val{.n = -Eval(e.kids[0], env).n};
    case Expr::kNot:
      return Val{.b = !Eval(e.kids[0], env).b};
    case Expr::kBin:
      return EvalBinary(e, env);
    case Expr::kCall:
      return EvalCall(e, env);
    case Expr::kIn: {
      Val x = Eval(e.kids[0], env);
      bool found = false;
      for (double d : e.nums) found = found || d == x.n;
      for (const std::string& s : e.strs) found = found || (e.kids[0].type == Ty::kStr && s == x.s);
      return Val{.b = found != e.negated};
    }
  }
  return Val{};
}

void CollectReads(const Expr& e, std::set<int>* reads) {
  if (e.kind == Expr::kVar) reads->insert(e.var);
  for (const Expr& k : e.kids) CollectReads(k, reads);
}

// ---- Harness ----

std::shared_ptr<const Schema> TestSchema() {
  static const std::shared_ptr<const Schema> schema = [] {
    Schema::Options o;
    const Type types[] = {Type::kNumber, Type::kString, Type::kBool, Type::kTime};
    for (const VarSpec& v : kVars) {
      o.variables.push_back(
          {v.name, types[static_cast<int>(v.type)], v.post ? Stage::kPostModel : Stage::kPreModel});
    }
    return *Schema::Create(std::move(o));
  }();
  return schema;
}

void Fill(const Env& env, Inputs* in) {
  for (int i = 0; i < kVarCount; ++i) {
    switch (kVars[i].type) {
      case Ty::kNum:
        in->SetNumber(i, env.n[i]);
        break;
      case Ty::kStr:
        in->SetString(i, env.s[i]);
        break;
      case Ty::kBool:
        in->SetBool(i, env.b[i]);
        break;
      case Ty::kTime:
        in->SetTime(i, env.t[i]);
        break;
    }
  }
}

struct OracleRule {
  Expr expr;
  Action action = Action::kNone;
  int score = 0;
  bool post = false;
};

std::string RuleLine(Printer& printer, Gen& gen, int index, const OracleRule& r) {
  static const char* kActions[] = {"block", "review", "allow"};
  std::string s = "rule r" + std::to_string(index);
  if (r.action != Action::kNone)
    s += std::string(" action=") + kActions[static_cast<int>(r.action)];
  if (r.score != 0 || gen.Chance(0.2)) s += " score=" + std::to_string(r.score);
  std::set<int> reads;
  CollectReads(r.expr, &reads);
  bool reads_post = false;
  for (int v : reads) reads_post = reads_post || kVars[v].post;
  if (r.post && !reads_post)
    s += " phase=post";
  else if (!reads_post && gen.Chance(0.1))
    s += " phase=pre";
  return s + ":" + (gen.Chance(0.3) ? "\n    " : " ") + printer.Print(r.expr, 0) + "\n";
}

// Checks the library's verdict on `env` against the oracle for every rule.
void CheckVerdict(const RuleSet& rs, const std::vector<OracleRule>& rules, const Env& env,
                  const std::string& source) {
  Inputs in(TestSchema());
  Fill(env, &in);
  std::vector<uint32_t> want_fired;
  uint64_t want_best = UINT64_MAX;
  double want_score = 0;
  for (int pass = 0; pass < 2; ++pass) {  // pre-model rules first, then post-model
    for (uint32_t i = 0; i < rules.size(); ++i) {
      bool post = rs.rule(i).stage == Stage::kPostModel;
      if (post != (pass == 1) || !Eval(rules[i].expr, env).b) continue;
      want_fired.push_back(i);
      want_score += rules[i].score;
      if (rules[i].action != Action::kNone) {
        want_best =
            std::min(want_best, (uint64_t{static_cast<uint8_t>(rules[i].action)} << 32) | i);
      }
    }
  }
  Verdict all, split;
  rs.Evaluate(in, Phase::kAll, &all);
  rs.Evaluate(in, Phase::kPreModel, &split);
  rs.Evaluate(in, Phase::kPostModel, &split);
  std::vector<uint32_t> got(all.fired().begin(), all.fired().end());
  std::vector<uint32_t> got_split(split.fired().begin(), split.fired().end());
  ASSERT_EQ(got, want_fired) << source;
  ASSERT_EQ(got_split, want_fired) << source;
  ASSERT_EQ(all.score(), want_score) << source;
  Action want_action =
      want_best == UINT64_MAX ? Action::kNone : static_cast<Action>(want_best >> 32);
  ASSERT_EQ(all.action(), want_action) << source;
  if (want_action != Action::kNone) {
    ASSERT_EQ(*all.decided_by(), want_best & 0xffffffffu);
  }
}

TEST(OracleTest, RandomRuleSetsMatchTheOracle) {
  constexpr int kFiles = 1500;
  constexpr int kEventsPerFile = 60;
  Gen gen(20261124);
  Printer printer(&gen);
  int evaluations = 0;
  for (int file = 0; file < kFiles; ++file) {
    std::vector<OracleRule> rules(gen.Int(1, 30));
    std::string source = "# random rule set " + std::to_string(file) + "\n";
    for (size_t i = 0; i < rules.size(); ++i) {
      rules[i].expr = gen.Bool(gen.Int(1, 5));
      rules[i].action = static_cast<Action>(gen.Int(0, 3));
      rules[i].score = gen.Int(-5, 10);
      rules[i].post = gen.Chance(0.15);
      source += RuleLine(printer, gen, static_cast<int>(i), rules[i]);
    }
    auto rs = RuleSet::Create({TestSchema(), source, "random.rules"});
    ASSERT_TRUE(rs.ok()) << rs.status().ToString() << "\n" << source;
    std::set<VarId> phase_reads[2];
    for (size_t i = 0; i < rules.size(); ++i) {
      std::set<int> reads;
      CollectReads(rules[i].expr, &reads);
      std::vector<VarId> want(reads.begin(), reads.end());
      ASSERT_EQ((*rs)->rule(i).reads, want) << source;
      bool post = rules[i].post;
      for (int v : reads) post = post || kVars[v].post;
      ASSERT_EQ((*rs)->rule(i).stage == Stage::kPostModel, post) << source;
      phase_reads[post].insert(want.begin(), want.end());
    }
    for (Stage stage : {Stage::kPreModel, Stage::kPostModel}) {
      auto got = (*rs)->reads(stage);
      const std::set<VarId>& want = phase_reads[stage == Stage::kPostModel];
      ASSERT_EQ(std::vector<VarId>(got.begin(), got.end()),
                std::vector<VarId>(want.begin(), want.end()));
    }
    for (int k = 0; k < kEventsPerFile; ++k, ++evaluations) {
      ASSERT_NO_FATAL_FAILURE(CheckVerdict(**rs, rules, gen.RandomEnv(), source));
    }
  }
  EXPECT_EQ(evaluations, kFiles * kEventsPerFile);
}

// Pins a value expression to the oracle's exact result: the rule
// `E == <value>` (or the NaN / infinity forms) must fire.
std::string ExactRule(Printer& printer, const Expr& e, const Val& v) {
  std::string text = printer.Print(e, 5);
  if (e.type == Ty::kStr) return "rule exact: " + text + " == " + StrLiteral(v.s);
  if (std::isnan(v.n)) return "rule exact: " + text + " != " + text;
  if (std::isinf(v.n)) {
    return "rule exact: " + text +
           (v.n > 0 ? " > 1.7976931348623157e308" : " < -1.7976931348623157e308");
  }
  return "rule exact: " + text + " == " + NumLiteral(v.n);
}

TEST(OracleTest, ValuesMatchTheOracleExactly) {
  Gen gen(7);
  Printer printer(&gen);
  for (int i = 0; i < 20000; ++i) {
    Expr e = gen.Chance(0.8) ? gen.Num(gen.Int(1, 5)) : gen.Str(gen.Int(1, 4));
    Env env = gen.RandomEnv();
    Val want = Eval(e, env);
    std::string source = ExactRule(printer, e, want);
    auto rs = RuleSet::Create({TestSchema(), source, "exact.rules"});
    ASSERT_TRUE(rs.ok()) << rs.status().ToString() << "\n" << source;
    Inputs in(TestSchema());
    Fill(env, &in);
    Verdict v;
    (*rs)->Evaluate(in, Phase::kAll, &v);
    ASSERT_EQ(v.fired().size(), 1u) << source << "\nexpected value " << NumLiteral(want.n);
  }
}

}  // namespace
}  // namespace hotpath::rules
