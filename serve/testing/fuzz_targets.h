// Fuzz entry points for the HTTP request parser and the infer request
// decoder: each runs one input through the code under test and checks
// invariants that must hold for any input. Shared by the gtest fuzz run
// (serve/fuzz_test.cc) and the libFuzzer binaries built with clang.
#ifndef HOTPATH_SERVE_TESTING_FUZZ_TARGETS_H_
#define HOTPATH_SERVE_TESTING_FUZZ_TARGETS_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace hotpath::serve_testing {

// Parses `data` as a stream of pipelined requests, whole and again fed in
// pieces whose sizes come from the data; the two must agree request for
// request. Returns "" when every invariant holds, else what broke.
std::string FuzzHttpParser(const uint8_t* data, size_t size);

// Decodes `data` as an infer request body (the first byte, when present,
// picks a JSON header length for the binary extension). On success every
// tensor's bytes must match its shape and dtype, and re-encoding the decoded
// tensors as JSON must decode to the same values. Returns "" or what broke.
std::string FuzzInferDecoder(const uint8_t* data, size_t size);

}  // namespace hotpath::serve_testing

#endif  // HOTPATH_SERVE_TESTING_FUZZ_TARGETS_H_
