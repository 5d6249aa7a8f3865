// Instruction-set levels of the dense kernels and the CPU check made at load.
#ifndef HOTPATH_RUNTIME_DENSE_CPU_H_
#define HOTPATH_RUNTIME_DENSE_CPU_H_

#include <cstdint>
#include <string_view>

#include "core/status.h"

namespace hotpath::dense {

// Kernel families, lowest to highest. kAvx512Vnni differs from kAvx512 only
// for int8 layers (vpdpbusd); fp32 layers use the AVX-512 kernels for both.
enum class Isa : uint8_t { kScalar, kAvx2, kAvx512, kAvx512Vnni };

// The highest level this CPU supports (AVX2 requires FMA too).
Isa DetectIsa();
bool IsaSupported(Isa isa);
// "scalar", "avx2", "avx512", "avx512-vnni".
std::string_view IsaName(Isa isa);
// Parses IsaName's spelling (a model config's `isa` key); INVALID_ARGUMENT
// naming the value otherwise.
Result<Isa> ParseIsa(std::string_view name);

}  // namespace hotpath::dense

#endif  // HOTPATH_RUNTIME_DENSE_CPU_H_
