// Listeners and connectors for every kind that has an address.
#include "sockparity/net/listener.h"

#include <poll.h>
#include <sys/stat.h>

#include <filesystem>

#include "sockparity/net/io.h"
#include "test_util.h"

namespace sockparity::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class ListenerTest : public AllKindsTest {};

TEST_P(ListenerTest, EndpointIsWrittenAsThePeerContractWritesIt) {
  SP_ASSERT_OK_AND_ASSIGN(Listener listener, Listener::Open(kind()));
  const std::string address = listener.endpoint().ToString();
  switch (kind()) {
    case TransportKind::kUnixPath:
      EXPECT_THAT(address, StartsWith("unix:/"));
      EXPECT_THAT(address, HasSubstr("/sockparity-"));
      break;
    case TransportKind::kUnixAbstract:
      EXPECT_THAT(address, StartsWith("unix:@sockparity-"));
      break;
    case TransportKind::kTcp4:
      EXPECT_THAT(address, StartsWith("tcp:127.0.0.1:"));
      EXPECT_NE(address, "tcp:127.0.0.1:0");
      break;
    case TransportKind::kTcp6:
      EXPECT_THAT(address, StartsWith("tcp:[::1]:"));
      EXPECT_NE(address, "tcp:[::1]:0");
      break;
    case TransportKind::kSocketpair:
      FAIL() << "socketpair has no listener";
  }
}

TEST_P(ListenerTest, ConnectAcceptAndExchange) {
  SP_ASSERT_OK_AND_ASSIGN(Listener listener, Listener::Open(kind()));
  SP_ASSERT_OK_AND_ASSIGN(Socket client,
                          Connect(listener.endpoint(), absl::Seconds(5)));
  SP_ASSERT_OK_AND_ASSIGN(Socket server, listener.Accept(absl::Seconds(5)));
  EXPECT_EQ(client.kind(), kind());
  EXPECT_EQ(server.kind(), kind());
  ASSERT_THAT(SendAll(client, ToBytes("hello")), IsOk());
  SP_ASSERT_OK_AND_ASSIGN(Bytes got, RecvExactly(server, 5));
  EXPECT_EQ(got, ToBytes("hello"));
  ASSERT_THAT(SendAll(server, ToBytes("world")), IsOk());
  SP_ASSERT_OK_AND_ASSIGN(got, RecvExactly(client, 5));
  EXPECT_EQ(got, ToBytes("world"));
}

TEST_P(ListenerTest, AcceptWithNobodyConnectingTimesOut) {
  SP_ASSERT_OK_AND_ASSIGN(Listener listener, Listener::Open(kind()));
  absl::StatusOr<Socket> accepted = listener.Accept(absl::Milliseconds(50));
  EXPECT_THAT(accepted.status(), HasCode(absl::StatusCode::kDeadlineExceeded));
  EXPECT_THAT(accepted.status().message(), HasSubstr("accept on"));
}

TEST_P(ListenerTest, TwoListenersGetDistinctAddresses) {
  SP_ASSERT_OK_AND_ASSIGN(Listener first, Listener::Open(kind()));
  SP_ASSERT_OK_AND_ASSIGN(Listener second, Listener::Open(kind()));
  EXPECT_NE(first.endpoint().ToString(), second.endpoint().ToString());
}

// What a connect to a closed listener's address reports depends on the
// family and on whether a file is there; the message names the address.
TEST_P(ListenerTest, ConnectWhereNothingListensFailsWithTheErrno) {
  SP_ASSERT_OK_AND_ASSIGN(Listener listener, Listener::Open(kind()));
  const Endpoint endpoint = listener.endpoint();
  ASSERT_THAT(listener.Close(), IsOk());
  absl::StatusOr<Socket> connected = Connect(endpoint, absl::Seconds(5));
  // unix(7): a removed socket file is ENOENT; connect(2): ECONNREFUSED
  // where no one listens on the address.
  const int expected =
      kind() == TransportKind::kUnixPath ? ENOENT : ECONNREFUSED;
  EXPECT_THAT(connected.status(), FailsWithErrno(expected));
  EXPECT_THAT(connected.status().message(),
              HasSubstr("connect to " + endpoint.ToString()));
}

TEST_P(ListenerTest, CloseRemovesSocketFileAndItsDirectory) {
  SP_ASSERT_OK_AND_ASSIGN(Listener listener, Listener::Open(kind()));
  const std::string path(listener.endpoint().path());
  if (kind() != TransportKind::kUnixPath) {
    EXPECT_TRUE(path.empty());
    EXPECT_THAT(listener.Close(), IsOk());
    return;
  }
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_TRUE(S_ISSOCK(info.st_mode));
  ASSERT_EQ(::stat(dir.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u) << "the directory must be private";
  ASSERT_THAT(listener.Close(), IsOk());
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_THAT(listener.Close(), IsOk()) << "Close is idempotent";
}

TEST_P(ListenerTest, MovedListenerKeepsItsSocketFile) {
  SP_ASSERT_OK_AND_ASSIGN(Listener listener, Listener::Open(kind()));
  Listener moved = std::move(listener);
  SP_ASSERT_OK_AND_ASSIGN(Socket client,
                          Connect(moved.endpoint(), absl::Seconds(5)));
  SP_ASSERT_OK_AND_ASSIGN(Socket server, moved.Accept(absl::Seconds(5)));
  EXPECT_TRUE(server.valid());
}

INSTANTIATE_TEST_SUITE_P(AddressKinds, ListenerTest,
                         ::testing::Values(TransportKind::kUnixPath,
                                           TransportKind::kUnixAbstract,
                                           TransportKind::kTcp4,
                                           TransportKind::kTcp6),
                         KindTestName());

TEST(ListenerErrorsTest, SocketpairHasNoListener) {
  absl::StatusOr<Listener> listener =
      Listener::Open(TransportKind::kSocketpair);
  EXPECT_THAT(listener.status(), HasCode(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(listener.status().message(), HasSubstr("socketpair"));
}

TEST(ListenerErrorsTest, OverlongUnixPathIsRefusedWithTheLimit) {
  absl::StatusOr<Endpoint> endpoint =
      Endpoint::UnixPath("/tmp/" + std::string(200, 'a'));
  EXPECT_THAT(endpoint.status(), HasCode(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(endpoint.status().message(), HasSubstr("at most 107"));
  EXPECT_TRUE(Endpoint::UnixPath("/tmp/" + std::string(102, 'a')).ok());
  EXPECT_FALSE(Endpoint::UnixPath("/tmp/" + std::string(103, 'a')).ok());
}

TEST(ListenerErrorsTest, MakeConnectedPairOfEveryKindOrAReason) {
  for (TransportKind kind : kAllTransportKinds) {
    absl::StatusOr<SocketPair> pair = MakeConnectedPair(kind);
    if (pair.ok()) continue;
    // Only a kind this machine lacks may fail, and it says why.
    EXPECT_THAT(pair.status(), HasCode(absl::StatusCode::kUnavailable));
    EXPECT_THAT(pair.status().message(), HasSubstr(TransportName(kind)));
  }
}

}  // namespace
}  // namespace sockparity::testing
