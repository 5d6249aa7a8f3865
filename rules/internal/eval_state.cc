#include "rules/internal/eval_state.h"

#include <algorithm>

namespace hotpath::rules::internal {

char* StringArena::Allocate(size_t n) {
  while (chunk_ < chunks_.size()) {
    Chunk& c = chunks_[chunk_];
    if (c.size - used_ >= n) {
      char* out = c.bytes.get() + used_;
      used_ += n;
      return out;
    }
    ++chunk_;
    used_ = 0;
  }
  size_t size = std::max(n, kChunkSize);
  chunks_.push_back(Chunk{std::make_unique<char[]>(size), size});
  used_ = n;
  return chunks_.back().bytes.get();
}

}  // namespace hotpath::rules::internal
