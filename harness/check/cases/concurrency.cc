// Cases 8.x: many connections at once, and many one after another.
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "check/case_helpers.h"
#include "check/case_table.h"
#include "sockparity/check/peer_contract.h"
#include "sockparity/net/io.h"

namespace sockparity::internal {
namespace {

constexpr char kConnections[] =
    "docs/SUT_CONTRACT.md#ends-of-a-connection-and-bad-input";

void SixtyFourConnections(Context& c) {
  std::vector<Socket> sockets;
  // The earlier cases' connections are released first (the server learns
  // of a close after the client made it), or N counts them too.
  std::optional<Socket> first = c.Connect();
  if (!first || !CountComesToOne(c, *first, "before the case")) return;
  sockets.push_back(std::move(*first));
  for (int i = 1; i < 64; ++i) {
    std::optional<Socket> s = c.Connect();
    if (!s) return;
    sockets.push_back(std::move(*s));
  }
  for (int i = 0; i < 64; ++i) {
    if (!c.Send(sockets[i], ContractFrame(absl::StrCat("E", i)))) return;
  }
  for (int i = 63; i >= 0; --i) {
    if (!c.ExpectFrame(sockets[i], ToBytes(absl::StrCat("E", i)))) return;
  }
  if (c.Send(sockets[0], ContractFrame("N")))
    c.ExpectFrame(sockets[0], ToBytes("N64"));
}

void ThousandCycles(Context& c) {
  SutProcess* server = c.link().server();
  const int before = server ? OpenDescriptorsOf(server->pid()) : 0;
  for (int i = 0; i < 1000; ++i) {
    if (c.OutOfTime()) {
      c.Fail("1,000 connect/request/close cycles",
             absl::StrCat(i, " cycles done"));
      return;
    }
    absl::StatusOr<Socket> s = c.link().Connect();
    if (!s.ok()) {
      c.Fail("1,000 connections",
             absl::StrCat("cycle ", i, ": ", s.status().ToString()));
      return;
    }
    // One request per cycle, so the server has taken each connection
    // before the next comes: connecting faster than it accepts only
    // measured the backlog (a full TCP backlog drops the SYN, and the
    // retry comes a second later).
    absl::Status served = SendAll(*s, ContractFrame("N"), c.timeout());
    absl::StatusOr<Bytes> header =
        served.ok() ? c.Receive(*s, 4) : absl::StatusOr<Bytes>(served);
    if (header.ok()) {
      const uint32_t n = uint32_t{(*header)[2]} << 8 | (*header)[3];
      served = (*header)[0] != 0 || (*header)[1] != 0
                   ? absl::DataLossError("an N reply over 64 KiB")
                   : c.Receive(*s, n).status();
    } else {
      served = header.status();
    }
    if (!served.ok()) {
      c.Fail("a reply to N on each of 1,000 connections",
             absl::StrCat("cycle ", i, ": ", served.ToString()));
      return;
    }
  }
  const absl::Time deadline = absl::Now() + c.timeout();
  std::optional<Socket> s = c.Connect();
  if (!s || !CountComesToOne(c, *s, "after the cycles")) return;
  if (server) {
    // One connection is still open now, which `before` did not have.
    // Not cut short when the server is idle: a thread pool may let go of a
    // descriptor on its own timer (Poco's did, after more than 1 s idle).
    int after = OpenDescriptorsOf(server->pid());
    while (after > before + 1 && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));  // pacing re-checks
      after = OpenDescriptorsOf(server->pid());
    }
    if (after > before + 1) {
      c.Fail(absl::StrCat("at most ", before + 1, " descriptors in the server"),
             absl::StrCat(after));
    }
  }
}

}  // namespace

void AddConcurrencyCases(CaseTable& table) {
  table.Add({
      .info = {.id = "8.1",
               .name = "concurrency/64-connections",
               .description =
                   "64 connections at once, interleaved; N reports 64",
               .clause = "At least 64 connections at once",
               .reference = kConnections},
      .need = TransportNeed::kManyConnections,
      .play = SixtyFourConnections,
  });
  table.Add({
      .info = {.id = "8.2",
               .name = "concurrency/stalled-connection",
               .description =
                   "a connection stalled mid-frame does not delay others",
               .clause = "a connection that stalls (stops reading, or stops "
                         "mid-frame) does not delay the others",
               .reference = kConnections},
      .need = TransportNeed::kManyConnections,
      .play =
          [](Context& c) {
            std::optional<Socket> stalled = c.Connect();
            if (!stalled || !c.Send(*stalled, Bytes{0, 0})) return;
            std::optional<Socket> other = c.Connect();
            if (other && c.Send(*other, ContractFrame("Eother")))
              c.ExpectFrame(*other, ToBytes("Eother"));
          },
  });
  table.Add({
      .info = {.id = "8.3",
               .name = "concurrency/1000-cycles",
               .description = "1,000 connect/request/close cycles; then N is "
                              "1 and descriptors are stable",
               .clause = "A connection the client closed or reset is "
                         "released within 1 s: N on another connection no "
                         "longer counts it, and its descriptor is closed",
               .reference = "docs/SUT_CONTRACT.md#resources"},
      .need = TransportNeed::kManyConnections,
      .play = ThousandCycles,
  });
}

}  // namespace sockparity::internal
