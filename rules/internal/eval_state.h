// Per-evaluation mutable state: what fired, the score so far, the best
// decision key, and scratch memory for string results (lower()). Owned by the
// caller through Verdict and reused across requests, so steady-state
// evaluation does not allocate.
#ifndef HOTPATH_RULES_INTERNAL_EVAL_STATE_H_
#define HOTPATH_RULES_INTERNAL_EVAL_STATE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace hotpath::rules::internal {

// Bump allocator for strings produced during one evaluation. Reset() keeps
// the chunks, so after warm-up Allocate() only moves an offset.
class StringArena {
 public:
  // Returns `n` writable bytes valid until the next Reset().
  char* Allocate(size_t n);
  void Reset() {
    chunk_ = 0;
    used_ = 0;
  }

 private:
  static constexpr size_t kChunkSize = 4096;
  struct Chunk {
    std::unique_ptr<char[]> bytes;
    size_t size;
  };
  std::vector<Chunk> chunks_;
  size_t chunk_ = 0;  // index of the chunk being filled
  size_t used_ = 0;   // bytes used in it
};

// Decision key of "no action rule fired"; lower keys win.
inline constexpr uint64_t kNoDecision = UINT64_MAX;

struct EvalState {
  std::vector<uint32_t> fired;  // rule indices, in evaluation order
  double score = 0;
  uint64_t best = kNoDecision;  // (action rank << 32) | rule index of the decider
  StringArena arena;

  void Clear() {
    fired.clear();
    score = 0;
    best = kNoDecision;
  }
};

}  // namespace hotpath::rules::internal

#endif  // HOTPATH_RULES_INTERNAL_EVAL_STATE_H_
