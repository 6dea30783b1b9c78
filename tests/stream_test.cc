// Stream behaviour every transport kind must share, written once and
// instantiated over all kinds.
#include <poll.h>
#include <sys/socket.h>

#include <thread>

#include "sockparity/net/hygiene.h"
#include "sockparity/net/io.h"
#include "sockparity/net/socket.h"
#include "test_util.h"

namespace sockparity::testing {
namespace {

using ::testing::HasSubstr;

class StreamTest : public AllKindsTest {};

TEST_P(StreamTest, OneByteBothWays) {
  SP_ASSERT_OK_AND_ASSIGN(SocketPair pair, MakeConnectedPair(kind()));
  const Bytes a_to_b = {0x5a};
  const Bytes b_to_a = {0xa5};
  ASSERT_THAT(SendAll(pair.a, a_to_b), IsOk());
  ASSERT_THAT(SendAll(pair.b, b_to_a), IsOk());
  SP_ASSERT_OK_AND_ASSIGN(Bytes at_b, RecvExactly(pair.b, 1));
  SP_ASSERT_OK_AND_ASSIGN(Bytes at_a, RecvExactly(pair.a, 1));
  EXPECT_EQ(at_b, a_to_b);
  EXPECT_EQ(at_a, b_to_a);
}

// Both directions at once, each far larger than any socket buffer: neither
// side can finish sending before the other reads.
TEST_P(StreamTest, EightMiBBothWaysAtOnce) {
  constexpr size_t kSize = size_t{8} << 20;
  SP_ASSERT_OK_AND_ASSIGN(SocketPair pair, MakeConnectedPair(kind()));
  const Bytes a_to_b = Pattern(kSize, 1);
  const Bytes b_to_a = Pattern(kSize, 2);
  const absl::Duration timeout = absl::Seconds(30);
  absl::Status sent_a, sent_b;
  absl::StatusOr<Bytes> got_a, got_b;
  std::thread send_a([&] { sent_a = SendAll(pair.a, a_to_b, timeout); });
  std::thread send_b([&] { sent_b = SendAll(pair.b, b_to_a, timeout); });
  std::thread recv_b([&] { got_b = RecvExactly(pair.b, kSize, timeout); });
  got_a = RecvExactly(pair.a, kSize, timeout);
  send_a.join();
  send_b.join();
  recv_b.join();
  ASSERT_THAT(sent_a, IsOk());
  ASSERT_THAT(sent_b, IsOk());
  ASSERT_TRUE(got_a.ok()) << got_a.status();
  ASSERT_TRUE(got_b.ok()) << got_b.status();
  EXPECT_TRUE(*got_b == a_to_b) << "a->b stream differs";
  EXPECT_TRUE(*got_a == b_to_a) << "b->a stream differs";
}

TEST_P(StreamTest, HalfCloseThenReply) {
  SP_ASSERT_OK_AND_ASSIGN(SocketPair pair, MakeConnectedPair(kind()));
  ASSERT_THAT(SendAll(pair.a, ToBytes("request")), IsOk());
  ASSERT_THAT(Shutdown(pair.a, SHUT_WR), IsOk());
  SP_ASSERT_OK_AND_ASSIGN(Bytes request, RecvUntilEof(pair.b));
  EXPECT_EQ(request, ToBytes("request"));
  // The half-closed side still receives.
  ASSERT_THAT(SendAll(pair.b, ToBytes("reply")), IsOk());
  ASSERT_THAT(pair.b.Close(), IsOk());
  SP_ASSERT_OK_AND_ASSIGN(Bytes reply, RecvUntilEof(pair.a));
  EXPECT_EQ(reply, ToBytes("reply"));
}

TEST_P(StreamTest, EndOfStreamAfterPeerCloses) {
  SP_ASSERT_OK_AND_ASSIGN(SocketPair pair, MakeConnectedPair(kind()));
  ASSERT_THAT(SendAll(pair.a, ToBytes("last words")), IsOk());
  ASSERT_THAT(pair.a.Close(), IsOk());
  SP_ASSERT_OK_AND_ASSIGN(Bytes data, RecvUntilEof(pair.b));
  EXPECT_EQ(data, ToBytes("last words"));
  // End of stream stays end of stream.
  SP_ASSERT_OK_AND_ASSIGN(Bytes again, RecvSome(pair.b, 16));
  EXPECT_TRUE(again.empty());
  absl::StatusOr<Bytes> exact = RecvExactly(pair.b, 1);
  EXPECT_THAT(exact.status(), HasCode(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(exact.status().message(), HasSubstr("end of stream"));
}

// Closing with unread data tells the peer the data was lost: the next call
// on the peer fails with ECONNRESET (tcp(7): RST on close with unread
// data; net/unix/af_unix.c unix_release_sock sets the peer's ECONNRESET).
TEST_P(StreamTest, CloseWithUnreadDataResetsPeer) {
  SP_ASSERT_OK_AND_ASSIGN(SocketPair pair, MakeConnectedPair(kind()));
  ASSERT_THAT(SendAll(pair.a, Pattern(1000, 3)), IsOk());
  // Wait until b has the data queued, so the close finds it unread.
  SP_ASSERT_OK_AND_ASSIGN(short revents, WaitForEvents(pair.b, POLLIN));
  ASSERT_TRUE(revents & POLLIN);
  ASSERT_THAT(pair.b.Close(), IsOk());
  SP_ASSERT_OK_AND_ASSIGN(revents, WaitForEvents(pair.a, POLLIN));
  absl::StatusOr<Bytes> got = RecvSome(pair.a, 16);
  EXPECT_THAT(got.status(), FailsWithErrno(ECONNRESET));
  EXPECT_THAT(got.status().message(), HasSubstr("ECONNRESET"));
  EXPECT_THAT(got.status().message(), HasSubstr(TransportName(kind())));
}

// MSG_NOSIGNAL: a vanished peer is an error status, never SIGPIPE.
TEST_P(StreamTest, SendAfterPeerClosedFailsWithoutSignal) {
  SP_ASSERT_OK_AND_ASSIGN(SocketPair pair, MakeConnectedPair(kind()));
  ASSERT_THAT(pair.b.Close(), IsOk());
  // TCP may accept a first write before the peer's RST comes back, so send
  // until the error arrives, bounded in bytes and time.
  absl::Status status;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  for (int i = 0; i < 1000 && status.ok() && absl::Now() < deadline; ++i) {
    status = SendAll(pair.a, Pattern(100, 4), absl::Seconds(1));
  }
  ASSERT_FALSE(status.ok());
  std::optional<int> error = ErrnoOf(status);
  ASSERT_TRUE(error.has_value()) << status;
  EXPECT_TRUE(*error == EPIPE || *error == ECONNRESET) << status;
  EXPECT_THAT(status.message(), HasSubstr(ErrnoName(*error)));
}

TEST_P(StreamTest, RecvFromSilentPeerTimesOut) {
  SP_ASSERT_OK_AND_ASSIGN(SocketPair pair, MakeConnectedPair(kind()));
  ASSERT_THAT(SendAll(pair.a, ToBytes("abc")), IsOk());
  const absl::Time start = absl::Now();
  absl::StatusOr<Bytes> got = RecvExactly(pair.b, 10, absl::Milliseconds(100));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(100));
  EXPECT_THAT(got.status(), HasCode(absl::StatusCode::kDeadlineExceeded));
  EXPECT_THAT(got.status().message(), HasSubstr("3 of 10 bytes received"));
  EXPECT_THAT(got.status().message(), HasSubstr(TransportName(kind())));
}

TEST_P(StreamTest, SendToPeerThatDoesNotReadTimesOut) {
  SP_ASSERT_OK_AND_ASSIGN(SocketPair pair, MakeConnectedPair(kind()));
  // Larger than the most any loopback socket buffers, sender and receiver.
  const Bytes big = Pattern(size_t{64} << 20, 5);
  absl::Status status = SendAll(pair.a, big, absl::Milliseconds(200));
  EXPECT_THAT(status, HasCode(absl::StatusCode::kDeadlineExceeded));
  EXPECT_THAT(status.message(), HasSubstr("bytes sent"));
}

TEST_P(StreamTest, WaitForEventsReportsReadable) {
  SP_ASSERT_OK_AND_ASSIGN(SocketPair pair, MakeConnectedPair(kind()));
  absl::StatusOr<short> idle =
      WaitForEvents(pair.b, POLLIN, absl::Milliseconds(20));
  EXPECT_THAT(idle.status(), HasCode(absl::StatusCode::kDeadlineExceeded));
  ASSERT_THAT(SendAll(pair.a, ToBytes("x")), IsOk());
  SP_ASSERT_OK_AND_ASSIGN(short revents, WaitForEvents(pair.b, POLLIN));
  EXPECT_EQ(revents & (POLLIN | POLLHUP | POLLERR), POLLIN);
}

TEST_P(StreamTest, PairsMadeAndTornDownThousandTimesLeakNothing) {
  const ResourceSnapshot before = TakeResourceSnapshot();
  for (int i = 0; i < 1000; ++i) {
    SP_ASSERT_OK_AND_ASSIGN(SocketPair pair, MakeConnectedPair(kind()));
    const Bytes one = {static_cast<uint8_t>(i)};
    ASSERT_THAT(SendAll(pair.a, one), IsOk());
    SP_ASSERT_OK_AND_ASSIGN(Bytes got, RecvExactly(pair.b, 1));
    ASSERT_EQ(got, one) << "pair " << i;
  }
  EXPECT_THAT(WaitForNoResourceLeaks(before), ::testing::IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(AllKinds, StreamTest,
                         ::testing::ValuesIn(kAllTransportKinds),
                         KindTestName());

}  // namespace
}  // namespace sockparity::testing
