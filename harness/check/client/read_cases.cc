// Client cases c2.x: replies split, merged and large. A frame boundary has
// no relation to the boundaries of the reads that carry it.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <optional>

#include "absl/strings/str_cat.h"
#include "check/client/client_cases.h"
#include "check/client/client_serve.h"
#include "sockparity/check/peer_contract.h"
#include "sockparity/net/io.h"

namespace sockparity::internal {
namespace {

constexpr char kFrames[] = "docs/SUT_CONTRACT.md, \"Frames\"";
constexpr int kMerged = 50;
constexpr uint32_t kLargest = 16u << 20;

void OneByteAtATime(ClientContext& c) {
  const std::vector<Bytes> payloads = {EchoRequest(std::string(40, 'a')),
                                       EchoRequest(std::string(40, 'b'))};
  std::optional<Socket> s = c.Connected(Requests(payloads));
  if (!s || !c.ReadRequests(*s, FramedSize(payloads))) return;
  if (s->kind() == TransportKind::kTcp4 || s->kind() == TransportKind::kTcp6) {
    const int on = 1;
    (void)::setsockopt(s->fd(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  }
  const Bytes stream = Requests(payloads);
  for (uint8_t byte : stream) {
    if (!SendAll(*s, Bytes{byte}, c.timeout()).ok()) {
      c.Fail("the client to take the replies, byte by byte", "the send failed");
      return;
    }
    // Pacing: each byte arrives on its own.
    absl::SleepFor(absl::Milliseconds(1));
  }
  c.Log(absl::StrCat("> the replies, one byte per send (", stream.size(),
                     " sends)"));
  (void)s->Close();
  std::optional<ClientReport> report = AwaitEndConnected(c);
  if (report) c.ExpectReport(*report, payloads, "eof");
}

void LargestReply(ClientContext& c) {
  const Bytes request = EchoRequest("send me 16 MiB");
  std::optional<Socket> s = c.Connected(ContractFrame(request));
  if (!s || !c.ReadRequests(*s, 4 + request.size())) return;
  const Bytes reply = BulkReply(kLargest - 1);
  if (!c.Send(*s, ContractFrame(reply), "a 16 MiB reply")) return;
  // The end of stream comes once the client took every byte: when it came
  // with the last bytes, whether a read cut short (short-io) ended the
  // reply early depended on timing, and a verdict must not.
  if (!WaitUntilTaken(c, *s)) return;
  (void)s->Close();
  c.Log("closed once the client read every byte: end of stream");
  std::optional<ClientReport> report = AwaitEndConnected(c);
  if (report) c.ExpectReport(*report, {reply}, "eof");
}

void Merged(ClientContext& c) {
  std::vector<Bytes> payloads;
  for (int i = 0; i < kMerged; ++i)
    payloads.push_back(EchoRequest(absl::StrCat("merged ", i)));
  std::optional<Socket> s = c.Connected(Requests(payloads));
  if (!s) return;
  // Every reply in one send, after every request is in.
  ServeEchoThenEnd(c, *s, payloads);
}

}  // namespace

void AddClientReadCases(std::vector<ClientCase>& cases) {
  cases.push_back({
      .info = {.id = "c2.1",
               .name = "read/byte-at-a-time",
               .description = "two replies, one byte per send: each "
                              "reported once, whole",
               .clause = "reads may be split at any byte: a reply is "
                         "reported only when all of it arrived",
               .reference = kFrames},
      .play = OneByteAtATime,
  });
  cases.push_back({
      .info = {.id = "c2.2",
               .name = "read/16-mib-reply",
               .description = "one reply of 16 MiB, the contract's largest",
               .clause = "a reply of up to 16 MiB is reported whole",
               .reference = kFrames},
      .play = LargestReply,
  });
  cases.push_back({
      .info = {.id = "c2.3",
               .name = "read/merged-replies",
               .description = "50 replies in one send: 50 reply lines, in "
                              "order",
               .clause = "reads may merge replies: each is reported, in "
                         "order",
               .reference = kFrames},
      .play = Merged,
  });
}

}  // namespace sockparity::internal
