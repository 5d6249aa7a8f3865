// DenseModel: serves a dense network (an imported or optimised Graph) with
// fused fp32 / int8 kernels chosen at load for the CPU (AVX-512 VNNI,
// AVX-512, AVX2+FMA, scalar).
//
// Create() validates the graph, folds nothing further (importers fuse), packs
// the weights into the kernels' panel layout (a kTreeEnsemble node keeps its
// compiled TreeModel, run on each chunk) and plans scratch: each value gets
// a slot in a per-thread arena that is reused between values whose lifetimes
// do not overlap. Predict() never allocates once a thread's arena has grown
// to the model's size (the first call on each thread). Rows are processed in
// chunks of kChunkRows; with num_threads > 1, chunks run on a pool.
#ifndef HOTPATH_RUNTIME_DENSE_DENSE_MODEL_H_
#define HOTPATH_RUNTIME_DENSE_DENSE_MODEL_H_

#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "runtime/dense/cpu.h"
#include "runtime/dense/graph.h"
#include "runtime/model.h"

namespace hotpath::dense {

namespace internal {
struct CompiledNode;
}

class DenseModel final : public Model {
 public:
  struct Options {
    // Threads for one Predict call; > 1 starts a pool that splits batches of
    // more than kChunkRows rows. 1 = the caller's thread only.
    int num_threads = 1;
    // Kernel family; unset = the best this CPU supports. A family the CPU
    // lacks is refused with FAILED_PRECONDITION (tests force lower ones).
    std::optional<Isa> isa;
  };

  static constexpr size_t kChunkRows = 128;

  // INVALID_ARGUMENT when the graph is malformed (see ValidateGraph).
  static Result<std::unique_ptr<DenseModel>> Create(const Graph& graph, const Options& options);
  ~DenseModel() override;

  const ModelSignature& signature() const override { return signature_; }
  int64_t num_features() const override { return num_features_; }
  // kValue: the graph output's width; other kinds are not produced (0).
  int64_t OutputWidth(OutputKind kind) const override;
  // kValue only; UNIMPLEMENTED for margins and contributions (a dense graph
  // has no generic pre-transform output). Thread-safe.
  Status Predict(const float* x, size_t rows, OutputKind kind, float* out) const override;
  size_t MemoryBytes() const override { return memory_bytes_; }

  Isa isa() const { return isa_; }

 private:
  DenseModel() = default;
  void RunChunk(const float* x, size_t rows, float* out) const;

  ModelSignature signature_;
  int64_t num_features_ = 0;
  int64_t output_width_ = 0;
  bool output_is_input_ = false;  // the graph is the identity
  Isa isa_ = Isa::kScalar;
  std::vector<internal::CompiledNode> nodes_;
  size_t slot_floats_ = 0;  // floats per arena slot: kChunkRows * max width
  int num_slots_ = 0;
  size_t quant_bytes_ = 0;  // int8 row buffer per chunk
  size_t memory_bytes_ = 0;
  std::unique_ptr<ThreadPool> pool_;
};

// Loads a model file (.onnx or .hpd) or a version folder holding model.hpd or
// model.onnx. NOT_FOUND when none is there; INVALID_ARGUMENT naming the file
// and the problem for a bad artifact.
Result<std::unique_ptr<DenseModel>> LoadDenseModel(const std::filesystem::path& path,
                                                   const DenseModel::Options& options);

// Reads the Graph of a model file or version folder (as LoadDenseModel).
Result<Graph> LoadGraph(const std::filesystem::path& path);

}  // namespace hotpath::dense

#endif  // HOTPATH_RUNTIME_DENSE_DENSE_MODEL_H_
