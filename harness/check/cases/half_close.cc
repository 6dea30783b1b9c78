// Cases 5.x: one direction ends while the other goes on.
#include <sys/socket.h>

#include <optional>

#include "check/case_helpers.h"
#include "check/case_table.h"
#include "sockparity/check/peer_contract.h"
#include "sockparity/net/io.h"

namespace sockparity::internal {
namespace {

constexpr char kShutdown[] =
    "https://man7.org/linux/man-pages/man2/shutdown.2.html";

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
}

}  // namespace sockparity::internal
