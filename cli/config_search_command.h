// `hotpath plan configs --repository DIR --model NAME --p99-us X`: the
// serving-config search in the spirit of Triton's model analyzer. For every
// instance count x max batch size x queue delay of the grid it serves the
// model in-process (repository + dynamic batcher + HTTP front on a free
// port), measures closed-loop throughput and p99 with the load generator,
// and recommends the highest-throughput config whose p99 meets the bound,
// printed as the model's config.json with those values.
#ifndef HOTPATH_CLI_CONFIG_SEARCH_COMMAND_H_
#define HOTPATH_CLI_CONFIG_SEARCH_COMMAND_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "core/status.h"

namespace hotpath::cli {

struct ConfigSearchArgs {
  std::string repository;
  std::string model;
  double p99_us = 2000;
  std::vector<int> instance_counts = {1, 2};
  std::vector<int> max_batch_sizes = {1, 8, 32};
  std::vector<int64_t> queue_delays_us = {0, 100, 500};
  int concurrency = 16;         // closed-loop clients per measurement
  int64_t duration_ms = 1000;   // per measurement
};

Status RunConfigSearch(const ConfigSearchArgs& args, std::ostream& out, std::ostream& progress);

}  // namespace hotpath::cli

#endif  // HOTPATH_CLI_CONFIG_SEARCH_COMMAND_H_
