// libFuzzer target (clang only): the HTTP request parser.
#include <cstdio>

#include "serve/testing/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string broken = hotpath::serve_testing::FuzzHttpParser(data, size);
  if (!broken.empty()) {
    std::fprintf(stderr, "invariant broken: %s\n", broken.c_str());
    __builtin_trap();
  }
  return 0;
}
