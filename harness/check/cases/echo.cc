// Cases 1.x: the three requests that reply, E, B and N, at every size.
#include <optional>
#include <vector>

#include "check/case_helpers.h"
#include "check/case_table.h"
#include "sockparity/check/peer_contract.h"

namespace sockparity::internal {
namespace {

constexpr char kFrames[] = "docs/SUT_CONTRACT.md#frames";

// One E per size on one connection; each request is sent while its reply
// is read, since 16 MiB fill both socket buffers.
void Echo(Context& c, const std::vector<size_t>& sizes) {
  std::optional<Socket> s = c.Connect();
  if (!s) return;
  for (size_t size : sizes) {
    const Bytes payload = EchoPayload(size, static_cast<uint8_t>(size));
    BackgroundSend send(c, *s, ContractFrame(payload));
    const bool ok = c.ExpectFrame(*s, payload);
    absl::Status sent = send.Join();
    if (!sent.ok()) c.Fail("to send the request", std::string(sent.message()));
    if (!ok || !sent.ok()) return;
  }
}

}  // namespace

void AddEchoCases(CaseTable& table) {
  table.Add({
      .info = {.id = "1.1",
               .name = "echo/small",
               .description = "E with a few bytes comes back identical",
               .clause = "E + any bytes: a frame with the identical payload",
               .reference = kFrames},
      .play = [](Context& c) { Echo(c, {6}); },
  });
  table.Add({
      .info = {.id = "1.2",
               .name = "echo/sizes",
               .description = "E of 1 byte up to 16 MiB comes back identical",
               .clause = "1 <= L <= 16 MiB (16,777,216); E: a frame with the "
                         "identical payload",
               .reference = kFrames},
      .play =
          [](Context& c) {
            Echo(c, {1, 255, 256, 65535, 65536, 1 << 20, kContractMaxFrame});
          },
  });
  table.Add({
      .info = {.id = "1.3",
               .name = "echo/bulk",
               .description = "B N replies with N+1 bytes, byte i = i mod 251",
               .clause = "B N: a frame of N + 1 bytes: B, then byte i "
                         "(0-based) = i mod 251",
               .reference = kFrames},
      .play =
          [](Context& c) {
            std::optional<Socket> s = c.Connect();
            if (!s) return;
            for (uint32_t n :
                 {0u, 1u, 250u, 251u, 100000u, kContractMaxFrame - 1}) {
              if (!c.Send(*s, ContractFrame(BulkRequest(n))) ||
                  !c.ExpectFrame(*s, BulkReply(n)))
                return;
            }
          },
  });
  table.Add({
      .info = {.id = "1.4",
               .name = "echo/count",
               .description = "N on a single connection reports 1",
               .clause = "N: the decimal number of client connections the "
                         "SUT holds open now, this one included",
               .reference = kFrames},
      .play =
          [](Context& c) {
            std::optional<Socket> s = c.Connect();
            if (s) CountComesToOne(c, *s, "on a single connection");
          },
  });
}

}  // namespace sockparity::internal
