// Writes the optimisation report: a markdown table, the same table as CSV and
// an SVG scatter plot (batch-1 latency against AUC, one labelled point per
// variant).
#ifndef HOTPATH_OPTIMIZE_REPORT_H_
#define HOTPATH_OPTIMIZE_REPORT_H_

#include <string>

#include "optimize/optimize.h"

namespace hotpath::optimize {

// The table, the gate and strategy of `options`, and a link to `svg_name`.
std::string ReportMarkdown(const OptimizeReport& report, const OptimizeOptions& options,
                           const std::string& svg_name);
// Header line, then one line per variant (baseline first); a last column
// `published` is 1 for the published variant. Variant names hold no commas.
std::string ReportCsv(const OptimizeReport& report);
std::string ReportSvg(const OptimizeReport& report);

}  // namespace hotpath::optimize

#endif  // HOTPATH_OPTIMIZE_REPORT_H_
