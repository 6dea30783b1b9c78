// Cases 11.x: a connection the client ended, however it ended, is released
// (the server's count and its descriptor), and the server goes back to
// waiting in the kernel. Real libraries have missed a reset, a reset after
// a FIN, or a peer's hang-up with replies still queued, and kept the
// descriptor or spun on it.
#include <sys/socket.h>

#include <optional>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "check/case_helpers.h"
#include "check/case_table.h"
#include "check/sock_diag.h"
#include "sockparity/check/peer_contract.h"
#include "sockparity/net/io.h"

namespace sockparity::internal {
namespace {

constexpr char kResetNeverNoticed[] =
    "https://github.com/libuv/libuv/issues/3449";
constexpr char kSpinAfterHangup[] =
    "https://github.com/apple/swift-nio/issues/277";
constexpr char kUnreadReplies[] =
    "https://man7.org/linux/man-pages/man7/tcp.7.html";


// SO_LINGER {1, 0}: close(2) resets a TCP connection instead of a FIN.
void ResetOnClose(const Socket& s) {
  linger abort{1, 0};
  ::setsockopt(s.fd(), SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
}

// Plays `end` on a connection X while another connection Y watches: then
// X must be released and the server idle.
// `held`: the client ended X with requests the server may still hold for
// the contract's reply window before it sees the end; release is due 1 s
// after that.
void Released(Context& c, absl::string_view how,
              const std::function<void(Context&, Socket)>& end,
              bool held_requests = false) {
  const std::optional<pid_t> pid = c.link().ServerPid();
  std::optional<Socket> watcher = c.Connect();
  if (!pid || !watcher || !CountComesToOne(c, *watcher, "before the case"))
    return;
  std::optional<Socket> x = c.Connect();
  if (!x || !c.Send(*x, ContractFrame("Eheld")) ||
      !c.ExpectFrame(*x, ToBytes("Eheld"))) {
    return;
  }
  // The server's end of X, to see its descriptor go.
  absl::StatusOr<uint64_t> inode = PeerSocketInode(*x);
  if (!inode.ok()) {
    c.Log(absl::StrCat("(the server's socket cannot be found: ",
                       inode.status().message(), "; judging by N alone)"));
  }
  end(c, std::move(*x));
  if (c.failed()) return;
  const absl::Time ended = absl::Now();
  const absl::Duration within =
      kReleaseWithin +
      (held_requests ? kContractReplyWindow : absl::ZeroDuration());
  std::string count;
  bool held = true;
  while (true) {
    // Judged by when N was asked: its reply may itself be held.
    const absl::Time asked = absl::Now();
    if (!c.Send(*watcher, ContractFrame("N"))) return;
    std::optional<Bytes> reply = c.ReadFrame(*watcher, /*recorded=*/false);
    if (!reply) return;
    count = Show(*reply);
    held = inode.ok() && SocketInodesHeldBy(*pid).count(*inode) > 0;
    if (*reply == ToBytes("N1") && !held) break;
    if (asked - ended > within) {
      // A connection never released is often spun on too: say both.
      std::optional<std::string> busy = BusyLoopSeen(*pid);
      c.Fail(absl::StrCat("the connection released within 1 s (judged at ",
                          absl::FormatDuration(within), ") after ",
                          how, ": N1 on another connection and its "
                          "descriptor closed"),
             absl::StrCat(count,
                          held ? absl::StrCat(", and the server still holds "
                                              "a descriptor of its socket "
                                              "(inode ",
                                              *inode, ")")
                               : "",
                          busy ? absl::StrCat("; and ", *busy) : ""));
      return;
    }
    absl::SleepFor(absl::Milliseconds(10));  // pacing the next question
  }
  c.Log(absl::StrCat("released after ",
                     absl::FormatDuration(absl::Now() - ended)));
  c.Record("released", "yes");
  ExpectIdle(c, *pid, absl::StrCat("after ", how));
}

}  // namespace

void AddReleaseCases(CaseTable& table) {
  table.Add({
      .info = {.id = "11.1",
               .name = "release/close",
               .description = "after the client's close: released within 1 s, "
                              "then idle",
               .clause = "A connection the client closed or reset is "
                         "released within 1 s ... An idle SUT waits in the "
                         "kernel",
               .reference = kSpinAfterHangup},
      .need = TransportNeed::kManyConnections,
      .play =
          [](Context& c) {
            Released(c, "the client's close", [](Context&, Socket) {});
          },
  });
  table.Add({
      .info = {.id = "11.2",
               .name = "release/reset",
               .description =
                   "after the client's close with SO_LINGER {1, 0} (a reset "
                   "on TCP): released within 1 s, then idle",
               .clause = "A connection the client closed or reset is "
                         "released within 1 s",
               .reference = kResetNeverNoticed},
      .need = TransportNeed::kManyConnections,
      .play =
          [](Context& c) {
            Released(c, "the client's reset",
                     [](Context&, Socket x) { ResetOnClose(x); });
          },
  });
  table.Add({
      .info = {.id = "11.3",
               .name = "release/reset-after-fin",
               .description =
                   "a reply in flight, the client's SHUT_WR, then its reset: "
                   "released within 1 s, then idle",
               .clause = "A connection the client closed or reset is "
                         "released within 1 s ... also after peers closed, "
                         "reset or half-closed their connections",
               .reference = kResetNeverNoticed},
      .need = TransportNeed::kManyConnections,
      .play =
          [](Context& c) {
            Released(c, "the client's FIN, then its reset",
                     [](Context& c, Socket x) {
                       if (!c.Send(x, ContractFrame(BulkRequest((16u << 20) - 1))))
                         return;
                       absl::StatusOr<Bytes> part = c.Receive(x, 64 << 10);
                       if (!part.ok()) {
                         c.Fail("the start of the B reply",
                                std::string(part.status().message()));
                         return;
                       }
                       c.Log("< 65536 bytes of the B reply");
                       (void)Shutdown(x, SHUT_WR);
                       c.Log("shutdown(SHUT_WR)");
                       // Pacing: the FIN reaches the server before the
                       // reset.
                       absl::SleepFor(absl::Milliseconds(50));
                       ResetOnClose(x);
                       c.Log("close with SO_LINGER {1, 0}, reply unread");
                     });
          },
  });
  table.Add({
      .info = {.id = "11.4",
               .name = "release/close-unread-replies",
               .description =
                   "the client closes with 8 MiB of replies unread: released "
                   "within 1 s, then idle",
               .clause = "A peer that resets, or vanishes while the SUT "
                         "writes, never stops the SUT ... released within 1 s",
               .reference = kUnreadReplies},
      .need = TransportNeed::kManyConnections,
      .play =
          [](Context& c) {
            Released(c, "the client's close with replies unread",
                     [](Context& c, Socket x) {
                       Bytes requests;
                       for (int i = 0; i < 8; ++i)
                         Append(requests,
                                ContractFrame(BulkRequest(1u << 20)));
                       c.Send(x, requests);
                       c.Log("close, replies unread");
                     },
                     /*held_requests=*/true);
          },
  });
}

}  // namespace sockparity::internal
