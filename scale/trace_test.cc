#include "scale/trace.h"

#include <gtest/gtest.h>

#include "scale/synthetic_trace.h"

namespace hotpath::scale {
namespace {

TEST(TraceTest, ParsesCsv) {
  auto t = ParseTraceCsv("t_s,rps\n0,10\n60,20.5\n120,30\n");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->step_s, 60);
  EXPECT_EQ(t->rps, (std::vector<double>{10, 20.5, 30}));
  EXPECT_DOUBLE_EQ(t->DurationS(), 180);
}

TEST(TraceTest, CsvErrorsNameTheLine) {
  const std::pair<const char*, const char*> cases[] = {
      {"t_s,rps\n0,10\n60,abc\n", "line 3: rps is not a number"},
      {"t_s,rps\n0,10\n60\n", "line 3: expected 't_s,rps'"},
      {"t_s,rps\n0,10\n60,5\n200,5\n", "line 4: t_s is not evenly spaced"},
      {"t_s,rps\n0,10\n", "at least 2 rows"},
      {"t_s,rps\n0,10\n60,-5\n", "rps[1]"},
      {"0,10\n60,5\n120,5\n", "line 1: expected the header"},
  };
  for (const auto& [text, want] : cases) {
    auto t = ParseTraceCsv(text);
    ASSERT_FALSE(t.ok()) << text;
    EXPECT_NE(t.status().message().find(want), std::string::npos) << t.status().message();
  }
}

TEST(TraceTest, ParsesJsonAndNamesBadFields) {
  auto t = ParseTraceJson(R"({"step_s": 300, "rps": [1, 2, 3]})");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->step_s, 300);
  EXPECT_EQ(t->rps.size(), 3u);
  EXPECT_NE(ParseTraceJson(R"({"step_s": 300, "rps": [1, "x"]})").status().message().find("rps[1]"),
            std::string::npos);
  EXPECT_NE(ParseTraceJson(R"({"rps": [1, 2]})").status().message().find("step_s"),
            std::string::npos);
  EXPECT_NE(ParseTraceJson(R"({"step_s": 0, "rps": [1, 2]})").status().message().find("step_s"),
            std::string::npos);
  EXPECT_FALSE(ParseTraceJson("{").ok());
}

TEST(TraceTest, ResampleAverages) {
  Trace t{60, {1, 2, 3, 4, 5}};
  auto r = Resample(t, 120);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rps, (std::vector<double>{1.5, 3.5}));
  EXPECT_FALSE(Resample(t, 90).ok());
}

TEST(TraceTest, SaveAndLoadRoundTrip) {
  Trace t{60, {1.5, 2, 3}};
  const std::string path = ::testing::TempDir() + "/trace.csv";
  ASSERT_TRUE(SaveTraceCsv(t, path).ok());
  auto back = LoadTrace(path);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->rps, t.rps);
  EXPECT_EQ(LoadTrace("/nonexistent.csv").status().code(), StatusCode::kNotFound);
}

TEST(SyntheticTraceTest, NoiselessTraceIsTheGeneratingFunction) {
  SyntheticTraceOptions o;
  o.days = 8;
  o.noise_fraction = 0;
  o.weekend_dip = 0.3;
  const SyntheticTrace t = GenerateTrace(o);
  for (size_t i = 0; i < t.trace.rps.size(); i += 97) {
    EXPECT_DOUBLE_EQ(t.trace.rps[i], ExpectedDemand(o, (i + 0.5) * o.step_s));
  }
  // Saturday noon is 30% below Friday noon.
  EXPECT_NEAR(ExpectedDemand(o, 5 * 86400 + 43200) / ExpectedDemand(o, 4 * 86400 + 43200), 0.7,
              1e-12);
}

TEST(SyntheticTraceTest, SeededAndLabelled) {
  SyntheticTraceOptions o;
  o.days = 2;
  o.spikes = 5;
  const SyntheticTrace a = GenerateTrace(o), b = GenerateTrace(o);
  EXPECT_EQ(a.trace.rps, b.trace.rps);
  int labelled = 0;
  for (size_t i = 0; i < a.spike.size(); ++i) {
    if (a.spike[i]) {
      ++labelled;
      EXPECT_GT(a.trace.rps[i], a.expected[i] * 1.2);
    }
  }
  EXPECT_GE(labelled, 5);
}

}  // namespace
}  // namespace hotpath::scale
