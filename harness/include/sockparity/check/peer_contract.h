// The frames of the peer contract (docs/SUT_CONTRACT.md), shared by the
// suite's client and the servers that ship with it: a 4-byte big-endian
// length, then the payload; `B` asks for a reply of N+1 bytes.
#ifndef SOCKPARITY_CHECK_PEER_CONTRACT_H_
#define SOCKPARITY_CHECK_PEER_CONTRACT_H_

#include <algorithm>
#include <cstdint>
#include <optional>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "sockparity/net/bytes.h"

namespace sockparity {

// The version of docs/SUT_CONTRACT.md this suite checks (its title says
// the same; a test keeps them one).
inline constexpr char kContractVersion[] = "1.3";

inline constexpr uint32_t kContractMaxFrame = 16u << 20;

// The contract's clause "When a reply is due": a server that owes a reply
// (or the end of a connection) may hold it while idle in the kernel (a
// timer, an upstream call) for at most this long. The one source of the
// figure: `check --stalled-after` defaults to it, its help and the stall
// reasons quote it.
inline constexpr absl::Duration kContractReplyWindow = absl::Seconds(2);
inline constexpr char kContractReplyWindowClause[] =
    "docs/SUT_CONTRACT.md, \"When a reply is due\"";

// The contract's clause "A case's budget": the exchanges of one case (the
// longest are 1,000 connections one after another, and 16 MiB each way)
// are done within this long. `check --case-budget` defaults to it.
inline constexpr absl::Duration kContractCaseBudget = absl::Seconds(60);
inline constexpr char kContractCaseBudgetClause[] =
    "docs/SUT_CONTRACT.md, \"A case's budget\"";

// L from the 4 bytes of a frame's header (big-endian).
inline uint32_t DecodeLength(const uint8_t* header) {
  return (uint32_t{header[0]} << 24) | (uint32_t{header[1]} << 16) |
         (uint32_t{header[2]} << 8) | header[3];
}

inline Bytes LengthHeader(uint32_t n) {
  return {uint8_t(n >> 24), uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n)};
}

inline Bytes ContractFrame(absl::Span<const uint8_t> payload) {
  Bytes out = LengthHeader(static_cast<uint32_t>(payload.size()));
  out.resize(4 + payload.size());
  std::copy(payload.begin(), payload.end(), out.begin() + 4);
  return out;
}

inline Bytes ContractFrame(absl::string_view payload) {
  return ContractFrame(absl::MakeConstSpan(
      reinterpret_cast<const uint8_t*>(payload.data()), payload.size()));
}

// N from a `B` request ('B', then u32 big-endian N <= 16 MiB - 1), or
// nullopt for a malformed one (a protocol error).
inline std::optional<uint32_t> ParseBulkRequest(const Bytes& frame) {
  if (frame.size() != 5 || frame[0] != 'B') return std::nullopt;
  const uint32_t n = DecodeLength(frame.data() + 1);
  if (n > kContractMaxFrame - 1) return std::nullopt;
  return n;
}

// The reply to `B` N: 'B', then byte i (0-based) = i mod 251.
inline Bytes BulkReply(uint32_t n) {
  Bytes reply(n + 1);
  reply[0] = 'B';
  for (uint32_t i = 0; i < n; ++i) reply[i + 1] = static_cast<uint8_t>(i % 251);
  return reply;
}

}  // namespace sockparity

#endif  // SOCKPARITY_CHECK_PEER_CONTRACT_H_
