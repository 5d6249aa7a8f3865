// bench_rules: ns per evaluation of 100 realistic fraud rules (fraud100.rules)
// on synthetic transactions, for the compiled rule program of rules/ and, as
// the peer in the same run, a conventional AST interpreter of the same rules.
// Both engines are first checked to agree on every event. Progress goes to
// stderr; the last stdout line is one JSON object.
//
//   build/bench/rules/bench_rules [RULES_FILE]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bench/rules/ast_interpreter.h"
#include "bench/rules/fraud_events.h"
#include "rules/rule_set.h"

namespace hotpath::rules::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kEvents = 512;     // distinct events, cycled (a few hundred KB: L2-resident)
constexpr int kRepeats = 31;        // timed passes over all events; the median is reported
constexpr int kLatencyPasses = 20;  // passes timing each evaluation alone, for p50/p99
volatile double g_sink = 0;         // keeps results observable

double Nanos(Clock::duration d) { return std::chrono::duration<double, std::nano>(d).count(); }

double Percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
}

// The cost of reading the clock twice, subtracted from single-call timings.
double TimerOverheadNs() {
  std::vector<double> samples;
  for (int i = 0; i < 100000; ++i) {
    auto t0 = Clock::now();
    auto t1 = Clock::now();
    samples.push_back(Nanos(t1 - t0));
  }
  return Percentile(samples, 0.5);
}

struct Timing {
  double median_ns = 0;  // per evaluation, median over kRepeats passes
  double p50_ns = 0;     // single evaluations, timer overhead subtracted
  double p99_ns = 0;
};

template <typename EvalFn>
Timing Measure(const char* name, size_t events, double overhead, EvalFn eval) {
  for (size_t i = 0; i < events; ++i) eval(i);  // warm-up
  std::vector<double> per_eval;
  for (int r = 0; r < kRepeats; ++r) {
    auto t0 = Clock::now();
    for (size_t i = 0; i < events; ++i) eval(i);
    per_eval.push_back(Nanos(Clock::now() - t0) / static_cast<double>(events));
  }
  std::vector<double> single;
  for (int pass = 0; pass < kLatencyPasses; ++pass) {
    for (size_t i = 0; i < events; ++i) {
      auto t0 = Clock::now();
      eval(i);
      single.push_back(std::max(0.0, Nanos(Clock::now() - t0) - overhead));
    }
  }
  Timing t{Percentile(per_eval, 0.5), Percentile(single, 0.5), Percentile(single, 0.99)};
  std::fprintf(stderr, "bench_rules: %-16s median %8.1f ns/eval  p50 %8.1f  p99 %8.1f\n", name,
               t.median_ns, t.p50_ns, t.p99_ns);
  return t;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream f(path);
  if (!f) return NotFoundError("cannot read rules file '" + path + "'");
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// Counts events on which the compiled program and the interpreter disagree.
size_t CountDisagreements(const RuleSet& rs, const AstInterpreter& peer,
                          const std::vector<Inputs>& events, double* fired_per_event) {
  size_t bad = 0, fired = 0;
  Verdict v;
  AstInterpreter::Outcome o;
  for (const Inputs& in : events) {
    v.Clear();
    rs.Evaluate(in, Phase::kAll, &v);
    peer.Evaluate(in, &o);
    bool same = std::equal(v.fired().begin(), v.fired().end(), o.fired.begin(), o.fired.end()) &&
                v.score() == o.score && v.action() == o.action;
    bad += same ? 0 : 1;
    fired += v.fired().size();
  }
  *fired_per_event = static_cast<double>(fired) / static_cast<double>(events.size());
  return bad;
}

int Report(const RuleSet& rs, const AstInterpreter& peer, const std::vector<Inputs>& events,
           double compile_us, double fired_per_event) {
  double overhead = TimerOverheadNs();
  std::fprintf(stderr, "bench_rules: timer overhead %.1f ns (subtracted from p50/p99)\n", overhead);
  double sum = 0;
  Verdict v;
  Timing all = Measure("compiled", events.size(), overhead, [&](size_t i) {
    v.Clear();
    rs.Evaluate(events[i], Phase::kAll, &v);
    sum += v.score();
  });
  Timing pre = Measure("compiled pre", events.size(), overhead, [&](size_t i) {
    v.Clear();
    rs.Evaluate(events[i], Phase::kPreModel, &v);
    sum += v.score();
  });
  AstInterpreter::Outcome o;
  Timing interp = Measure("interpreter", events.size(), overhead, [&](size_t i) {
    peer.Evaluate(events[i], &o);
    sum += o.score;
  });
  g_sink = sum;
  std::printf(
      "{\"bench\":\"rules\",\"rules\":%zu,\"events\":%zu,\"rules100_ns\":%.1f,"
      "\"rules100_p50_ns\":%.1f,\"rules100_p99_ns\":%.1f,\"pre_model_ns\":%.1f,"
      "\"interpreter_ns\":%.1f,\"interpreter_p99_ns\":%.1f,\"speedup\":%.2f,"
      "\"instructions\":%zu,\"compile_us\":%.0f,\"fired_per_event\":%.2f,"
      "\"timer_overhead_ns\":%.1f}\n",
      rs.rule_count(), events.size(), all.median_ns, all.p50_ns, all.p99_ns, pre.median_ns,
      interp.median_ns, interp.p99_ns, interp.median_ns / all.median_ns, rs.instruction_count(),
      compile_us, fired_per_event, overhead);
  return 0;
}

int Run(int argc, char** argv) {
  std::string path = argc > 1 ? argv[1] : HOTPATH_RULES_BENCH_FILE;
  auto schema = FraudSchema();
  auto source = ReadFile(path);
  if (!schema.ok() || !source.ok()) {
    std::fprintf(stderr, "bench_rules: %s\n",
                 (schema.ok() ? source.status() : schema.status()).ToString().c_str());
    return 1;
  }
  auto t0 = Clock::now();
  auto rs = RuleSet::Create({*schema, *source, path});
  double compile_us = Nanos(Clock::now() - t0) / 1000;
  auto peer = AstInterpreter::Create(*schema, *source);
  if (!rs.ok() || !peer.ok()) {
    std::fprintf(stderr, "bench_rules: %s\n",
                 (rs.ok() ? peer.status() : rs.status()).ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "bench_rules: %zu rules, %zu instructions, compiled in %.0f us\n",
               (*rs)->rule_count(), (*rs)->instruction_count(), compile_us);
  std::vector<std::string> storage;
  std::vector<Inputs> events = GenerateFraudEvents(*schema, kEvents, 42, &storage);
  double fired_per_event = 0;
  size_t bad = CountDisagreements(**rs, **peer, events, &fired_per_event);
  std::fprintf(stderr, "bench_rules: engines agree on %zu/%zu events; %.2f rules fire per event\n",
               events.size() - bad, events.size(), fired_per_event);
  if (bad != 0) return 1;
  return Report(**rs, **peer, events, compile_us, fired_per_event);
}

}  // namespace
}  // namespace hotpath::rules::bench

int main(int argc, char** argv) { return hotpath::rules::bench::Run(argc, argv); }
