#include "runtime/dense/graph_io.h"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <type_traits>
#include <vector>

namespace hotpath::dense {
namespace {

constexpr std::string_view kMagic = "HPDENSE1";

class Writer {
 public:
  template <typename T>
  void Pod(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  template <typename T>
  void Vec(const std::vector<T>& v) {
    Pod<uint64_t>(v.size());
    if (!v.empty()) out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  void Str(const std::string& s) {
    Pod<uint64_t>(s.size());
    out_.append(s);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view bytes) : in_(bytes) {}

  template <typename T>
  Status Pod(const char* field, T* v) {
    if (in_.size() < sizeof(T)) return Truncated(field);
    std::memcpy(v, in_.data(), sizeof(T));
    in_.remove_prefix(sizeof(T));
    return OkStatus();
  }
  template <typename T>
  Status Vec(const char* field, std::vector<T>* v) {
    uint64_t n = 0;
    RETURN_IF_ERROR(Pod(field, &n));
    if (n > in_.size() / sizeof(T)) return Truncated(field);
    v->resize(n);
    if (n > 0) std::memcpy(v->data(), in_.data(), n * sizeof(T));
    in_.remove_prefix(n * sizeof(T));
    return OkStatus();
  }
  Status Str(const char* field, std::string* s) {
    std::vector<char> v;
    RETURN_IF_ERROR(Vec(field, &v));
    s->assign(v.begin(), v.end());
    return OkStatus();
  }
  // Reads a one-byte enum and checks it is at most `max`.
  template <typename E>
  Status Enum(const char* field, E max, E* e) {
    uint8_t v = 0;
    RETURN_IF_ERROR(Pod(field, &v));
    if (v > static_cast<uint8_t>(max)) {
      return InvalidArgumentError(std::string("hpd: ") + field + " has unknown value " +
                                  std::to_string(v));
    }
    *e = static_cast<E>(v);
    return OkStatus();
  }
  bool empty() const { return in_.empty(); }

 private:
  static Status Truncated(const char* field) {
    return InvalidArgumentError(std::string("hpd: truncated at ") + field);
  }
  std::string_view in_;
};

void WriteNode(const Node& n, Writer* w) {
  w->Pod(static_cast<uint8_t>(n.kind));
  w->Str(n.name);
  w->Vec(n.inputs);
  w->Pod<int32_t>(n.output);
  w->Pod(static_cast<uint8_t>(n.act.kind));
  w->Pod(n.act.alpha);
  w->Pod(n.act.beta);
  w->Vec(n.weights);
  w->Vec(n.bias);
  w->Vec(n.qweights);
  w->Vec(n.weight_scale);
  w->Pod(n.input_scale);
  w->Vec(n.scale);
  w->Vec(n.shift);
  w->Pod(static_cast<uint8_t>(n.binary));
  w->Pod(static_cast<uint8_t>(n.norm));
}

Status ReadNode(Reader* r, Node* n) {
  RETURN_IF_ERROR(r->Enum("node.kind", OpKind::kNormalize, &n->kind));
  RETURN_IF_ERROR(r->Str("node.name", &n->name));
  RETURN_IF_ERROR(r->Vec("node.inputs", &n->inputs));
  int32_t out = 0;
  RETURN_IF_ERROR(r->Pod("node.output", &out));
  n->output = out;
  RETURN_IF_ERROR(r->Enum("node.act", Activation::kClip, &n->act.kind));
  RETURN_IF_ERROR(r->Pod("node.alpha", &n->act.alpha));
  RETURN_IF_ERROR(r->Pod("node.beta", &n->act.beta));
  RETURN_IF_ERROR(r->Vec("node.weights", &n->weights));
  RETURN_IF_ERROR(r->Vec("node.bias", &n->bias));
  RETURN_IF_ERROR(r->Vec("node.qweights", &n->qweights));
  RETURN_IF_ERROR(r->Vec("node.weight_scale", &n->weight_scale));
  RETURN_IF_ERROR(r->Pod("node.input_scale", &n->input_scale));
  RETURN_IF_ERROR(r->Vec("node.scale", &n->scale));
  RETURN_IF_ERROR(r->Vec("node.shift", &n->shift));
  RETURN_IF_ERROR(r->Enum("node.binary", BinaryOp::kDiv, &n->binary));
  return r->Enum("node.norm", NormKind::kL2, &n->norm);
}

}  // namespace

std::string SerializeGraph(const Graph& g) {
  Writer w;
  for (char c : kMagic) w.Pod(c);
  w.Vec(g.widths);
  w.Pod<int32_t>(g.output);
  w.Str(g.input_name);
  w.Str(g.output_name);
  w.Pod<uint64_t>(g.nodes.size());
  for (const Node& n : g.nodes) WriteNode(n, &w);
  return w.Take();
}

Result<Graph> ParseGraph(std::string_view bytes) {
  if (bytes.substr(0, kMagic.size()) != kMagic) {
    return InvalidArgumentError("hpd: missing HPDENSE1 magic");
  }
  Reader r(bytes.substr(kMagic.size()));
  Graph g;
  RETURN_IF_ERROR(r.Vec("widths", &g.widths));
  int32_t out = 0;
  RETURN_IF_ERROR(r.Pod("output", &out));
  g.output = out;
  RETURN_IF_ERROR(r.Str("input_name", &g.input_name));
  RETURN_IF_ERROR(r.Str("output_name", &g.output_name));
  uint64_t nodes = 0;
  RETURN_IF_ERROR(r.Pod("nodes", &nodes));
  for (uint64_t i = 0; i < nodes; ++i) {
    Node n;
    RETURN_IF_ERROR(ReadNode(&r, &n));
    g.nodes.push_back(std::move(n));
  }
  if (!r.empty()) return InvalidArgumentError("hpd: trailing bytes after the last node");
  RETURN_IF_ERROR(ValidateGraph(g));
  return g;
}

Status WriteGraphFile(const Graph& graph, const std::filesystem::path& path) {
  for (const Node& n : graph.nodes) {
    if (n.kind == OpKind::kTreeEnsemble) {
      return InvalidArgumentError("hpd: node '" + n.name +
                                  "' is a tree ensemble, which has no .hpd form");
    }
  }
  const std::string bytes = SerializeGraph(graph);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return InternalError("cannot write " + path.string());
  return OkStatus();
}

}  // namespace hotpath::dense
