// What a client under test prints (docs/CLIENT_CONTRACT.md, "What it
// prints"), read back: the lines `connected`, `reply L HASH` and one `end`.
#ifndef SOCKPARITY_CHECK_CLIENT_REPORT_H_
#define SOCKPARITY_CHECK_CLIENT_REPORT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace sockparity {

inline constexpr char kClientContractVersion[] = "0.2";

// FNV-1a, 32 bits: the HASH of a `reply` line.
uint32_t ClientReplyHash(absl::Span<const uint8_t> payload);

struct ClientReply {
  uint64_t length = 0;
  uint32_t hash = 0;
  bool operator==(const ClientReply& other) const {
    return length == other.length && hash == other.hash;
  }
};

struct ClientEnd {
  enum class Kind { kEof, kEofPartial, kReset, kRefused, kError };
  Kind kind = Kind::kEof;
  std::string error;  // the errno name, for kError
  // "eof", "eof partial", "reset", "refused" or "error ENAME".
  std::string ToString() const;
};

struct ClientReport {
  bool connected = false;
  std::vector<ClientReply> replies;
  std::optional<ClientEnd> end;  // none: no end line (yet)
  // The contract's lines in order, as the suite records them.
  std::vector<std::string> lines;
};

// Reads the client's standard output. Lines that start with none of the
// contract's words are the client's own and skipped; a contract line that
// is malformed, a second `end`, or a contract line after `end` is
// INVALID_ARGUMENT naming the line (1-based) and what is wrong. An
// unfinished last line (no newline yet) is left for a later read.
absl::StatusOr<ClientReport> ParseClientReport(absl::string_view output);

}  // namespace sockparity

#endif  // SOCKPARITY_CHECK_CLIENT_REPORT_H_
