// The models Optimize measures: the baseline and the variants of its family
// (dense: quantisation and pruning; XGBoost trees: compaction), each with the
// way to write it as an artifact. The family is chosen by the artifact's
// file extension through one table, not by branches at call sites.
#ifndef HOTPATH_OPTIMIZE_INTERNAL_CANDIDATES_H_
#define HOTPATH_OPTIMIZE_INTERNAL_CANDIDATES_H_

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "optimize/optimize.h"
#include "runtime/model.h"

namespace hotpath::optimize::internal {

struct Candidate {
  std::string name;
  std::unique_ptr<Model> model;
  // Writes the artifact to that file. Empty for the baseline.
  std::function<Status(const std::filesystem::path&)> write;
};

struct Candidates {
  Candidate baseline;
  std::vector<Candidate> variants;  // in the order they were tried
  std::string default_artifact;     // "model.hpd", "model.json"
};

// Resolves options.model (file or version folder) to its artifact and builds
// that family's candidates. NOT_FOUND when no artifact is there;
// INVALID_ARGUMENT for an unknown extension, an options.artifact_name whose
// extension is not the one the family publishes, an eval set that does not
// fit the model, or a model the family cannot rewrite.
Result<Candidates> BuildCandidates(const OptimizeOptions& options);

}  // namespace hotpath::optimize::internal

#endif  // HOTPATH_OPTIMIZE_INTERNAL_CANDIDATES_H_
