#include "cli/perf_command.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "scale/svg_plot.h"
#include "serve/testing/http_test_client.h"

namespace hotpath::cli {

Status RunPerfReport(const PerfReportArgs& a, std::ostream& out) {
  ASSIGN_OR_RETURN(auto c, serve_testing::HttpTestClient::Connect(a.port));
  ASSIGN_OR_RETURN(auto r, c.Roundtrip(serve_testing::Get(a.minutes ? "/v1/perf/history?resolution=minute"
                                                                      : "/v1/perf/history")));
  if (r.status != 200) return UnavailableError("GET /v1/perf/history answered " + std::to_string(r.status));
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.contains("points")) return InternalError("malformed history: " + r.body.substr(0, 200));
  const auto& points = j["points"];
  std::error_code ec;
  std::filesystem::create_directories(a.out_dir, ec);
  if (ec) return InvalidArgumentError("--out: cannot create '" + a.out_dir + "': " + ec.message());
  std::ofstream csv(a.out_dir + "/history.csv");
  csv << "t_ms,throughput_per_s,p50_ms,p95_ms,p99_ms,errors,queue_ms,batch_rows,cpu_cores,rss_mb\n";
  std::vector<double> x;
  scale::Series p50{"p50", "#2ca02c", {}}, p95{"p95", "#ff7f0e", {}}, p99{"p99", "#d62728", {}};
  scale::Series tput{"inferences/s", "#1f77b4", {}}, errors{"errors/s", "#d62728", {}};
  scale::Series queue{"queue (ms)", "#9467bd", {}}, rows{"rows per batch", "#8c564b", {}};
  scale::Series cpu{"CPU cores", "#17becf", {}}, rss{"RSS (GiB)", "#7f7f7f", {}};
  double max_p99 = 0, sum_tput = 0;
  for (const auto& p : points) {
    const double t0 = points[0]["t_ms"].get<double>();
    x.push_back((p["t_ms"].get<double>() - t0) / 1000.0);
    p50.y.push_back(p["p50_ms"]);
    p95.y.push_back(p["p95_ms"]);
    p99.y.push_back(p["p99_ms"]);
    tput.y.push_back(p["throughput_per_s"]);
    errors.y.push_back(p["errors"].get<double>());
    queue.y.push_back(p.value("queue_ms", 0.0));
    rows.y.push_back(p.value("batch_rows", 0.0));
    cpu.y.push_back(p.value("cpu_cores", 0.0));
    rss.y.push_back(p.value("rss_mb", 0.0) / 1024);
    max_p99 = std::max(max_p99, p["p99_ms"].get<double>());
    sum_tput += p["throughput_per_s"].get<double>();
    csv << p["t_ms"] << ',' << p["throughput_per_s"] << ',' << p["p50_ms"] << ',' << p["p95_ms"] << ','
        << p["p99_ms"] << ',' << p["errors"] << ',' << p.value("queue_ms", 0.0) << ','
        << p.value("batch_rows", 0.0) << ',' << p.value("cpu_cores", 0.0) << ',' << p.value("rss_mb", 0.0) << '\n';
  }
  scale::SvgPlot plot("hotpath: KServe inference, " + std::to_string(points.size()) +
                          (a.minutes ? " minutes" : " seconds"),
                      x, "seconds");
  plot.AddPanel({"latency (ms)", {p50, p95, p99}, {}});
  plot.AddPanel({"per second", {tput, errors}, {}});
  plot.AddPanel({"batcher", {queue, rows}, {}});
  plot.AddPanel({"resources", {cpu, rss}, {}});
  std::ofstream(a.out_dir + "/perf.svg") << plot.Render();
  out << nlohmann::json{{"points", points.size()},
                        {"mean_throughput_per_s", points.empty() ? 0.0 : sum_tput / points.size()},
                        {"max_p99_ms", max_p99},
                        {"csv", a.out_dir + "/history.csv"},
                        {"svg", a.out_dir + "/perf.svg"}}
             .dump()
      << "\n";
  return OkStatus();
}

}  // namespace hotpath::cli
