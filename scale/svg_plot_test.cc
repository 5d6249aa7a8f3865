#include "scale/svg_plot.h"

#include <gtest/gtest.h>

#include <cmath>

namespace hotpath::scale {
namespace {

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) {
    ++n;
  }
  return n;
}

TEST(SvgPlotTest, RendersOnePolylinePerSeriesAndEscapesText) {
  SvgPlot plot("a < b & c", {0, 1, 2, 3}, "hours");
  plot.AddPanel(
      {"rps", {{"demand", "#00f", {1, 4, 2, 3}}, {"cap", "#0f0", {2, 2, 2, 2}}}, {{1, 2}}});
  plot.AddPanel({"replicas", {{"n", "#f00", {1, NAN, 3, 3}}}, {}});
  const std::string svg = plot.Render();
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_EQ(Count(svg, "<polyline"), 3u);
  EXPECT_NE(svg.find("a &lt; b &amp; c"), std::string::npos);
  EXPECT_EQ(Count(svg, "fill=\"#f4b6b6\""), 1u);  // one shaded range
}

}  // namespace
}  // namespace hotpath::scale
