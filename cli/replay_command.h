// `hotpath replay FILE --url http://HOST:PORT [--rate N]`: streams a JSON
// Lines file of transactions into the fraud API (POST /v1/fraud/decide) at a
// fixed rate, printing live throughput, latency p50/p99 (timed from each
// transaction's scheduled send time) and decision counts every second, and a
// JSON summary at the end.
#ifndef HOTPATH_CLI_REPLAY_COMMAND_H_
#define HOTPATH_CLI_REPLAY_COMMAND_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "core/status.h"

namespace hotpath::cli {

struct ReplayArgs {
  std::string file;
  std::string url = "http://127.0.0.1:8000";
  double rate = 1000;       // transactions per second; 0 = as fast as possible
  int connections = 8;      // keep-alive connections (one thread each)
  bool restamp = true;      // set each transaction's timestamp to its send time
  int64_t limit = 0;        // stop after this many (0 = the whole file)
};

Status RunReplay(const ReplayArgs& args, std::ostream& progress, std::ostream& summary);

}  // namespace hotpath::cli

#endif  // HOTPATH_CLI_REPLAY_COMMAND_H_
