// ModelConfig: the validated contents of one model's `config.json` in the
// model repository (docs/repository.md has the full reference).
//
// ParseModelConfig is the boundary: everything it returns is checked, so the
// repository, the scheduler and the server read the fields without
// re-validating them. Errors are INVALID_ARGUMENT as
// "<file>: <key.path>: <reason>", e.g.
// "models/fraud/config.json: dynamic_batching.max_queue_delay_us: must be >= 0, got -5".
#ifndef HOTPATH_RUNTIME_REPOSITORY_MODEL_CONFIG_H_
#define HOTPATH_RUNTIME_REPOSITORY_MODEL_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "runtime/model.h"

namespace hotpath {

// One declared input or output. `dims` exclude the batch dimension; -1 marks
// a variable dimension.
struct TensorConfig {
  std::string name;
  DType dtype = DType::kFp32;
  Shape dims;
};

// The scheduler's knobs (Triton's dynamic_batching block). Defaults are
// those of sched/'s DynamicBatcher::Options.
struct DynamicBatchingConfig {
  int64_t max_queue_delay_us = 100;         // >= 0
  std::vector<int> preferred_batch_sizes;   // strictly ascending, each in [1, max_batch_size]
  int priority_levels = 1;                  // >= 1; level 1 is the highest
  int default_priority_level = 1;           // in [1, priority_levels]
  int64_t default_timeout_us = 0;           // 0 = no deadline; >= 0
  int max_queue_size = 1024;                // >= 1
  int64_t priority_aging_us = 1000;         // >= 0; see sched/batcher.h
  int64_t adaptive_p99_target_us = 0;       // 0 = fixed delay; >= 0
};

// Which versions of a model are served.
struct VersionPolicy {
  enum class Kind { kLatest, kSpecific, kAll };
  Kind kind = Kind::kLatest;
  int num_versions = 1;           // kLatest: the N highest versions, >= 1
  std::vector<int64_t> versions;  // kSpecific: ascending, unique, each >= 1
};

// Rows run through Model::Predict before a version is marked ready.
struct WarmupConfig {
  // Batch sizes run once each, in order, each in [1, max_batch_size].
  std::vector<int> batch_sizes;
  // Exactly one row source: `random_rows` rows of uniform values in [-1, 1]
  // from a fixed seed, or `rows_file`, a JSON array of rows (arrays of
  // numbers, null = missing) relative to the model's directory.
  int random_rows = 0;
  std::string rows_file;
};

// The serving layer's circuit breaker for this model (serve/admission/
// circuit_breaker.h has the state machine). Only model faults count as
// failures; overload refusals (queue full, shed, deadline passed in queue)
// are admission decisions and do not trip it. Slow calls count from
// submission to answer.
struct CircuitBreakerConfig {
  bool enabled = true;
  double failure_rate_threshold = 0.5;        // in (0, 1]
  double slow_call_rate_threshold = 1.0;      // in (0, 1]
  int64_t slow_call_duration_us = 1'000'000;  // 1..3.6e9
  int window_size = 100;                      // 1..100000
  int minimum_calls = 20;                     // 1..window_size
  int64_t open_duration_ms = 5000;            // 1..3.6e6
  int half_open_calls = 5;                    // 1..10000
};

struct ModelConfig {
  std::string name;     // the model's directory name
  std::string backend;  // a name registered in the BackendRegistry
  // File inside each version folder; empty = the backend's default.
  std::string artifact;
  std::vector<TensorConfig> inputs;   // non-empty, unique names
  std::vector<TensorConfig> outputs;  // non-empty, unique names
  int max_batch_size = 1;             // rows per Predict call, >= 1
  OutputKind output_kind = OutputKind::kValue;
  // Absent: requests run unbatched.
  std::optional<DynamicBatchingConfig> dynamic_batching;
  int instance_count = 1;  // >= 1
  VersionPolicy version_policy;
  WarmupConfig warmup;  // default: batch sizes {1, max_batch_size}, that many random rows
  std::string fallback_model;  // empty = none; never the model itself
  CircuitBreakerConfig circuit_breaker;
};

// Parses and validates `text`, the contents of `file` (used in messages),
// for the model in directory `model_dir_name`. Never throws; any byte string
// yields a config or INVALID_ARGUMENT naming the file, key and reason.
// Unknown keys are refused (a misspelt unit suffix is an error, not a default).
Result<ModelConfig> ParseModelConfig(std::string_view text, std::string_view file,
                                     std::string_view model_dir_name);

// "value", "margin" or "contributions".
std::string_view OutputKindName(OutputKind kind);

}  // namespace hotpath

#endif  // HOTPATH_RUNTIME_REPOSITORY_MODEL_CONFIG_H_
