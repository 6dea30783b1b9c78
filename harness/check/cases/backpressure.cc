// Cases 4.x: replies and requests larger than the socket buffers.
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "check/case_helpers.h"
#include "check/case_table.h"
#include "sockparity/check/peer_contract.h"

namespace sockparity::internal {
namespace {

// send(2): a full send buffer blocks the writer, or fails with EAGAIN.
constexpr char kSend[] = "https://man7.org/linux/man-pages/man2/send.2.html";

}  // namespace

void AddBackpressureCases(CaseTable& table) {
  table.Add({
      .info = {.id = "4.1",
               .name = "backpressure/slow-reader",
               .description = "large B replies while the client reads slowly",
               .clause = "Memory stays bounded when a client sends requests "
                         "and never reads the replies: the SUT stops reading "
                         "that connection (backpressure)",
               .reference = kSend},
      .play =
          [](Context& c) {
            std::optional<Socket> s = c.Connect();
            if (!s) return;
            Bytes requests;
            for (int i = 0; i < 4; ++i)
              Append(requests, ContractFrame(BulkRequest(4u << 20)));
            if (!c.Send(*s, requests)) return;
            // Pacing the reads: the server must hold its replies meanwhile.
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            for (int i = 0; i < 4; ++i) {
              if (!c.ExpectFrame(*s, BulkReply(4u << 20))) return;
            }
          },
  });
  table.Add({
      .info = {.id = "4.2",
               .name = "backpressure/large-request",
               .description = "an 8 MiB request while the server writes",
               .clause = "Any read or write may transfer fewer bytes than "
                         "asked: the SUT carries on",
               .reference = kSend},
      .play =
          [](Context& c) {
            std::optional<Socket> s = c.Connect();
            if (!s) return;
            Bytes stream = ContractFrame(BulkRequest(8u << 20));
            const Bytes big = EchoPayload(8u << 20, 9);
            Append(stream, ContractFrame(big));
            BackgroundSend send(c, *s, stream);
            if (c.ExpectFrame(*s, BulkReply(8u << 20))) c.ExpectFrame(*s, big);
            absl::Status sent = send.Join();
            if (!sent.ok())
              c.Fail("to send the request", std::string(sent.message()));
          },
  });
}

}  // namespace sockparity::internal
