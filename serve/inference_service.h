// InferenceService: the one seam between the HTTP front (serve/http_server.h)
// and whatever runs models behind it (a map of loaded models here; the model
// repository plus dynamic batchers in the full server).
//
// The front decodes and validates the wire format (JSON, binary tensors,
// element counts); the service validates the request against the model
// (names, dtypes, widths, batch limits, NaN policy) and runs it.
#ifndef HOTPATH_SERVE_INFERENCE_SERVICE_H_
#define HOTPATH_SERVE_INFERENCE_SERVICE_H_

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/tensor.h"
#include "runtime/model.h"

namespace hotpath {

// A named tensor on the wire: row-major bytes of `dtype`, NumElements(shape)
// elements. Buffers are reused across requests (clear keeps capacity).
struct InferTensor {
  std::string name;
  DType dtype = DType::kFp32;
  Shape shape;
  std::vector<std::byte> data;  // [NumElements(shape) * DTypeSize(dtype)]

  // REQUIRES: DTypeOf<T>() == dtype.
  template <typename T>
  const T* as() const {
    return reinterpret_cast<const T*>(data.data());
  }
  template <typename T>
  T* as() {
    return reinterpret_cast<T*>(data.data());
  }
};

struct InferRequest {
  std::string model_name;
  std::string model_version;  // empty = the latest ready version
  std::vector<InferTensor> inputs;
  // Outputs to produce, by name; empty = all of the model's outputs.
  std::vector<std::string> requested_outputs;
  int priority = 0;  // 0 = the model's default; 1 is the highest
  Nanos timeout{0};  // 0 = the model's default (or none)
};

struct InferResponse {
  std::string model_name;
  std::string model_version;  // the version that ran
  std::vector<InferTensor> outputs;
  // Time spent inside Model::Predict for this request (for the server's
  // overhead accounting: everything else is the front's cost).
  Nanos compute_time{0};
};

struct ServerMetadata {
  std::string name;
  std::string version;
  std::vector<std::string> extensions;
};

// KServe v2 model metadata. Shapes include the batch dimension (-1).
struct ModelMetadata {
  std::string name;
  std::vector<std::string> versions;
  std::string platform;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
};

class InferenceService {
 public:
  // Called exactly once per Infer with the outcome: OK (response filled),
  // NOT_FOUND (unknown model or version), INVALID_ARGUMENT naming the field,
  // UNAVAILABLE (not ready, queue full), DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED.
  using InferDone = std::function<void(Status)>;

  virtual ~InferenceService() = default;

  // True while the process can serve anything at all. Thread-safe.
  virtual bool ServerLive() const = 0;
  // True when every model that should be served is ready. Thread-safe.
  virtual bool ServerReady() const = 0;
  // Name, version and supported protocol extensions. Thread-safe.
  virtual ServerMetadata GetServerMetadata() const = 0;
  // Whether `name` at `version` (empty = latest) is ready to infer; NOT_FOUND
  // naming the model or version when it is unknown. Thread-safe.
  virtual Result<bool> ModelReady(std::string_view name, std::string_view version) const = 0;
  // Metadata of `name` at `version` (empty = latest); NOT_FOUND when unknown.
  // Thread-safe.
  virtual Result<ModelMetadata> GetModelMetadata(std::string_view name,
                                                 std::string_view version) const = 0;
  // Runs `request`, fills `*response` and then calls `done` exactly once, on
  // any thread, possibly before Infer returns. `request` and `response` are
  // borrowed: the caller keeps them alive and untouched until `done` runs.
  // The response's tensors reuse their capacity: no allocation in steady
  // state. Thread-safe: called concurrently from every event loop.
  virtual void Infer(const InferRequest& request, InferResponse* response, InferDone done) = 0;
};

}  // namespace hotpath

#endif  // HOTPATH_SERVE_INFERENCE_SERVICE_H_
