#include "cli/optimize_command.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/internal/row_reader.h"
#include "cli/serve_command.h"
#include "optimize/metrics.h"
#include "runtime/repository/model_config.h"
#include "runtime/repository/model_repository.h"

namespace hotpath::cli {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> SplitHeader(const std::string& line) {
  std::vector<std::string> cols;
  std::stringstream s(line);
  std::string c;
  while (std::getline(s, c, ',')) {
    c.erase(0, c.find_first_not_of(" \t\r\""));
    c.erase(c.find_last_not_of(" \t\r\"") + 1);
    cols.push_back(c);
  }
  return cols;
}

// Version number of a folder name (a positive decimal integer), else 0.
int64_t VersionOf(const std::string& name) {
  if (name.empty() || name.size() > 18 || name[0] == '0' ||
      !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return 0;
  }
  return std::stoll(name);
}

int64_t HighestVersion(const fs::path& model_dir) {
  int64_t v = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(model_dir, ec)) {
    if (e.is_directory(ec)) v = std::max(v, VersionOf(e.path().filename().string()));
  }
  return v;
}

Result<std::string> ReadText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Status WriteText(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  return out ? OkStatus() : InternalError("cannot write " + p.string());
}

// What MODEL names and where the results go.
struct Target {
  fs::path source;          // artifact file or version folder to optimise
  fs::path model_dir;       // repository model folder; empty for a model file
  std::string config_text;  // the model's config.json (repository only)
  ModelConfig config;
  int64_t new_version = 0;
  fs::path output_dir, report_dir;
};

Result<Target> RepositoryTarget(const fs::path& model_dir, int64_t version, const OptimizeArgs& a) {
  if (!a.out_dir.empty()) {
    return InvalidArgumentError("--out: " + model_dir.string() +
                                " is a repository model; the winner becomes its next version");
  }
  Target t;
  t.model_dir = model_dir;
  const fs::path config_file = model_dir / "config.json";
  ASSIGN_OR_RETURN(t.config_text, ReadText(config_file));
  ASSIGN_OR_RETURN(t.config, ParseModelConfig(t.config_text, config_file.string(),
                                              model_dir.filename().string()));
  const int64_t highest = HighestVersion(model_dir);
  if (version == 0) version = highest;
  if (version == 0) return NotFoundError(model_dir.string() + ": no numbered version folder");
  const fs::path version_dir = model_dir / std::to_string(version);
  t.source = t.config.artifact.empty() ? version_dir : version_dir / t.config.artifact;
  t.new_version = highest + 1;
  t.output_dir = model_dir / ".optimize-staging" / t.config.name / std::to_string(t.new_version);
  t.report_dir = a.report_dir.empty() ? model_dir / "optimize-report" : fs::path(a.report_dir);
  return t;
}

Result<Target> ResolveTarget(const OptimizeArgs& a) {
  fs::path model = fs::path(a.model).lexically_normal();
  if (!model.has_filename()) model = model.parent_path();  // trailing '/'
  std::error_code ec;
  if (!fs::exists(model, ec)) return NotFoundError("model: " + a.model + " does not exist");
  if (fs::is_directory(model, ec) && fs::exists(model / "config.json", ec)) {
    return RepositoryTarget(fs::absolute(model), 0, a);
  }
  const int64_t version = VersionOf(model.filename().string());
  if (fs::is_directory(model, ec) && version > 0 &&
      fs::exists(fs::absolute(model).parent_path() / "config.json", ec)) {
    return RepositoryTarget(fs::absolute(model).parent_path(), version, a);
  }
  Target t;
  t.source = model;
  fs::path stem = model;
  stem.replace_extension();
  t.output_dir = a.out_dir.empty() ? fs::path(stem.string() + ".optimized") : fs::path(a.out_dir);
  t.report_dir =
      a.report_dir.empty() ? fs::path(stem.string() + ".optimize-report") : fs::path(a.report_dir);
  return t;
}

// The staging repository: the model's config, restricted to the new version,
// and the warm-up rows file it names.
Status StageConfig(const Target& t) {
  nlohmann::json config = nlohmann::json::parse(t.config_text, nullptr, false);
  if (config.is_discarded()) return InvalidArgumentError("config.json: not JSON");
  config["version_policy"] = {{"specific", {{"versions", {t.new_version}}}}};
  const fs::path staged_model = t.output_dir.parent_path();
  RETURN_IF_ERROR(WriteText(staged_model / "config.json", config.dump(2)));
  if (!t.config.warmup.rows_file.empty()) {
    std::error_code ec;
    const fs::path to = staged_model / t.config.warmup.rows_file;
    fs::create_directories(to.parent_path(), ec);
    fs::copy_file(t.model_dir / t.config.warmup.rows_file, to, ec);
    if (ec) return InternalError("cannot stage warm-up rows: " + ec.message());
  }
  return OkStatus();
}

// Loads the staged version through the repository and checks its accuracy.
Status VerifyStaged(const Target& t, const optimize::OptimizeOptions& o,
                    const optimize::OptimizeReport& r, std::ostream& progress) {
  RETURN_IF_ERROR(StageConfig(t));
  ModelRepository::Options ro;
  ro.path = t.output_dir.parent_path().parent_path().string();
  ro.mode = ModelRepository::Mode::kExplicit;
  ro.startup_models = {t.config.name};
  ASSIGN_OR_RETURN(ro.backends, ServingBackends());
  ro.log = [&](std::string_view line) { progress << "optimize: " << line << "\n"; };
  ASSIGN_OR_RETURN(auto repo, ModelRepository::Create(ro));
  ASSIGN_OR_RETURN(ServableHandle h, repo->Get(t.config.name, t.new_version));
  std::vector<float> scores(o.eval.rows);
  RETURN_IF_ERROR(
      h->model().Predict(o.eval.x.data(), o.eval.rows, OutputKind::kValue, scores.data()));
  optimize::Accuracy a;
  a.auc = optimize::Auc(scores, o.eval.labels);
  a.log_loss = optimize::LogLoss(scores, o.eval.labels);
  // AUC and log loss again; the distance to the baseline's scores was checked
  // by Optimize on the same artifact.
  optimize::Gate gate = o.gate;
  gate.max_abs_diff = std::numeric_limits<double>::infinity();
  if (!gate.Passes(r.baseline.accuracy, a)) {
    return InternalError("the staged version loads but scores AUC " + std::to_string(a.auc) +
                         ", log loss " + std::to_string(a.log_loss) + ", outside the gate");
  }
  progress << "optimize: version " << t.new_version << " loads in the repository: AUC " << a.auc
           << ", log loss " << a.log_loss << "\n";
  return OkStatus();
}

// Moves the staged version into the model folder (one rename).
Status Publish(const Target& t) {
  const fs::path to = t.model_dir / std::to_string(t.new_version);
  std::error_code ec;
  if (fs::exists(to, ec))
    return AlreadyExistsError(to.string() + " appeared meanwhile; not replaced");
  fs::rename(t.output_dir, to, ec);
  if (ec)
    return InternalError("cannot move the new version to " + to.string() + ": " + ec.message());
  return OkStatus();
}

std::string Line(const optimize::VariantResult& v) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "AUC %.5f, log loss %.5f, p50 %.2f us, p99 %.2f us, %.0f rows/s, %.3f MiB",
                v.accuracy.auc, v.accuracy.log_loss, v.batch1_p50_us, v.batch1_p99_us, v.rows_per_s,
                v.memory_bytes / 1048576.0);
  return buf;
}

// Removes the staging folder when the command ends, whatever the outcome.
struct StagingCleanup {
  fs::path dir;
  ~StagingCleanup() {
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
  }
};

}  // namespace

Result<optimize::EvalSet> ReadEvalCsv(const std::string& path, const std::string& label_column) {
  std::ifstream in(path);
  if (!in) return NotFoundError("eval: cannot open " + path);
  std::string header;
  std::getline(in, header);
  const std::vector<std::string> cols = SplitHeader(header);
  const auto label = std::find(cols.begin(), cols.end(), label_column);
  if (label == cols.end() || cols.size() < 2) {
    return InvalidArgumentError("eval: " + path +
                                ": line 1 must be a header with a column named '" + label_column +
                                "' and at least one feature column");
  }
  const size_t label_at = static_cast<size_t>(label - cols.begin());
  in.seekg(0);
  RowReader reader(&in, RowReader::Format::kCsv, cols.size());
  std::vector<float> rows;
  for (;;) {
    Result<size_t> n = reader.Read(4096, &rows);
    if (!n.ok()) return InvalidArgumentError("eval: " + path + ": " + n.status().message());
    if (*n == 0) break;
  }
  optimize::EvalSet e;
  e.rows = rows.size() / cols.size();
  if (e.rows == 0) return InvalidArgumentError("eval: " + path + ": no rows after the header");
  e.x.reserve(e.rows * (cols.size() - 1));
  for (size_t r = 0; r < e.rows; ++r) {
    for (size_t c = 0; c < cols.size(); ++c) {
      const float v = rows[r * cols.size() + c];
      if (c != label_at) {
        e.x.push_back(v);
      } else if (v == 0.0f || v == 1.0f) {
        e.labels.push_back(v);
      } else {
        return InvalidArgumentError("eval: " + path + ": line " + std::to_string(r + 2) +
                                    ", column '" + label_column + "': label must be 0 or 1");
      }
    }
  }
  return e;
}

Status RunOptimize(const OptimizeArgs& a, std::ostream& out, std::ostream& progress) {
  optimize::OptimizeOptions o;
  ASSIGN_OR_RETURN(o.strategy, optimize::ParseStrategy(a.strategy));
  o.gate = {a.max_accuracy_loss, a.max_logloss_increase, a.max_abs_diff};
  ASSIGN_OR_RETURN(const Target t, ResolveTarget(a));
  ASSIGN_OR_RETURN(o.eval, ReadEvalCsv(a.eval, a.label_column));
  progress << "optimize: " << o.eval.rows << " eval rows from " << a.eval << "\n";
  o.model = t.source;
  o.output_dir = t.output_dir;
  o.report_dir = t.report_dir;
  o.artifact_name = t.config.artifact;
  o.progress = [&](std::string_view line) {
    progress << "optimize: " << line << "\n" << std::flush;
  };
  // One run per model at a time: leftovers of an interrupted run are removed first.
  const StagingCleanup cleanup{t.model_dir.empty() ? fs::path()
                                                   : t.model_dir / ".optimize-staging"};
  std::error_code ec;
  if (!cleanup.dir.empty()) fs::remove_all(cleanup.dir, ec);
  ASSIGN_OR_RETURN(const optimize::OptimizeReport r, optimize::Optimize(o));
  const optimize::VariantResult& best = r.variants[r.best];
  out << "baseline:  " << Line(r.baseline) << "\n"
      << "best:      " << best.name << ": " << Line(best) << "\n";
  if (!t.model_dir.empty()) {
    RETURN_IF_ERROR(VerifyStaged(t, o, r, progress));
    RETURN_IF_ERROR(Publish(t));
    out << "new version: " << (t.model_dir / std::to_string(t.new_version)).string() << "\n";
  } else {
    out << "artifact: " << r.published.string() << "\n";
  }
  out << "report: " << r.report_md.string() << " (" << r.report_csv.filename().string() << ", "
      << r.report_svg.filename().string() << ")\n";
  return OkStatus();
}

}  // namespace hotpath::cli
