// ModelMapService: an InferenceService over a fixed set of loaded models, each
// Predict run inline on the calling event loop (no queue, no batching). The
// test and benchmark backend; the full server puts the model repository and
// the dynamic batchers behind the same interface.
#ifndef HOTPATH_SERVE_MODEL_MAP_SERVICE_H_
#define HOTPATH_SERVE_MODEL_MAP_SERVICE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "runtime/model.h"
#include "serve/inference_service.h"

namespace hotpath {

class ModelMapService final : public InferenceService {
 public:
  struct Entry {
    std::string name;                    // required, [A-Za-z0-9_.-]+
    std::string version = "1";           // required, digits; the highest is "latest"
    std::shared_ptr<const Model> model;  // required
    std::string platform = "hotpath";    // reported in metadata
    int max_batch_size = 64;             // rows per request, >= 1
    bool allow_nan = true;               // NaN inputs (= missing for trees) accepted
  };
  struct Options {
    std::vector<Entry> models;  // at least one; (name, version) unique
    std::string server_name = "hotpath";
    std::string server_version = "0.1.0";
  };

  // INVALID_ARGUMENT naming the entry and field when the options are invalid.
  static Result<std::unique_ptr<ModelMapService>> Create(const Options& options);

  bool ServerLive() const override { return true; }
  bool ServerReady() const override { return true; }
  ServerMetadata GetServerMetadata() const override;
  Result<bool> ModelReady(std::string_view name, std::string_view version) const override;
  Result<ModelMetadata> GetModelMetadata(std::string_view name,
                                         std::string_view version) const override;
  // Validates against the model and runs Predict on the calling thread;
  // `done` runs before Infer returns. Predict time goes to compute_time.
  void Infer(const InferRequest& request, InferResponse* response, InferDone done) override;

 private:
  // Versions of one model, highest (latest) last.
  using Versions = std::vector<Entry>;
  explicit ModelMapService(Options options);
  Result<const Entry*> Find(std::string_view name, std::string_view version) const;
  Status Run(const Entry& entry, const InferRequest& request, InferResponse* response) const;

  Options options_;
  std::map<std::string, Versions, std::less<>> models_;  // immutable after Create
};

}  // namespace hotpath

#endif  // HOTPATH_SERVE_MODEL_MAP_SERVICE_H_
