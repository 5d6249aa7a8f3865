// Writes the optimisation report: a markdown table and an SVG scatter plot
// (batch-1 latency against AUC, one labelled point per variant).
#ifndef HOTPATH_OPTIMIZE_REPORT_H_
#define HOTPATH_OPTIMIZE_REPORT_H_

#include <string>

#include "optimize/optimize.h"

namespace hotpath::optimize {

// The table, the gate and strategy of `options`, and a link to `svg_name`.
std::string ReportMarkdown(const OptimizeReport& report, const OptimizeOptions& options,
                           const std::string& svg_name);
std::string ReportSvg(const OptimizeReport& report);

}  // namespace hotpath::optimize

#endif  // HOTPATH_OPTIMIZE_REPORT_H_
