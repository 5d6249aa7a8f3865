#include "optimize/internal/candidates.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string_view>

#include "optimize/transforms.h"
#include "optimize/tree_compaction.h"
#include "runtime/dense/dense_model.h"
#include "runtime/dense/graph_io.h"
#include "runtime/tree/tree_model.h"

namespace hotpath::optimize::internal {
namespace {

using dense::Graph;

Result<Candidate> DenseCandidate(std::string name, Result<Graph> graph) {
  if (!graph.ok()) return graph.status();
  ASSIGN_OR_RETURN(auto model, dense::DenseModel::Create(*graph, {}));
  auto write = [g = std::move(*graph)](const std::filesystem::path& p) {
    return dense::WriteGraphFile(g, p);
  };
  return Candidate{std::move(name), std::move(model), std::move(write)};
}

std::vector<std::pair<std::string, Result<Graph>>> DenseVariants(const Graph& g,
                                                                 const EvalSet& eval) {
  const size_t calib = std::min<size_t>(eval.rows, 512);
  QuantizeOptions dyn, cal{true, eval.x.data(), calib};
  std::vector<std::pair<std::string, Result<Graph>>> v;
  v.emplace_back("int8-dynamic", QuantizeInt8(g, dyn));
  v.emplace_back("int8-calibrated", QuantizeInt8(g, cal));
  v.emplace_back("prune-magnitude-50%", PruneMagnitude(g, 0.5));
  for (double f : {0.25, 0.5}) {
    Result<Graph> p = PruneNeurons(g, f);
    const std::string name = "prune-neurons-" + std::to_string(static_cast<int>(f * 100)) + "%";
    if (p.ok()) v.emplace_back(name + "+int8", QuantizeInt8(*p, dyn));
    v.emplace_back(name, std::move(p));
  }
  return v;
}

Status CheckWidth(const EvalSet& eval, int64_t features) {
  if (eval.x.size() == eval.rows * static_cast<size_t>(features)) return OkStatus();
  return InvalidArgumentError("eval rows have " + std::to_string(eval.x.size() / eval.rows) +
                              " features, the model " + std::to_string(features));
}

Result<Candidates> DenseCandidates(const std::filesystem::path& artifact,
                                   const OptimizeOptions& o) {
  ASSIGN_OR_RETURN(const Graph graph, dense::LoadGraph(artifact));
  for (const dense::Node& n : graph.nodes) {
    if (n.kind == dense::OpKind::kTreeEnsemble) {
      return InvalidArgumentError(artifact.string() + ": node '" + n.name +
                                  "' is an ONNX tree ensemble: int8 and pruning apply to dense layers and "
                                  "the graph has no .hpd form; compact the source XGBoost model instead");
    }
  }
  RETURN_IF_ERROR(CheckWidth(o.eval, graph.widths[0]));
  for (size_t i = 0; i < o.eval.x.size(); ++i) {
    if (!std::isfinite(o.eval.x[i])) {
      return InvalidArgumentError("eval row " + std::to_string(i / graph.widths[0] + 1) +
                                  ", feature " + std::to_string(i % graph.widths[0] + 1) +
                                  ": missing or non-finite; dense models need every feature");
    }
  }
  Candidates c;
  ASSIGN_OR_RETURN(c.baseline, DenseCandidate("baseline fp32", graph));
  c.baseline.write = nullptr;
  for (auto& [name, g] : DenseVariants(graph, o.eval)) {
    if (o.progress) o.progress("building " + name);
    Result<Candidate> v = DenseCandidate(name, std::move(g));
    if (v.ok()) c.variants.push_back(std::move(*v));  // a transform that does not apply is skipped
  }
  return c;
}

Result<std::string> ReadBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Status WriteBytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  out.close();
  return out ? OkStatus() : InternalError("cannot write " + path.string());
}

Result<Candidate> TreeCandidate(std::string name, std::string bytes) {
  ASSIGN_OR_RETURN(auto model, TreeModel::FromBytes(bytes, name, {}));
  auto write = [b = std::move(bytes)](const std::filesystem::path& p) { return WriteBytes(p, b); };
  return Candidate{std::move(name), std::move(model), std::move(write)};
}

Result<Candidates> TreeCandidates(const std::filesystem::path& artifact, const OptimizeOptions& o) {
  ASSIGN_OR_RETURN(std::string bytes, ReadBytes(artifact));
  ASSIGN_OR_RETURN(const XGBoostRounds rounds, XGBoostRounds::Parse(bytes, artifact.string()));
  Candidates c;
  ASSIGN_OR_RETURN(c.baseline, TreeCandidate("baseline", std::move(bytes)));
  c.baseline.write = nullptr;
  RETURN_IF_ERROR(CheckWidth(o.eval, c.baseline.model->num_features()));
  ASSIGN_OR_RETURN(auto compacted, CompactTrees(rounds, o.eval, {o.gate, o.progress}));
  for (CompactedModel& m : compacted) {
    ASSIGN_OR_RETURN(Candidate v, TreeCandidate(m.name, std::move(m.json)));
    c.variants.push_back(std::move(v));
  }
  return c;
}

// Artifact extensions, the file a family publishes, and the family's
// builder; a version folder is searched for "model" + extension in this order.
struct Family {
  std::string_view extension;
  std::string_view published;  // default artifact name of a variant
  Result<Candidates> (*build)(const std::filesystem::path&, const OptimizeOptions&);
};
constexpr Family kFamilies[] = {{".hpd", "model.hpd", DenseCandidates},
                                {".onnx", "model.hpd", DenseCandidates},
                                {".json", "model.json", TreeCandidates},
                                {".ubj", "model.json", TreeCandidates}};

Result<Candidates> Build(const Family& f, const std::filesystem::path& artifact,
                         const OptimizeOptions& o) {
  const std::filesystem::path published(f.published);
  if (!o.artifact_name.empty() &&
      std::filesystem::path(o.artifact_name).extension() != published.extension()) {
    return InvalidArgumentError("artifact name '" + o.artifact_name + "': " + artifact.string() +
                                " is optimised into " + published.extension().string() +
                                " files (drop `artifact` from the config or name a " +
                                published.extension().string() + " file)");
  }
  ASSIGN_OR_RETURN(Candidates c, f.build(artifact, o));
  c.default_artifact = std::string(f.published);
  return c;
}

}  // namespace

Result<Candidates> BuildCandidates(const OptimizeOptions& o) {
  std::error_code ec;
  const bool folder = std::filesystem::is_directory(o.model, ec);
  for (const Family& f : kFamilies) {
    const std::filesystem::path artifact =
        folder ? o.model / ("model" + std::string(f.extension)) : o.model;
    if (folder ? std::filesystem::exists(artifact, ec) : artifact.extension() == f.extension) {
      return Build(f, artifact, o);
    }
  }
  if (folder) {
    return NotFoundError(o.model.string() +
                         ": no model.hpd, model.onnx, model.json or model.ubj in the folder");
  }
  if (!std::filesystem::exists(o.model, ec)) return NotFoundError(o.model.string() + ": not found");
  return InvalidArgumentError(o.model.string() +
                              ": unknown model format (expected .hpd, .onnx, .json or .ubj)");
}

}  // namespace hotpath::optimize::internal
