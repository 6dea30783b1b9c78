// Cases 6.x: either side ends the connection, in order or at once.
#include <sys/socket.h>

#include <algorithm>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "check/case_helpers.h"
#include "check/case_table.h"
#include "check/stall_watch.h"
#include "sockparity/check/peer_contract.h"
#include "sockparity/net/io.h"

namespace sockparity::internal {
namespace {

constexpr char kFrames[] = "docs/SUT_CONTRACT.md#frames";
constexpr char kPeerVanishes[] =
    "A peer that resets, or vanishes while the SUT writes, never stops the "
    "SUT: no crash, no SIGPIPE death, other connections unaffected";
// send(2): EPIPE (and SIGPIPE without MSG_NOSIGNAL), ECONNRESET.
constexpr char kSend[] = "https://man7.org/linux/man-pages/man2/send.2.html";

// After the client vanished mid-reply: waits until the server has let go
// of that connection (its descriptor count is back to `before`) or has
// died or sits idle in the kernel, then fails the case if it died. Any of
// these ends the wait; only the deadline bounds it, so the verdict does
// not depend on timing.
void ExpectServerSurvives(Context& c, int before) {
  SutProcess* server = c.link().server();
  if (server == nullptr) return;
  // Released within kReleaseWithin, or it will not be: either way, what is
  // judged is whether it survived.
  const absl::Time deadline =
      absl::Now() + std::min(c.timeout(), kReleaseWithin);
  // A server idle in the kernel that still holds the connection is not
  // going to die of it: no point waiting longer.
  IdleWatch idle(server->pid(), c.options().stalled_after);
  absl::Duration pause = absl::Milliseconds(1);
  while (!server->Poll() && OpenDescriptorsOf(server->pid()) > before &&
         absl::Now() < deadline && !idle.Look()) {
    absl::SleepFor(pause);  // pacing re-checks, bounded by the deadline
    pause = std::min(pause * 2, absl::Milliseconds(20));
  }
  if (std::optional<SutExit> exit = server->Poll()) {
    c.Fail("the server to survive a client that vanished mid-reply",
           absl::StrCat("it ended: ", exit->Describe()));
  }
}

// The client asks for a 16 MiB reply, reads a little of it and closes (or
// resets): the server must let go of the connection and go on serving.
void ClientLeavesMidReply(Context& c, bool reset) {
  const int before =
      c.link().server() ? OpenDescriptorsOf(c.link().server()->pid()) : 0;
  {
    std::optional<Socket> s = c.Connect();
    if (!s || !c.Send(*s, ContractFrame(BulkRequest(kContractMaxFrame - 1))))
      return;
    // Waited for as any reply is (a stalled or ended server ends the wait).
    if (absl::StatusOr<Bytes> first = c.Receive(*s, 1000); !first.ok()) {
      c.Fail("the start of the 16 MiB reply",
             std::string(first.status().message()));
      return;
    }
    if (reset) {
      linger abort{1, 0};
      ::setsockopt(s->fd(), SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
    }
  }
  ExpectServerSurvives(c, before);
  if (!c.failed()) c.StillServes();
}

}  // namespace

void AddCloseCases(CaseTable& table) {
  table.Add({
      .info = {.id = "6.1",
               .name = "close/C",
               .description =
                   "C: replies to earlier requests, then the server closes",
               .clause = "C: after the replies to all earlier requests, the "
                         "SUT closes the connection",
               .reference = kFrames},
      .play =
          [](Context& c) {
            std::optional<Socket> s = c.Connect();
            if (!s) return;
            // Nothing after C: what the client sees after bytes the server
            // never read is 6.5's question.
            Bytes stream = ContractFrame("Ebefore");
            Append(stream, ContractFrame("C"));
            if (c.Send(*s, stream) && c.ExpectFrame(*s, ToBytes("Ebefore")))
              c.ExpectEnd(*s);
          },
  });
  table.Add({
      .info = {.id = "6.2",
               .name = "close/A",
               .description =
                   "A: the server aborts; the client sees what the registry "
                   "documents for its family (a reset on TCP, end of stream "
                   "on UNIX sockets)",
               .clause = "A: the SUT aborts the connection at once, replying "
                         "to nothing still pending (on TCP: SO_LINGER {on, 0} "
                         "then close, so the peer sees a reset)",
               .reference =
                   "https://man7.org/linux/man-pages/man7/socket.7.html"},
      .context = {"abort"},
      .play =
          [](Context& c) {
            std::optional<Socket> s = c.Connect();
            if (s && c.Send(*s, ContractFrame("A")))
              c.ExpectEndAsRegistered(*s, "linger_zero_resets_only_tcp");
          },
  });
  table.Add({
      .info = {.id = "6.3",
               .name = "close/client-closes-mid-reply",
               .description =
                   "the client closes during a 16 MiB reply; the server goes "
                   "on",
               .clause = kPeerVanishes,
               .reference = kSend},
      .need = TransportNeed::kManyConnections,
      .play = [](Context& c) { ClientLeavesMidReply(c, /*reset=*/false); },
  });
  table.Add({
      .info = {.id = "6.4",
               .name = "close/client-resets-mid-reply",
               .description =
                   "the client resets during a 16 MiB reply; the server goes "
                   "on",
               .clause = kPeerVanishes,
               .reference = kSend},
      .need = TransportNeed::kManyConnections,
      .play = [](Context& c) { ClientLeavesMidReply(c, /*reset=*/true); },
  });
  table.Add({
      .info = {.id = "6.5",
               .name = "close/C-then-more",
               .description =
                   "C followed by another request: the reply before C, no "
                   "reply after it, then end of stream or a reset (bytes the "
                   "server never read may reset the connection on every "
                   "transport)",
               .clause = "What a client must accept: bytes it sent after a "
                         "frame that ends the connection may still be unread "
                         "when the SUT closes, and Linux then resets the "
                         "connection on every transport",
               // A close with unread data sends a reset.
               .reference =
                   "https://www.rfc-editor.org/rfc/rfc1122#section-4.2.2.13"},
      .play =
          [](Context& c) {
            std::optional<Socket> s = c.Connect();
            if (!s) return;
            Bytes stream = ContractFrame("Ebefore");
            Append(stream, ContractFrame("C"));
            const size_t through_c = stream.size();
            Append(stream, ContractFrame("Eafter"));
            if (!c.SendUntilClosed(*s, stream, through_c) ||
                !c.ExpectFrame(*s, ToBytes("Ebefore"))) {
              return;
            }
            std::optional<std::string> end = c.End(*s);
            if (!end) return;
            c.Record("recv", "closed");
            if (*end != "eof" && *end != "ECONNRESET")
              c.Fail("end of stream or ECONNRESET", *end);
          },
  });
}

}  // namespace sockparity::internal
