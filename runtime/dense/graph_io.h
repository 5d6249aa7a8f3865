// The native dense model format (`model.hpd`): a Graph, little-endian, with
// its quantised or pruned weights exactly as optimize/ produced them.
//
// Layout: "HPDENSE1", the value widths, the output id, the tensor names, then
// each node's fields (vectors as a u64 count followed by the elements).
#ifndef HOTPATH_RUNTIME_DENSE_GRAPH_IO_H_
#define HOTPATH_RUNTIME_DENSE_GRAPH_IO_H_

#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"
#include "runtime/dense/graph.h"

namespace hotpath::dense {

// REQUIRES: no kTreeEnsemble node (tree ensembles have no .hpd form; their
// artifact stays the ONNX file). WriteGraphFile checks this.
std::string SerializeGraph(const Graph& graph);

// Parses and validates; INVALID_ARGUMENT naming the field for truncated or
// corrupt bytes. Never reads past `bytes`.
Result<Graph> ParseGraph(std::string_view bytes);

// Writes SerializeGraph(graph) to `path`; INVALID_ARGUMENT naming the node
// for a graph holding a tree ensemble, INTERNAL when the write fails.
Status WriteGraphFile(const Graph& graph, const std::filesystem::path& path);

}  // namespace hotpath::dense

#endif  // HOTPATH_RUNTIME_DENSE_GRAPH_IO_H_
