// `hotpath alerts [--objective 0.999 ...]`: prints hotpath's Prometheus alert
// rules (observe/alert_rules.h); deploy/prometheus/hotpath-rules.yml is its
// output with the defaults.
#ifndef HOTPATH_CLI_ALERTS_COMMAND_H_
#define HOTPATH_CLI_ALERTS_COMMAND_H_

#include <ostream>

#include "observe/alert_rules.h"

namespace hotpath::cli {

inline Status RunAlerts(const AlertRulesOptions& options, std::ostream& out) {
  ASSIGN_OR_RETURN(std::string rules, PrometheusAlertRules(options));
  out << rules;
  return OkStatus();
}

}  // namespace hotpath::cli

#endif  // HOTPATH_CLI_ALERTS_COMMAND_H_
