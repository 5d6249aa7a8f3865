// HugePageArena: the process-wide memory that entity tables (hash slots,
// entries) and entity states live in, mapped in 2 MiB-aligned regions advised
// MADV_HUGEPAGE, so that the dependent fetches of a read (hash slot, then
// entry and state) do not each add a 4 KiB-page TLB walk, which under nested
// paging costs about as much as the fetch itself (docs/features.md, "In-process
// reads").
//
// Blocks of up to kMaxSmallBytes come from 64-byte size classes (64-byte
// aligned, so a state spans as few cache lines as its size allows) with one
// free list each; larger blocks are whole 4 KiB pages, reused best-fit (and
// split) from a free list once released. Memory is never returned to the
// operating system: released blocks are reused by later allocations.
//
// Thread-safe (one mutex; allocations happen when a state or table grows, not
// per read).
#ifndef HOTPATH_FEATURES_INTERNAL_HUGE_PAGE_ARENA_H_
#define HOTPATH_FEATURES_INTERNAL_HUGE_PAGE_ARENA_H_

#include <cstddef>
#include <new>

namespace hotpath::features::internal {

inline constexpr std::size_t kMaxSmallBytes = 4096;

// The size of the block ArenaAllocate(bytes) hands out: `bytes` rounded up to
// its 64-byte class, or to whole 4 KiB pages above kMaxSmallBytes. Containers
// that size their capacity to it use the block's slack instead of growing.
constexpr std::size_t ArenaBlockBytes(std::size_t bytes) {
  const std::size_t to = bytes > kMaxSmallBytes ? 4096 : 64;
  return bytes == 0 ? to : (bytes + to - 1) / to * to;
}

// A block of at least `bytes` bytes (64-byte aligned). Throws std::bad_alloc
// when the operating system refuses more memory (as operator new does).
void* ArenaAllocate(std::size_t bytes);
// Releases a block from ArenaAllocate(bytes) (the same `bytes`).
void ArenaFree(void* p, std::size_t bytes) noexcept;
struct ArenaUsage {
  std::size_t in_use = 0;  // bytes of blocks handed out and not released (rounded to their class)
  std::size_t held =
      0;  // in_use plus released blocks on the free lists (untouched mappings not counted)
};
ArenaUsage ArenaBytes();

// A stateless std allocator over the arena, for the containers that hold
// entity tables and states.
template <class T>
struct ArenaAllocator {
  using value_type = T;
  ArenaAllocator() = default;
  template <class U>
  ArenaAllocator(const ArenaAllocator<U>&) noexcept {}  // NOLINT: allocator rebind
  T* allocate(std::size_t n) { return static_cast<T*>(ArenaAllocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { ArenaFree(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const ArenaAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace hotpath::features::internal

#endif  // HOTPATH_FEATURES_INTERNAL_HUGE_PAGE_ARENA_H_
