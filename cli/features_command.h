// `hotpath features ...`: the feature layer's offline and replay tools.
//  - `backfill EVENTS --definitions DEFS --features f1,f2 [--passthrough label]
//    --out training.csv`: point-in-time-correct training rows for a labeled
//    event log (features::Backfill: the code that serves online reads).
//  - `replay FILE --port P [--rate N]`: streams a JSON Lines event log into a
//    running server's ingest route (POST /v1/features/events) in batches at a
//    fixed event rate, printing live progress every second and a JSON
//    summary at the end.
#ifndef HOTPATH_CLI_FEATURES_COMMAND_H_
#define HOTPATH_CLI_FEATURES_COMMAND_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "core/status.h"

namespace hotpath::cli {

struct FeaturesBackfillArgs {
  std::string events;                    // JSONL log in non-decreasing event time
  std::string definitions;               // the feature definitions file
  std::vector<std::string> features;     // GROUP.AGG.WINDOW | GROUP.DERIVED, one entity
  std::vector<std::string> passthrough;  // event fields copied into each row (labels)
  std::string out;                       // the CSV to write
};

// Writes `out` (through `out`.tmp, renamed when complete, so a failed run
// leaves no partial training file), prints the first refused lines as
// "EVENTS:LINE: reason" to `diagnostics` and a JSON summary line to
// `summary`. NOT_FOUND when an input cannot be read; INVALID_ARGUMENT naming
// the file and line when the log goes back in time, or naming the bad
// definition or feature reference. Malformed lines are skipped and counted.
Status RunFeaturesBackfill(const FeaturesBackfillArgs& args, std::ostream& summary,
                           std::ostream& diagnostics);

struct FeaturesReplayArgs {
  std::string file;    // JSON Lines, one event per line, sent unchanged
  int port = 8000;     // server on 127.0.0.1
  double rate = 1000;  // events per second; 0 = as fast as the server answers
  int batch = 100;     // events per request, 1..100000
  int64_t limit = 0;   // stop after this many events (0 = the whole file)
};

// Lines that are not JSON objects are counted as malformed and not sent;
// events the server refuses (too late, invalid, entity cap) are counted from
// its answers, and the first ones are printed with their line number.
// NOT_FOUND when the file cannot be read; UNAVAILABLE when the server cannot
// be reached (also mid-run, after one reconnection attempt).
Status RunFeaturesReplay(const FeaturesReplayArgs& args, std::ostream& progress,
                         std::ostream& summary);

}  // namespace hotpath::cli

#endif  // HOTPATH_CLI_FEATURES_COMMAND_H_
