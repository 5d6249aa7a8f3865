#include "cli/plan_command.h"

#include <filesystem>

#include "scale/catalog.h"
#include "scale/policy.h"
#include "scale/simulator.h"
#include "scale/trace.h"

namespace hotpath::cli {

Status RunPlanSimulate(const PlanSimulateArgs& args, std::ostream& out) {
  ASSIGN_OR_RETURN(scale::Trace trace, scale::LoadTrace(args.trace));
  ASSIGN_OR_RETURN(scale::PolicyConfig policy, scale::LoadPolicyConfig(args.policy));
  ASSIGN_OR_RETURN(scale::InstanceCatalog catalog, scale::InstanceCatalog::Load(args.catalog));
  scale::SimulationOptions o;
  ASSIGN_OR_RETURN(o.replica.instance, catalog.Find(args.instance));
  o.replica.capacity_rps = args.capacity_rps;
  o.replica.cold_start_s = args.cold_start_s;
  o.slo_p99_ms = args.slo_p99_ms;
  o.history_s = args.history_s;
  ASSIGN_OR_RETURN(scale::SimulationReport report, scale::Simulate(trace, policy, o));
  std::error_code ec;
  std::filesystem::create_directories(args.out_dir, ec);
  if (ec) return InvalidArgumentError("--out: cannot create '" + args.out_dir + "': " + ec.message());
  RETURN_IF_ERROR(scale::WriteTimelineCsv(report, args.out_dir + "/timeline.csv"));
  RETURN_IF_ERROR(scale::WriteTimelineSvg(report, args.out_dir + "/timeline.svg"));
  out << scale::ReportSummaryJson(report) << "\n";
  return OkStatus();
}

}  // namespace hotpath::cli
