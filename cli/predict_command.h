// `hotpath predict MODEL --input FILE [--margin] [--contribs] [--threads N]`:
// offline batch scoring, one CSV line of outputs per input row on stdout.
#ifndef HOTPATH_CLI_PREDICT_COMMAND_H_
#define HOTPATH_CLI_PREDICT_COMMAND_H_

#include <ostream>
#include <string>

#include "core/status.h"

namespace hotpath::cli {

struct PredictArgs {
  std::string model_path;
  std::string input_path;
  bool margin = false;
  bool contribs = false;
  int threads = 1;
};

// Scores every row of args.input_path and writes "%.9g" values, comma
// separated, one line per row, to `out`. Errors name the file and line.
Status RunPredict(const PredictArgs& args, std::ostream& out);

}  // namespace hotpath::cli

#endif  // HOTPATH_CLI_PREDICT_COMMAND_H_
