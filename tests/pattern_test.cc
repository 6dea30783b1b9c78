// The bytes the script runner sends: FillPattern, which copies one period
// on, gives exactly the bytes PatternByte names, at any offset and length.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "script/script_runner.h"

namespace sockparity::internal {
namespace {

TEST(Pattern, FillGivesEveryBytePatternByteNames) {
  for (const std::string slot : {"a", "b12", "listener7"}) {
    const uint64_t seed = PatternSeed(slot);
    for (uint64_t offset : {0ull, 1ull, 250ull, 251ull, 1000003ull}) {
      for (size_t size : {0u, 1u, 250u, 251u, 252u, 503u, 4096u, 65536u}) {
        std::vector<uint8_t> got(size);
        FillPattern(seed, offset, got.data(), size);
        for (size_t i = 0; i < size; ++i) {
          ASSERT_EQ(got[i], PatternByte(seed, offset + i))
              << slot << " offset " << offset << " size " << size
              << " byte " << i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace sockparity::internal
