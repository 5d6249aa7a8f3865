// SvgPlot: a tiny SVG line-plot writer (stacked panels, line series, shaded
// x-ranges, axes with tick labels, legends). Output is a self-contained SVG
// document; no dependencies. Not thread-safe.
#ifndef HOTPATH_SCALE_SVG_PLOT_H_
#define HOTPATH_SCALE_SVG_PLOT_H_

#include <string>
#include <utility>
#include <vector>

namespace hotpath::scale {

struct Series {
  std::string name;
  std::string color;      // any SVG colour, e.g. "#1f77b4"
  std::vector<double> y;  // one value per x; non-finite values break the line
};

struct Panel {
  std::string y_label;
  std::vector<Series> series;
  std::vector<std::pair<double, double>> shaded;  // x ranges [from, to) to shade
};

class SvgPlot {
 public:
  // `x` is shared by all panels (ascending); `x_label` names its unit.
  SvgPlot(std::string title, std::vector<double> x, std::string x_label);

  void AddPanel(Panel panel);

  // The SVG document. Width 960 px, 260 px per panel.
  std::string Render() const;

 private:
  std::string RenderPanel(const Panel& p, double top) const;
  std::string RenderAxes(double top, double y_max, const std::string& y_label) const;

  std::string title_;
  std::vector<double> x_;
  std::string x_label_;
  std::vector<Panel> panels_;
};

// Escapes &, <, >, " for SVG text.
std::string EscapeXml(const std::string& s);

}  // namespace hotpath::scale

#endif  // HOTPATH_SCALE_SVG_PLOT_H_
