#include "runtime/dense/dense_model.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#include "runtime/dense/graph_io.h"
#include "runtime/dense/internal/aligned.h"
#include "runtime/dense/internal/eltwise.h"
#include "runtime/dense/internal/gemm.h"
#include "runtime/dense/internal/qgemm.h"
#include "runtime/dense/internal/tree_head.h"
#include "runtime/dense/onnx_import.h"
#include "runtime/tree/tree_model.h"

namespace hotpath::dense {
namespace internal {

// Where a value lives during a chunk.
enum : int { kInputSlot = -1, kOutputSlot = -2 };

struct CompiledNode {
  OpKind kind = OpKind::kDense;
  std::vector<int> in_slots;
  std::vector<int64_t> in_widths;
  int out_slot = 0;
  int64_t width = 0;
  ActivationSpec act;
  GemmFn gemm = nullptr;
  PackedWeights weights;
  QKernel qgemm;
  PackedQWeights qweights;
  float input_scale = 0;
  std::vector<float> scale, shift;
  BinaryOp binary = BinaryOp::kAdd;
  NormKind norm = NormKind::kL2;
  std::shared_ptr<const TreeModel> trees;
  TreeHead tree_head;
};

namespace {

// One thread's scratch: value slots, int8 rows and their scales. Grows to the
// largest model served on the thread and is then reused by every call.
struct Arena {
  AlignedArray<float> slots;
  AlignedArray<uint8_t> quant;
  AlignedArray<float> row_scale{DenseModel::kChunkRows};

  static Arena& ForThread(size_t slot_floats, size_t quant_bytes) {
    thread_local Arena arena;
    if (arena.slots.size() < slot_floats) arena.slots = AlignedArray<float>(slot_floats);
    if (arena.quant.size() < quant_bytes) arena.quant = AlignedArray<uint8_t>(quant_bytes);
    return arena;
  }
};

// Assigns arena slots to values: a slot is reused once its value's last
// reader has run. The input and the output value need none.
std::vector<int> PlanSlots(const Graph& g, int* num_slots) {
  const int n = static_cast<int>(g.widths.size());
  std::vector<int> last_use(n, -1);
  for (int i = 0; i < static_cast<int>(g.nodes.size()); ++i) {
    for (int v : g.nodes[i].inputs) last_use[v] = i;
  }
  std::vector<int> slot(n, kInputSlot);
  std::vector<int> free_slots;
  *num_slots = 0;
  for (int i = 0; i < static_cast<int>(g.nodes.size()); ++i) {
    const int out = g.nodes[i].output;
    if (out == g.output) {
      slot[out] = kOutputSlot;
    } else if (!free_slots.empty()) {
      slot[out] = free_slots.back();
      free_slots.pop_back();
    } else {
      slot[out] = (*num_slots)++;
    }
    for (int v : g.nodes[i].inputs) {
      if (last_use[v] == i && slot[v] >= 0 &&
          std::find(free_slots.begin(), free_slots.end(), slot[v]) == free_slots.end()) {
        free_slots.push_back(slot[v]);
      }
    }
  }
  return slot;
}

CompiledNode Compile(const Graph& g, const Node& node, const std::vector<int>& slot, Isa isa) {
  CompiledNode c;
  c.kind = node.kind;
  for (int v : node.inputs) {
    c.in_slots.push_back(slot[v]);
    c.in_widths.push_back(g.widths[v]);
  }
  c.out_slot = slot[node.output];
  c.width = g.widths[node.output];
  c.act = node.act;
  const int64_t k = c.in_widths[0];
  if (node.kind == OpKind::kDense) {
    c.gemm = SelectGemm(isa);
    c.weights = PackWeights(node.weights.data(), node.bias.data(), k, c.width, isa);
  } else if (node.kind == OpKind::kQuantDense) {
    c.qgemm = SelectQGemm(isa);
    c.qweights =
        PackQWeights(node.qweights.data(), node.weight_scale.data(), node.bias.data(), k, c.width);
    c.input_scale = node.input_scale;
  }
  c.scale = node.scale;
  c.shift = node.shift;
  c.binary = node.binary;
  c.norm = node.norm;
  c.trees = node.trees;
  c.tree_head = node.tree_head;
  return c;
}

// Pointers of one chunk's values.
struct ChunkFrame {
  const float* x;
  size_t ldx;
  float* out;
  size_t ldout;
  Arena* arena;
  size_t slot_floats;

  ConstMatrixRef In(int slot, int64_t width) const {
    if (slot == kInputSlot) return {x, ldx};
    if (slot == kOutputSlot) return {out, ldout};
    return {arena->slots.data() + slot * slot_floats, static_cast<size_t>(width)};
  }
  MatrixRef Out(int slot, int64_t width) const {
    if (slot == kOutputSlot) return {out, ldout};
    return {arena->slots.data() + slot * slot_floats, static_cast<size_t>(width)};
  }
};

void RunQuantDense(const CompiledNode& c, const ChunkFrame& f, size_t rows) {
  const ConstMatrixRef x = f.In(c.in_slots[0], c.in_widths[0]);
  const MatrixRef y = f.Out(c.out_slot, c.width);
  const PackedQWeights& w = c.qweights;
  uint8_t* q = f.arena->quant.data();
  float* rs = f.arena->row_scale.data();
  c.qgemm.quantize(x.data, x.ld, rows, w.k, w.kpad, c.input_scale, c.qgemm.offset128, q, w.kpad,
                   rs);
  c.qgemm.fn(q, w.kpad, rs, rows, w, c.act, y.data, y.ld);
}

void RunConcat(const CompiledNode& c, const ChunkFrame& f, size_t rows) {
  const MatrixRef y = f.Out(c.out_slot, c.width);
  int64_t col = 0;
  for (size_t i = 0; i < c.in_slots.size(); ++i) {
    CopyColumns(f.In(c.in_slots[i], c.in_widths[i]), rows, c.in_widths[i], y, col);
    col += c.in_widths[i];
  }
}

// Every value's rows are contiguous (row stride == width), as the tree
// engine reads and writes them.
void RunTrees(const CompiledNode& c, const ChunkFrame& f, size_t rows) {
  const ConstMatrixRef x = f.In(c.in_slots[0], c.in_widths[0]);
  float* y = f.Out(c.out_slot, c.width).data;
  // kMargin over a validated graph's buffers cannot fail.
  c.trees->Predict(x.data, rows, OutputKind::kMargin, y).IgnoreError();
  ApplyTreeHead(c.tree_head, rows, c.trees->OutputWidth(OutputKind::kMargin), c.width, y);
}

void RunNode(const CompiledNode& c, const ChunkFrame& f, size_t rows) {
  const ConstMatrixRef x = f.In(c.in_slots[0], c.in_widths[0]);
  const MatrixRef y = f.Out(c.out_slot, c.width);
  switch (c.kind) {
    case OpKind::kDense:
      return c.gemm(x.data, x.ld, rows, c.weights, c.act, y.data, y.ld);
    case OpKind::kQuantDense:
      return RunQuantDense(c, f, rows);
    case OpKind::kAffine:
      return AffineRows(x, rows, c.width, c.scale.data(), c.shift.data(), y);
    case OpKind::kActivation:
      return ActivationRows(c.act, x, rows, c.width, y);
    case OpKind::kBinary:
      return BinaryRows(c.binary, x, f.In(c.in_slots[1], c.in_widths[1]), rows, c.width, y);
    case OpKind::kConcat:
      return RunConcat(c, f, rows);
    case OpKind::kSoftmax:
      return SoftmaxRows(x, rows, c.width, y);
    case OpKind::kNormalize:
      return NormalizeRows(c.norm, x, rows, c.width, y);
    case OpKind::kTreeEnsemble:
      return RunTrees(c, f, rows);
  }
}

}  // namespace
}  // namespace internal

DenseModel::~DenseModel() = default;

Result<std::unique_ptr<DenseModel>> DenseModel::Create(const Graph& graph, const Options& options) {
  RETURN_IF_ERROR(ValidateGraph(graph));
  if (options.num_threads < 1) {
    return InvalidArgumentError("DenseModel num_threads must be >= 1, got " +
                                std::to_string(options.num_threads));
  }
  const Isa isa = options.isa.value_or(DetectIsa());
  if (!IsaSupported(isa)) {
    return FailedPreconditionError("this CPU lacks " + std::string(IsaName(isa)));
  }
  std::unique_ptr<DenseModel> m(new DenseModel());
  m->isa_ = isa;
  m->num_features_ = graph.widths[0];
  m->output_width_ = graph.widths[graph.output];
  m->output_is_input_ = graph.output == 0;
  const std::vector<int> slot = internal::PlanSlots(graph, &m->num_slots_);
  int64_t max_width = 1, max_kpad = 4;
  size_t batch1_bytes = 0;  // the AVX-512 GEMV's second copy of fp32 weights
  for (const Node& node : graph.nodes) {
    m->nodes_.push_back(internal::Compile(graph, node, slot, isa));
    batch1_bytes += m->nodes_.back().weights.rows.size() * sizeof(float);
    max_width = std::max(max_width, graph.widths[node.output]);
    max_kpad = std::max(max_kpad, (graph.widths[node.inputs[0]] + 3) / 4 * 4);
  }
  m->slot_floats_ = kChunkRows * static_cast<size_t>(max_width);
  m->quant_bytes_ = kChunkRows * static_cast<size_t>(max_kpad);
  m->memory_bytes_ = GraphBytes(graph) + batch1_bytes;
  m->signature_.inputs = {{graph.input_name, DType::kFp32, {graph.widths[0]}}};
  m->signature_.outputs = {{graph.output_name, DType::kFp32, {m->output_width_}}};
  if (options.num_threads > 1) m->pool_ = std::make_unique<ThreadPool>(options.num_threads);
  return m;
}

int64_t DenseModel::OutputWidth(OutputKind kind) const {
  return kind == OutputKind::kValue ? output_width_ : 0;
}

void DenseModel::RunChunk(const float* x, size_t rows, float* out) const {
  internal::Arena& arena = internal::Arena::ForThread(
      slot_floats_ * static_cast<size_t>(std::max(num_slots_, 1)), quant_bytes_);
  const internal::ChunkFrame frame{x,      static_cast<size_t>(num_features_),
                                   out,    static_cast<size_t>(output_width_),
                                   &arena, slot_floats_};
  for (const internal::CompiledNode& node : nodes_) internal::RunNode(node, frame, rows);
  if (output_is_input_) {
    internal::CopyColumns({x, frame.ldx}, rows, num_features_, {out, frame.ldout}, 0);
  }
}

Status DenseModel::Predict(const float* x, size_t rows, OutputKind kind, float* out) const {
  if (kind != OutputKind::kValue) {
    return UnimplementedError("dense models produce values only (no margins or contributions)");
  }
  const size_t chunks = (rows + kChunkRows - 1) / kChunkRows;
  // One captured pointer keeps the pool's std::function in its inline buffer.
  struct Job {
    const DenseModel* model;
    const float* x;
    size_t rows;
    float* out;
  } job{this, x, rows, out};
  auto run = [&job](size_t begin, size_t end) {
    for (size_t c = begin; c < end; ++c) {
      const size_t r0 = c * kChunkRows, n = std::min(kChunkRows, job.rows - r0);
      job.model->RunChunk(job.x + r0 * job.model->num_features_, n,
                          job.out + r0 * job.model->output_width_);
    }
  };
  if (pool_ != nullptr && chunks > 1) {
    pool_->ParallelFor(chunks, 1, run);
  } else {
    run(0, chunks);
  }
  return OkStatus();
}

namespace {

Result<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Result<std::filesystem::path> ResolveModelFile(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) return path;
  for (const char* name : {"model.hpd", "model.onnx"}) {
    if (std::filesystem::exists(path / name, ec)) return path / name;
  }
  return NotFoundError("no model.hpd or model.onnx in " + path.string());
}

}  // namespace

Result<Graph> LoadGraph(const std::filesystem::path& path) {
  ASSIGN_OR_RETURN(const std::filesystem::path file, ResolveModelFile(path));
  ASSIGN_OR_RETURN(const std::string bytes, ReadFile(file));
  Result<Graph> g = file.extension() == ".hpd" ? ParseGraph(bytes) : ImportOnnx(bytes);
  if (!g.ok()) {
    return Status(g.status().code(), file.string() + ": " + g.status().message());
  }
  return g;
}

Result<std::unique_ptr<DenseModel>> LoadDenseModel(const std::filesystem::path& path,
                                                   const DenseModel::Options& options) {
  ASSIGN_OR_RETURN(const Graph graph, LoadGraph(path));
  return DenseModel::Create(graph, options);
}

}  // namespace hotpath::dense
