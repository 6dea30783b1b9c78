#include "check/client/held_sockets.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "check/sock_diag.h"

namespace sockparity::internal {

void ExpectNothingHeld(ClientContext& c) {
  SutProcess* client = c.client();
  if (client == nullptr) return;
  const std::optional<uint64_t> inode = c.client_socket();
  if (!inode) {
    c.CannotJudge("the client's socket could not be found (sock_diag)");
    return;
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(2);
  while (true) {
    if (std::optional<SutExit> exit = client->Poll()) {
      c.Fail(
          "the client to wait for SIGTERM after its end line, so what it "
          "holds can be seen (docs/CLIENT_CONTRACT.md)",
          absl::StrCat("it ended by itself (", exit->Describe(), ")"));
      return;
    }
    if (SocketInodesHeldBy(client->pid()).count(*inode) == 0) {
      c.Log("after the end line: the client's socket is closed");
      // Across transports, what this judges: not the end's lines.
      c.RecordOnly({"socket closed"});
      return;
    }
    if (absl::Now() >= deadline) break;
    absl::SleepFor(absl::Milliseconds(10));  // polling, bounded above
  }
  c.Fail("the client to close its socket within 2 s of its end line",
         absl::StrCat("still held: socket inode ", *inode,
                      " is open in the client"));
}

}  // namespace sockparity::internal
