// Feature definitions: the validated, in-memory form of a feature definitions
// file (JSON), naming entities, event sources, windowed aggregations and
// on-demand derived features. Everything downstream (ingest, stores, reads)
// trusts a Definitions value: ParseDefinitions() is the only place that checks.
//
// Times are int64 milliseconds since the Unix epoch; durations are int64
// milliseconds. See docs/features.md for the file format.
#ifndef HOTPATH_FEATURES_DEFINITIONS_H_
#define HOTPATH_FEATURES_DEFINITIONS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace hotpath::features {

// A duration that stands for "no end": the lifetime window, or no TTL.
inline constexpr int64_t kForeverMs = INT64_MAX;

struct EntityDef {
  std::string name;
  std::vector<std::string> key_fields;  // event fields whose values identify the entity
};

struct SourceDef {
  std::string name;               // matched against an event's "type" field
  int entity = 0;                 // index into Definitions::entities
  std::string timestamp_field;    // event field holding the event time
  int64_t timestamp_unit_ms = 1;  // 1 for "ms"; 1000 for "s"
  // Fields the aggregations read, in slot order: numeric first, then keyed
  // (hashed for distinct counts). An event lacking one of them is malformed.
  std::vector<std::string> numeric_fields;
  std::vector<std::string> keyed_fields;
};

enum class AggKind {
  kCount,
  kSum,
  kMean,
  kMin,
  kMax,
  kStddev,  // population standard deviation
  kFirst,
  kLast,
  kDistinctCount,  // HyperLogLog
  kQuantile,       // DDSketch, relative error `relative_error`
  kLastN,          // the last `n` values, newest first
};

std::string_view AggKindName(AggKind kind);

struct AggregationDef {
  std::string name;
  int source = 0;  // index into Definitions::sources
  AggKind kind = AggKind::kCount;
  int field = -1;         // numeric field slot (or keyed slot for kDistinctCount); -1 for kCount
  double quantile = 0.5;  // kQuantile only, in [0, 1]
  double relative_error = 0.01;  // kQuantile only, in (0, 0.5)
  int last_n = 0;                // kLastN only, in [1, 64]
  int hll_precision = 12;        // kDistinctCount only, in [4, 16]
};

struct WindowDef {
  std::string name;  // as written, e.g. "5m" or "lifetime"
  int64_t length_ms = kForeverMs;
  bool lifetime() const { return length_ms == kForeverMs; }
};

enum class DerivedKind { kRatio, kLog1p, kTimeSinceLast, kHourOfDay, kCompareProfile };
enum class CompareOp { kLt, kLe, kGt, kGe, kEq, kNe };

// A reference to one windowed aggregation inside the same group.
struct AggRef {
  int aggregation = 0;
  int window = 0;
};

struct DerivedDef {
  std::string name;
  DerivedKind kind = DerivedKind::kRatio;
  AggRef a;                   // ratio numerator, log1p input, compare_profile input
  AggRef b;                   // ratio denominator
  int source = 0;             // kTimeSinceLast: the source whose last event counts
  std::string profile_field;  // kCompareProfile
  CompareOp op = CompareOp::kGt;
};

struct FeatureGroupDef {
  std::string name;
  int entity = 0;
  int64_t bucket_ms = 60'000;
  int64_t allowed_lateness_ms = 0;
  int64_t ttl_ms = kForeverMs;     // entity state expires this long after its newest event
  int64_t retention_ms = 0;        // how far back "as of" reads may go
  int64_t max_future_skew_ms = 0;  // events further ahead of the clock are refused
  std::vector<WindowDef> windows;  // each a multiple of bucket_ms, or lifetime
  std::vector<AggregationDef> aggregations;
  std::vector<DerivedDef> derived;
};

struct Definitions {
  std::vector<EntityDef> entities;
  std::vector<SourceDef> sources;
  std::vector<FeatureGroupDef> groups;

  // Index of the source / group with that name, or -1.
  int FindSource(std::string_view name) const;
  int FindGroup(std::string_view name) const;
};

// Parses and validates a definitions document. `file_name` only labels errors.
// On failure returns INVALID_ARGUMENT "FILE:LINE: PATH: reason", where PATH
// names the offending key (e.g. groups[0].aggregations[2].kind).
// Thread-safe (pure function).
Result<Definitions> ParseDefinitions(std::string_view text, std::string_view file_name);

// Reads `path` and parses it as above; NOT_FOUND when the file cannot be read.
Result<Definitions> LoadDefinitionsFile(const std::string& path);

// Parses a duration such as "250ms", "30s", "5m", "1h", "24h", "7d" into
// milliseconds. INVALID_ARGUMENT when malformed, non-positive or overflowing.
Result<int64_t> ParseDurationMs(std::string_view text);

}  // namespace hotpath::features

#endif  // HOTPATH_FEATURES_DEFINITIONS_H_
