// Write a GoogleTest body once and run it on every transport kind:
//
//   class MyConnectionTest : public sockparity::testing::TransportTest {};
//   TEST_P(MyConnectionTest, EchoesWhatItGets) {
//     auto pair = MakePair();      // connected sockets of kind()
//     ASSERT_TRUE(pair.ok()) << pair.status();
//     ...
//   }
//   SOCKPARITY_INSTANTIATE_ON_ALL_TRANSPORTS(MyConnectionTest);
//
// The tests are named MyConnectionTest.EchoesWhatItGets/tcp4 and so on; a
// kind this machine lacks (tcp6 without IPv6) is skipped with the reason.
// Link sockparity::gtest_main (or call InstallHygieneListener in your main)
// to fail tests that leave descriptors, threads or files behind.
#ifndef SOCKPARITY_TESTING_GTEST_TRANSPORTS_H_
#define SOCKPARITY_TESTING_GTEST_TRANSPORTS_H_

#include <string>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "sockparity/net/socket.h"
#include "sockparity/net/transport.h"

namespace sockparity::testing {

class TransportTest : public ::testing::TestWithParam<TransportKind> {
 protected:
  void SetUp() override {
    if (absl::Status available = TransportAvailability(GetParam());
        !available.ok()) {
      GTEST_SKIP() << available.message();
    }
  }
  TransportKind kind() const { return GetParam(); }
  absl::StatusOr<SocketPair> MakePair() const {
    return MakeConnectedPair(GetParam());
  }
};

// "tcp4", "unix_abstract"...: the kind as a test-name suffix.
struct TransportTestNamer {
  std::string operator()(
      const ::testing::TestParamInfo<TransportKind>& info) const {
    return std::string(TransportTestName(info.param));
  }
};

}  // namespace sockparity::testing

// Instantiates the TransportTest-based suite `suite` on every kind.
#define SOCKPARITY_INSTANTIATE_ON_ALL_TRANSPORTS(suite)                       \
  INSTANTIATE_TEST_SUITE_P(                                                   \
      AllKinds, suite, ::testing::ValuesIn(::sockparity::kAllTransportKinds), \
      ::sockparity::testing::TransportTestNamer())

#endif  // SOCKPARITY_TESTING_GTEST_TRANSPORTS_H_
