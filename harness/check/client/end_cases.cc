// Client cases c3.x and c4.x: how the server ends the connection, and what
// the client holds and does meanwhile.
#include <signal.h>
#include <unistd.h>

#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "check/client/client_cases.h"
#include "check/client/client_serve.h"
#include "check/client/held_sockets.h"
#include "check/client/held_still.h"
#include "sockparity/check/peer_contract.h"

namespace sockparity::internal {
namespace {

// Linux resets a connection closed with data unread, on UNIX sockets too
// (net/unix/af_unix.c, unix_release_sock: ECONNRESET to the peer; TCP:
// RFC 2525 2.17, tcp_close).
constexpr char kUnreadReset[] =
    "https://github.com/torvalds/linux/blob/v6.1/net/unix/af_unix.c";
constexpr char kSigpipe[] =
    "https://man7.org/linux/man-pages/man7/signal.7.html";
constexpr char kClientContract[] = "docs/CLIENT_CONTRACT.md";
// Requests that outgrow the socket buffers: 64 of 128 KiB.
constexpr int kBulkRequests = 64;
constexpr size_t kBulkRequestBytes = 128 << 10;

std::vector<Bytes> BulkRequests() {
  return std::vector<Bytes>(kBulkRequests,
                            EchoRequest(std::string(kBulkRequestBytes, 'r')));
}

// The reset as the library reported it: to a read, ECONNRESET; to a write
// still pending, EPIPE on UNIX sockets (net/unix/af_unix.c,
// unix_stream_sendmsg: the peer's RCV_SHUTDOWN) and on TCP once the reset
// was taken (net/core/stream.c, sk_stream_error). Either says the
// connection broke: recorded as the reset.
void EpipeIsTheReset(ClientContext& c, ClientReport& report) {
  if (!report.end || report.end->kind != ClientEnd::Kind::kError ||
      report.end->error != "EPIPE") {
    return;
  }
  c.Log("'end error EPIPE': the reset, as a write pending met it");
  report.end = ClientEnd{ClientEnd::Kind::kReset, ""};
  report.lines.back() = "end reset";
  c.Record(report);
}

// A whole reply, part of the next, then a reset.
void ResetMidReply(ClientContext& c) {
  const std::vector<Bytes> payloads = {EchoRequest("answered"),
                                       EchoRequest(std::string(1000, 'h')),
                                       EchoRequest("left unread")};
  std::optional<Socket> s = c.Connected(Requests(payloads));
  if (!s) return;
  // Every request in before the hold: no write of the client's is pending
  // when the reset comes (c3.7 is the case of one that is).
  if (!c.ReadRequests(*s, FramedSize({payloads[0], payloads[1]})) ||
      !WaitForUnread(c, *s, FramedSize({payloads[2]}))) {
    return;
  }
  Bytes stream = ContractFrame(payloads[0]);
  const Bytes second = ContractFrame(payloads[1]);
  stream.insert(stream.end(), second.begin(), second.begin() + 504);
  // The replies and the reset reach the client in one wakeup.
  ClientHeldStill still(c, *s);
  if (!c.Send(*s, stream, "a reply and 500 of 1000 bytes of the next")) return;
  WaitUntilDelivered(*s);
  c.CloseWithUnread(*s);
  c.Log("closed with a request unread: a reset");
  still.Release();
  std::optional<ClientReport> report = AwaitEndConnected(c);
  if (!report) return;
  EpipeIsTheReset(c, *report);
  if (report->end && report->end->kind == ClientEnd::Kind::kEofPartial &&
      report->replies.size() == 1 &&
      report->replies[0] ==
          ClientReply{payloads[0].size(), ClientReplyHash(payloads[0])}) {
    c.MissShould("the first reply, then 'end reset'",
                 "the first reply, then 'end eof partial': the reset was "
                 "reported as an end of stream");
    return;
  }
  c.ExpectReport(*report, {payloads[0]}, "reset");
}

// A whole reply, part of the next, then end of stream.
void EofMidReply(ClientContext& c) {
  const std::vector<Bytes> payloads = {EchoRequest("answered"),
                                       EchoRequest(std::string(1000, 'h'))};
  std::optional<Socket> s = c.Connected(Requests(payloads));
  if (!s || !c.ReadRequests(*s, FramedSize(payloads))) return;
  Bytes stream = ContractFrame(payloads[0]);
  const Bytes second = ContractFrame(payloads[1]);
  stream.insert(stream.end(), second.begin(), second.begin() + 504);
  if (!c.Send(*s, stream, "a reply and 500 of 1000 bytes of the next")) return;
  // The end in a wakeup of its own: with the data, whether a read cut short
  // (short-io) hid part of it depended on timing.
  if (!WaitUntilTaken(c, *s)) return;
  (void)s->Close();
  c.Log("closed mid-reply, once the client read what came: end of stream");
  std::optional<ClientReport> report = AwaitEndConnected(c);
  if (!report) return;
  if (report->end && report->end->kind == ClientEnd::Kind::kEof &&
      report->replies.size() == 1 &&
      report->replies[0] ==
          ClientReply{payloads[0].size(), ClientReplyHash(payloads[0])}) {
    c.MissShould("the first reply, then 'end eof partial'",
                 "the first reply, then 'end eof': the cut reply went "
                 "unreported");
    return;
  }
  c.ExpectReport(*report, {payloads[0]}, "eof partial");
}

// Replies, then a reset, while the client still has 8 MiB to write: the
// replies arrived before the reset, and a library that drops what it has
// not read when a write fails loses them (a server's early answer to an
// upload it refuses).
void RepliesWhileWriting(ClientContext& c) {
  const std::vector<Bytes> payloads = BulkRequests();
  const std::vector<Bytes> replies = {EchoRequest("an early answer"),
                                      EchoRequest("and another")};
  std::optional<Socket> s = c.Connected(Requests(payloads));
  if (!s || !c.ReadRequests(*s, FramedSize({payloads[0]}))) return;
  // The replies, the reset and the client's pending write meet in one
  // wakeup: which the library takes first is its own order, every run.
  ClientHeldStill still(c, *s);
  if (!c.Send(*s, Requests(replies), "two replies")) return;
  WaitUntilDelivered(*s);
  if (!WaitForUnread(c, *s)) return;
  c.CloseWithUnread(*s);
  c.Log("closed with requests unread: a reset while the client writes");
  still.Release();
  std::optional<ClientReport> report = AwaitEndConnected(c);
  if (!report) return;
  EpipeIsTheReset(c, *report);
  c.ExpectReport(*report, replies, "reset");
}

// Whole replies, then a close with a request unread: a reset.
void CloseWithRequestsUnread(ClientContext& c, bool check_held) {
  const std::vector<Bytes> payloads = {EchoRequest("one"), EchoRequest("two"),
                                       EchoRequest("never read")};
  std::optional<Socket> s = c.Connected(Requests(payloads));
  if (!s) return;
  // Every request in before the hold: no write of the client's is pending
  // when the reset comes (c3.7 is the case of one that is).
  if (!c.ReadRequests(*s, FramedSize({payloads[0], payloads[1]})) ||
      !WaitForUnread(c, *s, FramedSize({payloads[2]}))) {
    return;
  }
  // The replies and the reset reach the client in one wakeup.
  ClientHeldStill still(c, *s);
  if (!c.Send(*s, Requests({payloads[0], payloads[1]}), "two replies")) return;
  WaitUntilDelivered(*s);
  (void)s->Close();
  c.Log("closed with a request unread: a reset");
  still.Release();
  // c4.2 judges what the client holds after its end, whatever the end
  // (c3.2 judges the end).
  std::optional<ClientReport> report =
      AwaitEndConnected(c, /*keep_end=*/!check_held);
  if (!report) return;
  if (check_held) {
    ExpectNothingHeld(c);
    return;
  }
  EpipeIsTheReset(c, *report);
  c.ExpectReport(*report, {payloads[0], payloads[1]}, "reset");
}

void NoSigpipe(ClientContext& c) {
  const std::vector<Bytes> payloads = BulkRequests();
  std::optional<Socket> s = c.Connected(Requests(payloads));
  if (!s) return;
  // The client's writes fill the buffers and wait; the reset comes then.
  if (!WaitForUnread(c, *s)) return;
  (void)ClientBusy(c.client()->pid(), absl::Seconds(2));
  c.CloseWithUnread(*s);
  c.Log("closed with 8 MiB of requests unread: a reset");
  // Any end: the library may see the reset on a read or a write.
  std::optional<ClientReport> report = AwaitEndConnected(c, /*keep_end=*/false);
  if (report && !report->replies.empty()) {
    c.Fail("no reply", absl::StrCat(report->replies.size(), " replies"));
  }
}

// fd:N whose other end is closed before the client starts: its first
// write meets a peer that is gone, EPIPE and SIGPIPE (unix(7)).
void PeerGoneBeforeRequests(ClientContext& c) {
  if (!c.LaunchConnectedClosed(Requests({EchoRequest("to nobody")}))) return;
  std::optional<ClientReport> report = AwaitEndConnected(c, /*keep_end=*/false);
  if (report && !report->replies.empty()) {
    c.Fail("no reply", absl::StrCat(report->replies.size(), " replies"));
  }
}

void ServerStopsReading(ClientContext& c) {
  const std::vector<Bytes> payloads = BulkRequests();
  std::optional<Socket> s = c.Connected(Requests(payloads));
  if (!s || !WaitForUnread(c, *s)) return;
  c.Log("not reading: the client's writes wait for room");
  if (std::optional<std::string> busy =
          ClientBusy(c.client()->pid(), absl::Seconds(5))) {
    c.Fail("the client to wait in the kernel while the server does not read",
           *busy);
  }
  if (!c.ReadRequests(*s, FramedSize(payloads))) return;
  const Bytes done = EchoRequest("read them all");
  if (!c.Send(*s, ContractFrame(done), "one reply")) return;
  (void)s->Close();
  std::optional<ClientReport> report = AwaitEndConnected(c);
  if (report) c.ExpectReport(*report, {done}, "eof");
}

void EofThenNothingHeld(ClientContext& c) {
  const std::vector<Bytes> payloads = {EchoRequest("then end of stream")};
  std::optional<Socket> s = c.Connected(Requests(payloads));
  if (!s) return;
  ServeEchoThenEnd(c, *s, payloads);
  ExpectNothingHeld(c);
}

}  // namespace

void AddClientEndCases(std::vector<ClientCase>& cases) {
  cases.push_back({
      .info = {.id = "c3.1",
               .name = "end/reset-mid-reply",
               .description = "a reply, half of the next, then a reset: "
                              "the first reply, then 'end reset'",
               .clause = "a reset is reported as one (SHOULD: 'end reset', "
                         "or 'end error EPIPE' from a write it met, not an "
                         "end of stream), and a reply cut short is never "
                         "reported (MUST)",
               .reference = kUnreadReset},
      .play = ResetMidReply,
  });
  cases.push_back({
      .info = {.id = "c3.2",
               .name = "end/close-with-requests-unread",
               .description = "two replies, then a close with a request "
                              "unread: both replies, then 'end reset'",
               .clause = "a close with the client's data unread is a reset "
                         "on every transport, and the client reports it "
                         "as one ('end reset', or 'end error EPIPE' from a "
                         "write it met), after every reply",
               .reference = kUnreadReset},
      .play = [](ClientContext& c) { CloseWithRequestsUnread(c, false); },
  });
  cases.push_back({
      .info = {.id = "c3.3",
               .name = "end/no-sigpipe",
               .description = "a reset while the client still writes 8 MiB "
                              "of requests: an end line, no SIGPIPE death",
               .clause = "the client is never killed by SIGPIPE: a write to "
                         "a reset connection is an error it reports. (On TCP "
                         "the first write after a reset fails with "
                         "ECONNRESET and no signal, net/core/stream.c "
                         "sk_stream_error: only a client that writes again "
                         "meets EPIPE there)",
               .reference = kSigpipe},
      .play = NoSigpipe,
  });
  cases.push_back({
      .info = {.id = "c3.4",
               .name = "end/server-stops-reading",
               .description = "8 MiB of requests the server reads only "
                              "later: the client waits in the kernel",
               .clause = "a client whose writes cannot go on waits in the "
                         "kernel, not in a busy loop, and finishes once the "
                         "server reads",
               .reference = kClientContract},
      .play = ServerStopsReading,
  });
  cases.push_back({
      .info = {.id = "c3.5",
               .name = "end/eof-mid-reply",
               .description = "a reply, half of the next, then end of "
                              "stream: the first reply, then 'end eof "
                              "partial'",
               .clause = "end of stream inside a frame: what arrived of it "
                         "is never reported as a reply (MUST), and the end "
                         "says so (SHOULD: 'end eof partial')",
               .reference = "docs/SUT_CONTRACT.md, \"Ends of a connection\""},
      .play = EofMidReply,
  });
  cases.push_back({
      .info = {.id = "c3.6",
               .name = "end/peer-gone-before-requests",
               .description = "fd:N whose peer closed before the client "
                              "started: an end line, no SIGPIPE death",
               .clause = "the client is never killed by SIGPIPE: its first "
                         "write to a connection whose peer is gone fails "
                         "with EPIPE, an error it reports",
               .reference = kSigpipe},
      .need = ClientNeed::kFd,
      .play = PeerGoneBeforeRequests,
  });
  cases.push_back({
      .info = {.id = "c3.7",
               .name = "end/replies-while-writing",
               .description = "two replies, then a reset while the client "
                              "still writes 8 MiB: both replies, then the "
                              "reset",
               .clause = "what arrived before a reset is delivered: a "
                         "failed write does not drop replies the kernel "
                         "holds for the client ('end reset' or 'end error "
                         "EPIPE' after them)",
               .reference = kUnreadReset},
      .play = RepliesWhileWriting,
  });
  cases.push_back({
      .info = {.id = "c4.1",
               .name = "resources/closed-after-eof",
               .description = "after 'end eof', the client holds its "
                              "socket no more",
               .clause = "after its end line the client closes everything "
                         "it opened (and waits for SIGTERM)",
               .reference = kClientContract},
      .play = EofThenNothingHeld,
  });
  cases.push_back({
      .info = {.id = "c4.2",
               .name = "resources/closed-after-reset",
               .description = "after the end of a connection the server "
                              "reset, the client holds its socket no more",
               .clause = "after its end line the client closes everything "
                         "it opened, on an error path too",
               .reference = kClientContract},
      .play = [](ClientContext& c) { CloseWithRequestsUnread(c, true); },
  });
}

}  // namespace sockparity::internal
