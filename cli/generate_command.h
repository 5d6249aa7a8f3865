// `hotpath generate transactions [--events N] [--seed S] [--rate R] ...`:
// writes labeled synthetic card transactions as JSON Lines.
#ifndef HOTPATH_CLI_GENERATE_COMMAND_H_
#define HOTPATH_CLI_GENERATE_COMMAND_H_

#include <cstdint>
#include <ostream>

#include "core/status.h"
#include "pipeline/fraud/generator.h"

namespace hotpath::cli {

struct GenerateArgs {
  int64_t events = 100000;
  fraud::TransactionGenerator::Options generator;
};

// Writes `args.events` transactions, one JSON object per line, to `out`.
Status RunGenerate(const GenerateArgs& args, std::ostream& out);

}  // namespace hotpath::cli

#endif  // HOTPATH_CLI_GENERATE_COMMAND_H_
