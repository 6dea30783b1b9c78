// Cases 5.x: one direction ends while the other goes on.
#include <sys/socket.h>

#include <optional>

#include "absl/strings/str_cat.h"
#include "check/case_helpers.h"
#include "check/case_table.h"
#include "check/peer_link.h"
#include "check/process_stats.h"
#include "sockparity/check/peer_contract.h"
#include "sockparity/net/errors.h"
#include "sockparity/net/io.h"

namespace sockparity::internal {
namespace {

constexpr char kShutdown[] =
    "https://man7.org/linux/man-pages/man2/shutdown.2.html";
// Half-close taken for a close on UNIX sockets alone.
constexpr char kHalfCloseAsClose[] =
    "https://github.com/oven-sh/bun/issues/33498";
constexpr uint32_t kLarge = 8u << 20;
// The client's receive buffer, fixed. Left to TCP's autotuning it grows
// while the client reads (up to tcp_rmem's maximum, 32 MiB on Debian), and
// whether the whole reply fits in the kernel's buffers, and so whether a
// server that drops its own buffered bytes at the half-close is caught,
// would depend on timing. Setting SO_RCVBUF turns autotuning off for the
// socket (socket(7), tcp(7)): with tcp_wmem's default maximum of 4 MiB the
// kernel holds under 5 MiB of the reply and the server the rest.
constexpr int kClientReceiveBuffer = 256 << 10;

// A B reply larger than the socket buffers (the client's is fixed), the
// client's SHUT_WR after `read_first` bytes of it (0: at once, with the
// request), then the rest.
void LargeReplyThenShutWr(Context& c, size_t read_first) {
  std::optional<Socket> s = c.Connect();
  if (!s) return;
  if (::setsockopt(s->fd(), SOL_SOCKET, SO_RCVBUF, &kClientReceiveBuffer,
                   sizeof(kClientReceiveBuffer)) != 0) {
    c.CannotJudge(absl::StrCat("setsockopt(SO_RCVBUF): ", ErrnoName(errno)));
    return;
  }
  if (!c.Send(*s, ContractFrame(BulkRequest(kLarge)))) return;
  const Bytes want = ContractFrame(BulkReply(kLarge));
  Bytes got;
  if (read_first > 0) {
    absl::StatusOr<Bytes> first = c.Receive(*s, read_first);
    if (!first.ok()) {
      c.Fail(absl::StrCat("the first ", read_first, " bytes of the reply"),
             std::string(first.status().message()));
      return;
    }
    got = std::move(*first);
    c.Log(absl::StrCat("< ", got.size(), " bytes of the reply"));
    // Pacing: the server's writes wait on the client meanwhile.
    absl::SleepFor(absl::Milliseconds(100));
  }
  (void)Shutdown(*s, SHUT_WR);
  c.Log("shutdown(SHUT_WR)");
  if (read_first == 0) {
    // Pacing: the client reads once the server waits for room, holding
    // the part of the reply the kernel could not take. Reading at once,
    // a server that drops its buffered bytes at the half-close passed in
    // the runs where its loop wrote the last byte before it handled the
    // end of stream (Qt, once in 9 runs).
    if (std::optional<pid_t> pid = c.link().ServerPid()) {
      const IdleResult idle =
          WaitUntilIdle(*pid, absl::Milliseconds(100), absl::Milliseconds(25),
                        absl::Seconds(3));
      c.Log(idle.idle ? "the server waits in the kernel"
                      : "the server did not wait in the kernel within 3 s");
    }
  }
  c.Stage(read_first > 0 ? "after the client's SHUT_WR, mid-reply"
                         : "after the client's SHUT_WR");
  absl::StatusOr<Bytes> rest = c.ReceiveUntilEnd(*s, want.size() + 1);
  if (!rest.ok()) {
    c.Fail(absl::StrCat("the rest of the ", want.size(),
                        "-byte reply frame, then end of stream"),
           absl::IsDeadlineExceeded(rest.status())
               ? std::string("nothing more (timed out)")
           : absl::IsAborted(rest.status())
               ? absl::StrCat("nothing more (", rest.status().message(), ")")
               : std::string(rest.status().message()));
    return;
  }
  Append(got, *rest);
  c.Log(absl::StrCat("< ", rest->size(), " bytes, then end of stream"));
  c.Record("recv", absl::StrCat(got.size(), " bytes, eof"));
  if (got != want) {
    size_t same = 0;
    while (same < got.size() && same < want.size() && got[same] == want[same])
      ++same;
    c.Fail(absl::StrCat("the whole ", want.size(),
                        "-byte reply frame, then end of stream"),
           got.size() < want.size() && same == got.size()
               ? absl::StrCat("end of stream after ", got.size(),
                              " bytes: the reply was cut short")
               : absl::StrCat(got.size(), " bytes, differing at byte ", same));
  }
}

}  // namespace

void AddHalfCloseCases(CaseTable& table) {
  table.Add({
      .info = {.id = "5.1",
               .name = "half-close/client-shut-wr",
               .description =
                   "after the client's SHUT_WR: every reply, then end of "
                   "stream",
               .clause = "the client's half-close (SHUT_WR) is not a close, "
                         "and replies still being produced or written when it "
                         "arrives are still delivered",
               .reference = kShutdown},
      .play =
          [](Context& c) {
            std::optional<Socket> s = c.Connect();
            if (!s) return;
            Bytes stream = ContractFrame("E1");
            Append(stream, ContractFrame("E2"));
            Append(stream, ContractFrame("E3"));
            if (!c.Send(*s, stream)) return;
            (void)Shutdown(*s, SHUT_WR);
            for (const char* want : {"E1", "E2", "E3"}) {
              if (!c.ExpectFrame(*s, ToBytes(want))) return;
            }
            c.ExpectEnd(*s);
          },
  });
  table.Add({
      .info = {.id = "5.2",
               .name = "half-close/S",
               .description = "S: replies to earlier requests, then the "
                              "server's end of stream",
               .clause = "S: after the replies to all earlier requests, the "
                         "SUT shuts down its sending side (half-close)",
               .reference = kShutdown},
      .play =
          [](Context& c) {
            std::optional<Socket> s = c.Connect();
            if (!s) return;
            Bytes stream = ContractFrame("Ebefore");
            Append(stream, ContractFrame("S"));
            Append(stream, ContractFrame("Eafter"));
            if (!c.Send(*s, stream)) return;
            if (!c.ExpectFrame(*s, ToBytes("Ebefore"))) return;
            c.ExpectEnd(*s);
          },
  });
  table.Add({
      .info = {.id = "5.3",
               .name = "half-close/large-reply-at-once",
               .description =
                   "an 8 MiB B reply, the client's SHUT_WR right after the "
                   "request, its reads once the server waits for room: the "
                   "whole reply, then end of stream",
               .clause = "the client's half-close (SHUT_WR) is not a close, "
                         "and replies still being produced or written when it "
                         "arrives are still delivered",
               .reference = kHalfCloseAsClose},
      .play = [](Context& c) { LargeReplyThenShutWr(c, 0); },
  });
  table.Add({
      .info = {.id = "5.4",
               .name = "half-close/large-reply-after-pause",
               .description =
                   "an 8 MiB B reply, the client's SHUT_WR after reading 1 "
                   "MiB of it and a pause: the rest, then end of stream",
               .clause = "the client's half-close (SHUT_WR) is not a close, "
                         "and replies still being produced or written when it "
                         "arrives are still delivered",
               .reference = kHalfCloseAsClose},
      .play = [](Context& c) { LargeReplyThenShutWr(c, 1u << 20); },
  });
}

}  // namespace sockparity::internal
