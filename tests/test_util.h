// Helpers shared by sockparity's own tests: the per-kind fixture and
// matchers that print statuses and errno names.
#ifndef SOCKPARITY_TESTS_TEST_UTIL_H_
#define SOCKPARITY_TESTS_TEST_UTIL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sockparity/net/bytes.h"
#include "sockparity/net/errors.h"
#include "sockparity/testing/gtest_transports.h"
#include "sockparity/net/socket.h"
#include "sockparity/net/transport.h"

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

MATCHER(IsOk, "is OK") {
  if (arg.ok()) return true;
  *result_listener << "status is " << arg;
  return false;
}

MATCHER_P(FailsWithErrno, error_number,
          "fails with " + ErrnoName(error_number)) {
  std::optional<int> seen = ErrnoOf(arg);
  if (seen == error_number) return true;
  *result_listener << "status is " << arg;
  return false;
}

MATCHER_P(HasCode, code, "has code " + absl::StatusCodeToString(code)) {
  if (arg.code() == code) return true;
  *result_listener << "status is " << arg;
  return false;
}

}  // namespace sockparity::testing

// ASSERT_OK_AND_ASSIGN-style unwrapping for StatusOr in tests.
#define SP_ASSERT_OK_AND_ASSIGN(lhs, expr) \
  SP_ASSERT_OK_AND_ASSIGN_IMPL(SP_CONCAT(status_or_, __LINE__), lhs, expr)
#define SP_ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  ASSERT_TRUE(tmp.ok()) << tmp.status();             \
  lhs = std::move(*tmp)
#define SP_CONCAT(a, b) SP_CONCAT_IMPL(a, b)
#define SP_CONCAT_IMPL(a, b) a##b

#endif  // SOCKPARITY_TESTS_TEST_UTIL_H_
