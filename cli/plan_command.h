// `hotpath plan simulate --trace T --policy P [...]`: runs the fleet
// simulator (scale/simulator.h) for one policy over a demand trace, prints a
// JSON summary and writes the timeline as CSV and an SVG plot.
#ifndef HOTPATH_CLI_PLAN_COMMAND_H_
#define HOTPATH_CLI_PLAN_COMMAND_H_

#include <ostream>
#include <string>

#include "core/status.h"

namespace hotpath::cli {

struct PlanSimulateArgs {
  std::string trace;    // .csv (t_s,rps) or .json
  std::string policy;   // {"base": "hotpath"|"kubernetes"|"static", ...}
  std::string catalog = "examples/catalog/instances.json";
  std::string instance = "c7i.2xlarge";
  double capacity_rps = 100.0;  // one replica's sustainable rate (measure with the load generator)
  double cold_start_s = 60.0;
  double slo_p99_ms = 250.0;
  double history_s = 0.0;       // leading trace seconds fed to the forecaster only
  std::string out_dir = ".";    // timeline.csv and timeline.svg go here
};

Status RunPlanSimulate(const PlanSimulateArgs& args, std::ostream& out);

}  // namespace hotpath::cli

#endif  // HOTPATH_CLI_PLAN_COMMAND_H_
