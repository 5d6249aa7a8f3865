#include "scale/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace hotpath::scale {

namespace {

constexpr double kWidth = 960.0;
constexpr double kPanelHeight = 260.0;
constexpr double kTitleHeight = 30.0;
constexpr double kLeft = 70.0, kRight = 20.0, kTop = 20.0, kBottom = 40.0;

// A "nice" axis maximum (1, 2, 2.5 or 5 × 10^k) at or above v.
double NiceCeil(double v) {
  if (!(v > 0.0)) {
    return 1.0;
  }
  const double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (m * p >= v) {
      return m * p;
    }
  }
  return 10.0 * p;
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4g", v);
  return buf;
}

std::string Coord(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", v);
  return buf;
}

}  // namespace

std::string EscapeXml(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

SvgPlot::SvgPlot(std::string title, std::vector<double> x, std::string x_label)
    : title_(std::move(title)), x_(std::move(x)), x_label_(std::move(x_label)) {}

void SvgPlot::AddPanel(Panel panel) { panels_.push_back(std::move(panel)); }

std::string SvgPlot::RenderAxes(double top, double y_max, const std::string& y_label) const {
  std::ostringstream o;
  const double x0 = kLeft, x1 = kWidth - kRight, y0 = top + kPanelHeight - kBottom, y1 = top + kTop;
  const double xmin = x_.empty() ? 0.0 : x_.front(), xmax = x_.empty() ? 1.0 : x_.back();
  o << "<rect x=\"" << x0 << "\" y=\"" << y1 << "\" width=\"" << x1 - x0 << "\" height=\""
    << y0 - y1 << "\" fill=\"none\" stroke=\"#444\"/>\n";
  for (int i = 0; i <= 4; ++i) {
    const double y = y0 - (y0 - y1) * i / 4.0;
    const double x = x0 + (x1 - x0) * i / 4.0;
    o << "<line x1=\"" << x0 << "\" y1=\"" << Coord(y) << "\" x2=\"" << x1 << "\" y2=\"" << Coord(y)
      << "\" stroke=\"#ddd\"/>\n";
    o << "<text x=\"" << x0 - 6 << "\" y=\"" << Coord(y + 4) << "\" text-anchor=\"end\">"
      << Num(y_max * i / 4.0) << "</text>\n";
    o << "<text x=\"" << Coord(x) << "\" y=\"" << y0 + 16 << "\" text-anchor=\"middle\">"
      << Num(xmin + (xmax - xmin) * i / 4.0) << "</text>\n";
  }
  o << "<text x=\"" << (x0 + x1) / 2 << "\" y=\"" << y0 + 32 << "\" text-anchor=\"middle\">"
    << EscapeXml(x_label_) << "</text>\n";
  o << "<text transform=\"translate(14," << (y0 + y1) / 2
    << ") rotate(-90)\" text-anchor=\"middle\">" << EscapeXml(y_label) << "</text>\n";
  return o.str();
}

std::string SvgPlot::RenderPanel(const Panel& p, double top) const {
  double y_max = 0.0;
  for (const Series& s : p.series) {
    for (double v : s.y) {
      if (std::isfinite(v)) {
        y_max = std::max(y_max, v);
      }
    }
  }
  y_max = NiceCeil(y_max);
  const double x0 = kLeft, x1 = kWidth - kRight, y0 = top + kPanelHeight - kBottom, y1 = top + kTop;
  const double xmin = x_.empty() ? 0.0 : x_.front();
  const double xspan = x_.size() > 1 ? x_.back() - xmin : 1.0;
  auto px = [&](double x) { return x0 + (x1 - x0) * (x - xmin) / xspan; };
  auto py = [&](double y) { return y0 - (y0 - y1) * std::clamp(y / y_max, 0.0, 1.0); };
  std::ostringstream o;
  for (const auto& [from, to] : p.shaded) {
    o << "<rect x=\"" << Coord(px(from)) << "\" y=\"" << y1 << "\" width=\""
      << Coord(std::max(px(to) - px(from), 0.5)) << "\" height=\"" << y0 - y1
      << "\" fill=\"#f4b6b6\" opacity=\"0.6\"/>\n";
  }
  o << RenderAxes(top, y_max, p.y_label);
  for (size_t k = 0; k < p.series.size(); ++k) {
    const Series& s = p.series[k];
    o << "<polyline fill=\"none\" stroke=\"" << EscapeXml(s.color)
      << "\" stroke-width=\"1.2\" points=\"";
    for (size_t i = 0; i < s.y.size() && i < x_.size(); ++i) {
      if (std::isfinite(s.y[i])) {
        o << Coord(px(x_[i])) << ',' << Coord(py(s.y[i])) << ' ';
      }
    }
    o << "\"/>\n";
    const double ly = y1 + 14.0 + 16.0 * static_cast<double>(k);
    o << "<line x1=\"" << x0 + 10 << "\" y1=\"" << ly - 4 << "\" x2=\"" << x0 + 30 << "\" y2=\""
      << ly - 4 << "\" stroke=\"" << EscapeXml(s.color) << "\" stroke-width=\"2\"/>\n";
    o << "<text x=\"" << x0 + 36 << "\" y=\"" << ly << "\">" << EscapeXml(s.name) << "</text>\n";
  }
  return o.str();
}

std::string SvgPlot::Render() const {
  std::ostringstream o;
  const double height = kTitleHeight + kPanelHeight * static_cast<double>(panels_.size());
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << height
    << "\" viewBox=\"0 0 " << kWidth << ' ' << height
    << "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  o << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  o << "<text x=\"" << kWidth / 2 << "\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">"
    << EscapeXml(title_) << "</text>\n";
  for (size_t i = 0; i < panels_.size(); ++i) {
    o << RenderPanel(panels_[i], kTitleHeight + kPanelHeight * static_cast<double>(i));
  }
  o << "</svg>\n";
  return o.str();
}

}  // namespace hotpath::scale
