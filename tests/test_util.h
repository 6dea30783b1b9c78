// Helpers shared by sockparity's own tests: the per-kind fixture under its
// old names, and test data. The status matchers are public:
// sockparity/testing/matchers.h.
#ifndef SOCKPARITY_TESTS_TEST_UTIL_H_
#define SOCKPARITY_TESTS_TEST_UTIL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sockparity/net/bytes.h"
#include "sockparity/net/errors.h"
#include "sockparity/net/socket.h"
#include "sockparity/net/transport.h"
#include "sockparity/testing/gtest_transports.h"
#include "sockparity/testing/matchers.h"

namespace sockparity::testing {

// The public fixture under the names these tests have always used.
using AllKindsTest = TransportTest;
using KindTestName = TransportTestNamer;

// A recognisable pattern so a misplaced or reordered byte is caught.
inline Bytes Pattern(size_t size, uint8_t seed) {
  Bytes bytes(size);
  for (size_t i = 0; i < size; ++i) {
    bytes[i] = static_cast<uint8_t>((i * 131 + seed) % 251);
  }
  return bytes;
}

inline Bytes ToBytes(absl::string_view text) {
  return Bytes(text.begin(), text.end());
}

}  // namespace sockparity::testing

#endif  // SOCKPARITY_TESTS_TEST_UTIL_H_
