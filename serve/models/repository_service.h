// RepositoryService: the InferenceService of the model server. It resolves
// a request's model and version in the ModelRepository, validates the tensor
// against the version's config, and submits it to that version's dynamic
// batcher (one per served version, created on first use with the config's
// batching options). It also exposes the repository's index/load/unload.
//
// Versions: a request without a version goes to the highest READY one. A
// batcher pins its version; Maintain() retires batchers of versions the
// repository no longer serves (queued requests drain first), so a version
// swap drops no request.
//
// Circuit breakers: each model has one (settings from its config's
// `circuit_breaker` block; serve/admission/fallback_router.h has the routing
// rule). While it is open, requests go to the config's `fallback_model`
// (newest ready version; the answer names the model that served it) or fail
// fast with UNAVAILABLE naming the model and the reason. Failures are model
// faults only: overload refusals (queue full, deadline passed in queue,
// concurrency limit) and client errors never trip a breaker.
//
// Thread-safety: every method may be called from any thread.
#ifndef HOTPATH_SERVE_MODELS_REPOSITORY_SERVICE_H_
#define HOTPATH_SERVE_MODELS_REPOSITORY_SERVICE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "core/clock.h"
#include "core/thread_annotations.h"
#include "observe/metrics.h"
#include "runtime/repository/model_repository.h"
#include "sched/batcher.h"
#include "serve/admission/concurrency_limiter.h"
#include "serve/admission/fallback_router.h"
#include "serve/inference_service.h"
#include "serve/repository_control.h"

namespace hotpath {

class RepositoryService final : public InferenceService, public RepositoryControl {
 public:
  struct Options {
    ModelRepository* repository = nullptr;  // borrowed, required
    MetricsRegistry* metrics = nullptr;     // borrowed, required
    const Clock* clock = &RealClock();      // borrowed
    std::string server_name = "hotpath";
    std::string server_version = "0.1.0";
    // Models whose READY version makes the server ready (empty: any model).
    std::vector<std::string> required_models;
    // Adaptive concurrency limit over all inference (borrowed; null: none).
    // A request without a free slot waits in the limiter's CoDel queue; one
    // it refuses or sheds is UNAVAILABLE ("overloaded", HTTP 503).
    ConcurrencyLimiter* limiter = nullptr;
  };

  static Result<std::unique_ptr<RepositoryService>> Create(const Options& options);
  // Drains every batcher.
  ~RepositoryService() override;

  bool ServerLive() const override { return true; }
  bool ServerReady() const override;
  ServerMetadata GetServerMetadata() const override;
  Result<bool> ModelReady(std::string_view name, std::string_view version) const override;
  Result<ModelMetadata> GetModelMetadata(std::string_view name, std::string_view version) const override;
  // INVALID_ARGUMENT naming the field (input name, datatype, shape, batch
  // above max_batch_size, unknown output, bad version string); NOT_FOUND /
  // UNAVAILABLE from the repository; the batcher's UNAVAILABLE (queue full)
  // and DEADLINE_EXCEEDED.
  void Infer(const InferRequest& request, InferResponse* response, InferDone done) override;

  Result<std::vector<RepositoryEntry>> Index() const override;
  Status Load(const std::string& model) override;
  Status Unload(const std::string& model) override;

  // Retires batchers of versions the repository no longer serves.
  void Maintain() EXCLUDES(mu_);

  // The batcher of a served version, created on first use from its config
  // (applications submit rows to it directly).
  Result<std::shared_ptr<DynamicBatcher>> BatcherFor(const ServableHandle& h) EXCLUDES(mu_);

  // For applications that submit to a batcher directly: admits one call to
  // the model of `config` through its breaker (the same breaker as the
  // KServe routes; no fallback: the application degrades on its own), and
  // returns where to report the call's status. Besides model faults, a
  // deadline miss counts as a failure here: the application got no answer
  // within its budget. UNAVAILABLE while the breaker refuses.
  Result<std::function<void(const Status&)>> AdmitDirect(const ModelConfig& config);

  // The breaker of `model`, or null before its first call. For metrics and tests.
  std::shared_ptr<const CircuitBreaker> breaker(std::string_view model) const {
    return router_.breaker(model);
  }
  // `config`'s breaker settings and fallback, as the router takes them.
  static FallbackRouter::Policy PolicyOf(const ModelConfig& config);

 private:
  using Key = std::pair<std::string, int64_t>;  // (model, version)
  struct Instruments {
    GaugeFamily* breaker_state = nullptr;         // {model}: 0 closed, 1 open, 2 half-open
    CounterFamily* breaker_transitions = nullptr;  // {model, to}
    CounterFamily* fallbacks = nullptr;            // {model, fallback}
  };
  RepositoryService(const Options& options, Instruments instruments);
  Status Validate(const ModelConfig& config, const InferRequest& request, size_t* rows) const;
  // Rule 2 of the router: the fallback's newest ready version, checked
  // against the request.
  Result<ServableHandle> FallbackFor(const ModelConfig& config, const InferRequest& request,
                                     size_t* rows) const;

  const Options options_;
  const Instruments instruments_;
  FallbackRouter router_;
  mutable Mutex mu_;
  std::map<Key, std::shared_ptr<DynamicBatcher>> batchers_ GUARDED_BY(mu_);
};

}  // namespace hotpath

#endif  // HOTPATH_SERVE_MODELS_REPOSITORY_SERVICE_H_
