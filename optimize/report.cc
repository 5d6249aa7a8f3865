#include "optimize/report.h"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <string>
#include <vector>

namespace hotpath::optimize {
namespace {

std::string Format(const char* fmt, double a) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, a);
  return buf;
}

constexpr const char* kColumns[] = {
    "variant",          "AUC",    "AUC loss",     "log loss", "max abs diff", "batch-1 p50 (µs)",
    "batch-1 p99 (µs)", "rows/s", "memory (MiB)", "gate"};

// One table row, the cells in kColumns order.
std::vector<std::string> Cells(const VariantResult& v, const VariantResult& base) {
  return {v.name,
          Format("%.5f", v.accuracy.auc),
          Format("%+.5f", base.accuracy.auc - v.accuracy.auc),
          Format("%.5f", v.accuracy.log_loss),
          Format("%.4g", v.accuracy.max_abs_diff),
          Format("%.2f", v.batch1_p50_us),
          Format("%.2f", v.batch1_p99_us),
          Format("%.0f", v.rows_per_s),
          Format("%.3f", v.memory_bytes / 1048576.0),
          v.passed ? "pass" : "fail"};
}

std::string Join(const std::vector<std::string>& cells, const char* open, const char* sep,
                 const char* close) {
  std::string line = open;
  for (size_t i = 0; i < cells.size(); ++i) line += (i ? sep : "") + cells[i];
  return line + close;
}

}  // namespace

std::string ReportMarkdown(const OptimizeReport& r, const OptimizeOptions& o,
                           const std::string& svg_name) {
  std::string md = "# Optimisation report\n\n";
  md += "Model " + o.model.string() + ", " + std::to_string(o.eval.rows) +
        " held-out rows, strategy " + StrategyName(o.strategy) +
        ". Gate: AUC loss <= " + Format("%g", o.gate.max_auc_loss) +
        ", log-loss increase <= " + Format("%g", o.gate.max_logloss_increase) +
        ", max abs diff <= " + Format("%g", o.gate.max_abs_diff) +
        ". Latency: " + std::to_string(o.latency_rows) +
        " single-row calls; rows/s: " + std::to_string(o.batch) +
        " rows per call, one thread, wall clock.\n\n";
  const std::vector<std::string> header(std::begin(kColumns), std::end(kColumns));
  md += Join(header, "| ", " | ", " |\n");
  md += Join(std::vector<std::string>(header.size(), "---"), "|", "|", "|\n");
  md += Join(Cells(r.baseline, r.baseline), "| ", " | ", " |\n");
  for (size_t i = 0; i < r.variants.size(); ++i) {
    std::vector<std::string> cells = Cells(r.variants[i], r.baseline);
    if (static_cast<int>(i) == r.best) cells[0] += " **(published)**";
    md += Join(cells, "| ", " | ", " |\n");
  }
  md += r.best >= 0 ? "\nPublished: " + r.variants[r.best].name + "\n"
                    : "\nNo variant passed the gate; nothing was published.\n";
  md += "\n![latency vs AUC](" + svg_name + ")\n";
  return md;
}

std::string ReportCsv(const OptimizeReport& r) {
  std::string csv = Join({std::begin(kColumns), std::end(kColumns)}, "", ",", ",published\n");
  csv += Join(Cells(r.baseline, r.baseline), "", ",", ",0\n");
  for (size_t i = 0; i < r.variants.size(); ++i) {
    csv += Join(Cells(r.variants[i], r.baseline), "", ",",
                static_cast<int>(i) == r.best ? ",1\n" : ",0\n");
  }
  return csv;
}

std::string ReportSvg(const OptimizeReport& r) {
  std::vector<const VariantResult*> all = {&r.baseline};
  for (const auto& v : r.variants) all.push_back(&v);
  double lmax = 0, amin = 1, amax = 0;
  for (const auto* v : all) {
    lmax = std::max(lmax, v->batch1_p50_us);
    amin = std::min(amin, v->accuracy.auc);
    amax = std::max(amax, v->accuracy.auc);
  }
  if (amax - amin < 1e-4) amin = amax - 1e-4;
  const double w = 640, h = 400, m = 60;
  std::string svg =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"400\" "
      "font-family=\"sans-serif\" font-size=\"11\">\n"
      "<rect width=\"640\" height=\"400\" fill=\"white\"/>\n";
  svg +=
      "<line x1=\"60\" y1=\"340\" x2=\"620\" y2=\"340\" stroke=\"black\"/>"
      "<line x1=\"60\" y1=\"20\" x2=\"60\" y2=\"340\" stroke=\"black\"/>\n";
  svg += "<text x=\"300\" y=\"375\">batch-1 p50 latency (µs), 0 to " + Format("%.1f", lmax) +
         "</text>\n<text x=\"5\" y=\"15\">AUC " + Format("%.4f", amin) + " to " +
         Format("%.4f", amax) + "</text>\n";
  for (const auto* v : all) {
    const double x = m + (w - 2 * m) * (lmax > 0 ? v->batch1_p50_us / lmax : 0);
    const double y = (h - m) - (h - 2 * m) * (v->accuracy.auc - amin) / (amax - amin);
    const char* color = v == &r.baseline ? "black" : v->passed ? "green" : "red";
    svg += "<circle cx=\"" + Format("%.1f", x) + "\" cy=\"" + Format("%.1f", y) +
           "\" r=\"5\" fill=\"" + color + "\"/><text x=\"" + Format("%.1f", x + 7) + "\" y=\"" +
           Format("%.1f", y - 4) + "\">" + v->name + "</text>\n";
  }
  return svg + "</svg>\n";
}

}  // namespace hotpath::optimize
