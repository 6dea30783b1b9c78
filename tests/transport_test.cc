// Transport kinds, their names and families; errno-named statuses.
#include "sockparity/net/transport.h"

#include "sockparity/net/errors.h"
#include "test_util.h"

namespace sockparity::testing {
namespace {

using ::testing::HasSubstr;

TEST(TransportKindTest, NamesRoundTrip) {
  for (TransportKind kind : kAllTransportKinds) {
    SP_ASSERT_OK_AND_ASSIGN(TransportKind parsed,
                            ParseTransportKind(TransportName(kind)));
    EXPECT_EQ(parsed, kind);
  }
  EXPECT_EQ(TransportName(TransportKind::kUnixAbstract), "unix-abstract");
  EXPECT_EQ(TransportTestName(TransportKind::kUnixAbstract), "unix_abstract");
}

TEST(TransportKindTest, UnknownNameListsTheKnownOnes) {
  absl::StatusOr<TransportKind> parsed = ParseTransportKind("tcp5");
  EXPECT_THAT(parsed.status(), HasCode(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(parsed.status().message(), HasSubstr("'tcp5'"));
  EXPECT_THAT(parsed.status().message(),
              HasSubstr("socketpair, unix, unix-abstract, tcp4, tcp6"));
}

TEST(TransportKindTest, FamiliesAndAddresses) {
  EXPECT_EQ(FamilyOf(TransportKind::kSocketpair), Family::kUnix);
  EXPECT_EQ(FamilyOf(TransportKind::kUnixPath), Family::kUnix);
  EXPECT_EQ(FamilyOf(TransportKind::kUnixAbstract), Family::kUnix);
  EXPECT_EQ(FamilyOf(TransportKind::kTcp4), Family::kTcp);
  EXPECT_EQ(FamilyOf(TransportKind::kTcp6), Family::kTcp);
  EXPECT_FALSE(HasAddress(TransportKind::kSocketpair));
  EXPECT_TRUE(HasAddress(TransportKind::kTcp6));
  EXPECT_EQ(FamilyName(Family::kTcp), "tcp");
}

TEST(ErrnoStatusTest, NamesCallPlaceAndErrno) {
  absl::Status status = ErrnoStatus(EPIPE, "send", "tcp4 (fd 7)");
  EXPECT_EQ(status.message(), "send on tcp4 (fd 7): EPIPE (Broken pipe)");
  EXPECT_EQ(ErrnoOf(status), EPIPE);
  EXPECT_EQ(ErrnoOf(absl::InternalError("no errno")), std::nullopt);
  EXPECT_EQ(ErrnoOf(absl::OkStatus()), std::nullopt);
  EXPECT_EQ(ErrnoName(ECONNRESET), "ECONNRESET");
  EXPECT_EQ(ErrnoName(98765), "errno 98765");
  EXPECT_THAT(ErrnoStatus(98765, "x", "y").message(), HasSubstr("errno 98765"));
}

}  // namespace
}  // namespace sockparity::testing
