// Replaying a JSONL event log into any store in-process, and computing
// point-in-time-correct training rows from a time-ordered event log with the
// same code that serves online reads (behind `hotpath features backfill`;
// the CLI lives in cli/, and `hotpath features replay` streams a log to a
// server over HTTP instead).
#ifndef HOTPATH_FEATURES_REPLAY_H_
#define HOTPATH_FEATURES_REPLAY_H_

#include <cstddef>
#include <iosfwd>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "features/definitions.h"
#include "features/event.h"
#include "features/feature_store.h"

namespace hotpath::features {

struct ReplayStats {
  std::size_t lines = 0;  // non-empty lines read
  std::size_t applied = 0;
  std::size_t too_late = 0;
  std::size_t rejected = 0;  // malformed lines included
  std::size_t rows = 0;      // Backfill only: CSV rows written (header excluded)
  // (1-based line, reason) of the first 100 refusals.
  std::vector<std::pair<std::size_t, Status>> errors;
};

// Reads one JSON event per line from `in`, parses each with `parser` and
// ingests them in batches of `batch_size` through `ingest`. Malformed lines are counted and
// reported, never fatal; an error from `ingest` stops the replay and is
// returned. Pacing (events/s) is the caller's business.
Result<ReplayStats> ReplayJsonl(std::istream& in, const EventParser& parser, const IngestFn& ingest,
                                std::size_t batch_size = 1024);

struct BackfillOptions {
  std::shared_ptr<const Definitions> definitions;  // required
  std::vector<std::string> features;               // feature references, all of one entity
  // Event fields copied into each row before the features (e.g. "label").
  std::vector<std::string> passthrough_fields;
  std::string events_name = "events";  // names the log in errors ("NAME: line N: ...")
};

// Reads a JSONL event log in non-decreasing event time and writes a CSV row
// per event of the features' entity: entity key, event time (ms),
// passthrough fields, then every feature as an online read at the event's
// time would have answered just before the event was applied (empty cell:
// no value). Events of every source are applied, in order, to an in-memory
// FeatureStore whose clock follows event time, so rows hold only what was
// known at that time. INVALID_ARGUMENT naming the log and line when the log
// goes back in time; malformed lines are skipped and counted in `stats`.
Status Backfill(const BackfillOptions& options, std::istream& events, std::ostream& csv,
                ReplayStats* stats);

}  // namespace hotpath::features

#endif  // HOTPATH_FEATURES_REPLAY_H_
