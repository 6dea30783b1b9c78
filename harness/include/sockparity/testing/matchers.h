// GoogleTest matchers for the absl::Status and absl::StatusOr that the
// harness returns, so a failed check prints the status (with its errno
// name) instead of "Value of: ....ok(), Actual: false":
//
//   EXPECT_THAT(sockparity::SendAll(fd, bytes), IsOk());
//   EXPECT_THAT(sockparity::RecvExactly(fd, 4), FailsWithErrno(ECONNRESET));
//   EXPECT_THAT(codec.Decode(bad), HasCode(absl::StatusCode::kDataLoss));
//   SP_ASSERT_OK_AND_ASSIGN(auto pair, MakePair());  // in a TransportTest
//
// Needs gmock: sockparity::testing links GTest::gmock.
#ifndef SOCKPARITY_TESTING_MATCHERS_H_
#define SOCKPARITY_TESTING_MATCHERS_H_

#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sockparity/net/errors.h"

namespace sockparity::testing {
namespace matchers_internal {

// Each matcher takes a Status or a StatusOr: the caller need not write
// .status() to match a result.
inline const absl::Status& StatusOf(const absl::Status& status) {
  return status;
}
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& result) {
  return result.status();
}

}  // namespace matchers_internal

// The status is OK.
MATCHER(IsOk, "is OK") {
  const absl::Status& status = matchers_internal::StatusOf(arg);
  if (status.ok()) return true;
  *result_listener << "status is " << status;
  return false;
}

// The status carries this errno (sockparity's calls keep the errno of the
// system call that failed; see sockparity/net/errors.h).
MATCHER_P(FailsWithErrno, error_number,
          "fails with " + ::sockparity::ErrnoName(error_number)) {
  const absl::Status& status = matchers_internal::StatusOf(arg);
  std::optional<int> seen = ::sockparity::ErrnoOf(status);
  if (seen == error_number) return true;
  *result_listener << "status is " << status;
  return false;
}

// The status has this code.
MATCHER_P(HasCode, code, "has code " + absl::StatusCodeToString(code)) {
  const absl::Status& status = matchers_internal::StatusOf(arg);
  if (status.code() == code) return true;
  *result_listener << "status is " << status;
  return false;
}

}  // namespace sockparity::testing

// Unwraps a StatusOr into `lhs` (a declaration or a variable), or fails the
// test with the status and returns: like ASSERT_*, only in a function that
// returns void.
#define SP_ASSERT_OK_AND_ASSIGN(lhs, expr)                                 \
  SP_ASSERT_OK_AND_ASSIGN_IMPL_(SP_MATCHERS_CONCAT_(status_or_, __LINE__), \
                                lhs, expr)
#define SP_ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  ASSERT_TRUE(tmp.ok()) << tmp.status();              \
  lhs = std::move(*tmp)
#define SP_MATCHERS_CONCAT_(a, b) SP_MATCHERS_CONCAT_IMPL_(a, b)
#define SP_MATCHERS_CONCAT_IMPL_(a, b) a##b

#endif  // SOCKPARITY_TESTING_MATCHERS_H_
