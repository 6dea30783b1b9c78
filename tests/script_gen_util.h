// Helpers for the tests of the lifecycle generator: scripts from a seeded
// random source, and what counts as a read.
#ifndef SOCKPARITY_TESTS_SCRIPT_GEN_UTIL_H_
#define SOCKPARITY_TESTS_SCRIPT_GEN_UTIL_H_

#include <cstdint>
#include <random>

#include "sockparity/script/script.h"
#include "sockparity/script/script_gen.h"

namespace sockparity {

// Scripts counted by the tests of what the generator reaches.
inline constexpr int kScripts = 20000;

inline Script Generated(std::mt19937& random) {
  return GenerateLifecycleScript([&](uint32_t n) {
    return n <= 1 ? 0u
                  : std::uniform_int_distribution<uint32_t>(0, n - 1)(random);
  });
}

inline bool IsRead(Verb verb) {
  switch (verb) {
    case Verb::kRecv:
    case Verb::kRecvExactly:
    case Verb::kRecvUntilEof:
    case Verb::kRecvWaitall:
    case Verb::kRecvFd:
    case Verb::kDrain:
      return true;
    default:
      return false;
  }
}

}  // namespace sockparity

#endif  // SOCKPARITY_TESTS_SCRIPT_GEN_UTIL_H_
