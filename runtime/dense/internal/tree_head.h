// The step after a tree ensemble's margins: ONNX base values added after the
// sum, the binary classifier's two-column expansion and the post transform
// (graph.h's TreeHead), in place over the node's output rows.
#ifndef HOTPATH_RUNTIME_DENSE_INTERNAL_TREE_HEAD_H_
#define HOTPATH_RUNTIME_DENSE_INTERNAL_TREE_HEAD_H_

#include <cstddef>
#include <cstdint>

#include "runtime/dense/graph.h"

namespace hotpath::dense::internal {

// y: [rows, width], contiguous; on entry its first rows * margins floats hold
// the margins [rows, margins] (margins == width, or 1 with width 2 for a
// binary head); on return the node's output. No allocation.
void ApplyTreeHead(const TreeHead& head, size_t rows, int64_t margins, int64_t width, float* y);

}  // namespace hotpath::dense::internal

#endif  // HOTPATH_RUNTIME_DENSE_INTERNAL_TREE_HEAD_H_
