#include "features/internal/huge_page_arena.h"

#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>

#include "core/thread_annotations.h"

namespace hotpath::features::internal {
namespace {

constexpr std::size_t kLine = 64;
constexpr std::size_t kHugePage = std::size_t{2} << 20;
constexpr std::size_t kRegionBytes = std::size_t{64} << 20;  // one mapping (virtual)
constexpr std::size_t kRefillBytes = std::size_t{64} << 10;  // a size class's next run
constexpr std::size_t kClasses = kMaxSmallBytes / kLine;

std::size_t RoundUp(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

// The size class of a small block: its size is (class + 1) * kLine.
std::size_t ClassOf(std::size_t bytes) { return ArenaBlockBytes(bytes) / kLine - 1; }

// `bytes` (a multiple of kHugePage) of fresh memory, 2 MiB-aligned.
char* MapRegion(std::size_t bytes) {
  void* p = mmap(nullptr, bytes + kHugePage, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  const auto raw = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t aligned = RoundUp(raw, kHugePage);
  if (aligned > raw) munmap(p, aligned - raw);
  munmap(reinterpret_cast<void*>(aligned + bytes), raw + kHugePage - aligned);
  // Advice only: without transparent huge pages the arena still works on 4 KiB pages.
  madvise(reinterpret_cast<void*>(aligned), bytes, MADV_HUGEPAGE);
  return reinterpret_cast<char*>(aligned);
}

class Arena {
 public:
  static Arena& Global() {
    static Arena* arena = new Arena();  // never destroyed: blocks may outlive static destructors
    return *arena;
  }

  void* Allocate(std::size_t bytes) {
    MutexLock lock(&mu_);
    in_use_ += ArenaBlockBytes(bytes);
    if (bytes > kMaxSmallBytes) return TakePages(ArenaBlockBytes(bytes));
    const std::size_t c = ClassOf(bytes);
    if (FreeBlock* b = free_[c]) {
      free_[c] = b->next;
      return b;
    }
    const std::size_t size = (c + 1) * kLine;
    Run& run = runs_[c];
    if (run.end - run.next < static_cast<std::ptrdiff_t>(size)) {
      run.next = TakePages(kRefillBytes);
      run.end = run.next + kRefillBytes;
    }
    char* block = run.next;
    run.next += size;
    return block;
  }

  void Free(void* p, std::size_t bytes) {
    MutexLock lock(&mu_);
    in_use_ -= ArenaBlockBytes(bytes);
    if (bytes > kMaxSmallBytes) {
      free_pages_.emplace(ArenaBlockBytes(bytes), static_cast<char*>(p));
      return;
    }
    const std::size_t c = ClassOf(bytes);
    free_[c] = new (p) FreeBlock{free_[c]};
  }

  ArenaUsage usage() const {
    MutexLock lock(&mu_);
    // Unused tails of the size classes' runs count as held, not in use.
    return ArenaUsage{in_use_, carved_};
  }

 private:
  struct FreeBlock {
    FreeBlock* next;
  };
  struct Run {
    char* next = nullptr;
    char* end = nullptr;
  };

  // `bytes` (a multiple of 4 KiB): best fit among released page runs (the
  // rest goes back), else the current region's unused tail.
  char* TakePages(std::size_t bytes) REQUIRES(mu_) {
    if (auto it = free_pages_.lower_bound(bytes); it != free_pages_.end()) {
      const std::size_t size = it->first;
      char* p = it->second;
      free_pages_.erase(it);
      if (size > bytes) free_pages_.emplace(size - bytes, p + bytes);
      return p;
    }
    if (static_cast<std::size_t>(end_ - next_) < bytes) {
      if (end_ > next_) {  // the old tail stays usable as released pages
        free_pages_.emplace(static_cast<std::size_t>(end_ - next_), next_);
        carved_ += static_cast<std::size_t>(end_ - next_);
      }
      const std::size_t region = std::max(kRegionBytes, RoundUp(bytes, kHugePage));
      next_ = MapRegion(region);
      end_ = next_ + region;
    }
    char* p = next_;
    next_ += bytes;
    carved_ += bytes;
    return p;
  }

  mutable Mutex mu_;
  // Invariant: every block handed out or on a free list lies in [region start, next_)
  // of some mapping; carved_ is the sum of those spans.
  std::array<FreeBlock*, kClasses> free_ GUARDED_BY(mu_) = {};
  std::array<Run, kClasses> runs_ GUARDED_BY(mu_) = {};
  std::multimap<std::size_t, char*> free_pages_ GUARDED_BY(mu_);  // size -> start
  char* next_ GUARDED_BY(mu_) = nullptr;
  char* end_ GUARDED_BY(mu_) = nullptr;
  std::size_t carved_ GUARDED_BY(mu_) = 0;
  std::size_t in_use_ GUARDED_BY(mu_) = 0;
};

}  // namespace

void* ArenaAllocate(std::size_t bytes) { return Arena::Global().Allocate(bytes); }

void ArenaFree(void* p, std::size_t bytes) noexcept {
  if (p != nullptr) Arena::Global().Free(p, bytes);
}

ArenaUsage ArenaBytes() { return Arena::Global().usage(); }

}  // namespace hotpath::features::internal
