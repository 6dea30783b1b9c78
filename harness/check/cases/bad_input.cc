// Cases 7.x: protocol errors end one connection, never the server.
#include <sys/socket.h>

#include <optional>
#include <random>

#include "check/case_helpers.h"
#include "check/case_table.h"
#include "sockparity/check/peer_contract.h"
#include "sockparity/net/io.h"

namespace sockparity::internal {
namespace {

constexpr char kBadInput[] =
    "docs/SUT_CONTRACT.md#ends-of-a-connection-and-bad-input";

// Bad input ends the connection without a reply. The server may stop
// reading at any byte of it once it can tell (an exact reader stops after
// the header, a greedy one reads all), so the client's own send may meet
// the close; what is checked is what the client then receives.
void BadInput(Context& c, const Bytes& bytes, bool shut_wr) {
  {
    std::optional<Socket> s = c.Connect();
    if (!s) return;
    if (!c.SendUntilClosed(*s, bytes, 0)) return;
    if (shut_wr) (void)Shutdown(*s, SHUT_WR);
    // End of stream or a reset, as the contract allows: recorded alike.
    if (!c.End(*s)) return;
    c.Record("recv", "closed");
  }
  c.StillServes();
}

}  // namespace

void AddBadInputCases(CaseTable& table) {
  table.Add({
      .info = {.id = "7.1",
               .name = "bad-input/zero-length",
               .description = "L = 0 closes the connection without a reply",
               .clause = "L = 0: a protocol error. The SUT closes that "
                         "connection without a reply to the bad frame",
               .reference = kBadInput},
      .need = TransportNeed::kManyConnections,
      .play = [](Context& c) { BadInput(c, LengthHeader(0), false); },
  });
  table.Add({
      .info = {.id = "7.2",
               .name = "bad-input/over-16-MiB",
               .description =
                   "L = 16 MiB + 1 closes the connection without a reply",
               .clause = "L > 16 MiB: a protocol error. The SUT closes that "
                         "connection without a reply to the bad frame",
               .reference = kBadInput},
      .need = TransportNeed::kManyConnections,
      .play =
          [](Context& c) {
            BadInput(c, LengthHeader(kContractMaxFrame + 1), false);
          },
  });
  table.Add({
      .info = {.id = "7.3",
               .name = "bad-input/length-ffffffff",
               .description =
                   "L = 0xFFFFFFFF closes without a reply or a 4 GiB buffer",
               .clause = "The SUT closes that connection without a reply to "
                         "the bad frame, without reserving memory for L bytes",
               .reference = kBadInput},
      .need = TransportNeed::kManyConnections,
      .play = [](Context& c) { BadInput(c, LengthHeader(0xffffffffu), false); },
  });
  table.Add({
      .info = {.id = "7.4",
               .name = "bad-input/unknown-opcode",
               .description =
                   "an unknown opcode closes the connection without a reply",
               .clause = "an unknown opcode: a protocol error. The SUT closes "
                         "that connection without a reply to the bad frame",
               .reference = kBadInput},
      .need = TransportNeed::kManyConnections,
      .play = [](Context& c) { BadInput(c, ContractFrame("Zzz"), false); },
  });
  table.Add({
      .info = {.id = "7.5",
               .name = "bad-input/truncated",
               .description =
                   "end of stream inside a frame: no reply, the server closes",
               .clause = "End of stream inside a frame: no reply for the "
                         "partial frame; the SUT closes",
               .reference = kBadInput},
      .need = TransportNeed::kManyConnections,
      .play =
          [](Context& c) {
            Bytes truncated = LengthHeader(100);
            Append(truncated, Bytes(10, 'E'));
            BadInput(c, truncated, true);
          },
  });
  table.Add({
      .info = {.id = "7.6",
               .name = "bad-input/garbage",
               .description =
                   "random bytes (seed printed): the server survives",
               .clause = "a protocol error: the SUT closes that connection "
                         "and goes on serving every other connection",
               .reference = kBadInput},
      .need = TransportNeed::kManyConnections,
      .play =
          [](Context& c) {
            std::mt19937_64 rng(c.seed() ^ 0x7761726261676521ull);
            Bytes garbage(512);
            for (uint8_t& b : garbage) b = static_cast<uint8_t>(rng());
            // A length over the limit: the stream is bad input.
            garbage[0] = 0xff;
            BadInput(c, garbage, false);
          },
  });
}

}  // namespace sockparity::internal
