#include "sockparity/check/client_report.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace sockparity {
namespace {

// A replyable payload is at most the contract's 16 MiB; a client may carry
// larger ones, but a number this long is not a length.
constexpr size_t kMaxLengthDigits = 12;

absl::Status LineError(size_t number, absl::string_view line,
                       absl::string_view what) {
  constexpr size_t kShown = 60;
  std::string shown(line.substr(0, kShown));
  for (char& c : shown) {
    if (!absl::ascii_isprint(static_cast<unsigned char>(c))) c = '?';
  }
  return absl::InvalidArgumentError(
      absl::StrCat("the client's output, line ", number, " '", shown,
                   line.size() > kShown ? "...'" : "'", ": ", what));
}

bool IsErrnoName(absl::string_view name) {
  if (name.size() < 2 || name.size() > 32 || name[0] != 'E') return false;
  for (char c : name) {
    if (!absl::ascii_isupper(static_cast<unsigned char>(c)) &&
        !absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '_') {
      return false;
    }
  }
  return true;
}

bool IsContractLine(absl::string_view line) {
  return line == "connected" || line == "reply" ||
         absl::StartsWith(line, "reply ") || line == "end" ||
         absl::StartsWith(line, "end ");
}

}  // namespace

uint32_t ClientReplyHash(absl::Span<const uint8_t> payload) {
  uint32_t hash = 2166136261u;
  for (uint8_t byte : payload) {
    hash ^= byte;
    hash *= 16777619u;
  }
  return hash;
}

std::string ClientEnd::ToString() const {
  switch (kind) {
    case Kind::kEof:
      return "eof";
    case Kind::kEofPartial:
      return "eof partial";
    case Kind::kReset:
      return "reset";
    case Kind::kRefused:
      return "refused";
    case Kind::kError:
      return absl::StrCat("error ", error);
  }
  return "?";
}

absl::StatusOr<ClientReport> ParseClientReport(absl::string_view output) {
  ClientReport report;
  size_t number = 0;
  while (true) {
    const size_t newline = output.find('\n');
    if (newline == absl::string_view::npos) break;  // unfinished: later
    absl::string_view line = output.substr(0, newline);
    output.remove_prefix(newline + 1);
    ++number;
    if (absl::EndsWith(line, "\r")) line.remove_suffix(1);
    if (!IsContractLine(line)) continue;
    if (report.end) {
      return LineError(number, line, "a contract line after the end line");
    }
    if (line == "connected") {
      if (report.connected)
        return LineError(number, line, "a second 'connected'");
      if (!report.replies.empty())
        return LineError(number, line, "'connected' after a reply");
      report.connected = true;
      report.lines.emplace_back(line);
      continue;
    }
    const std::vector<absl::string_view> words = absl::StrSplit(line, ' ');
    if (words[0] == "reply") {
      ClientReply reply;
      if (words.size() != 3 || words[1].empty() ||
          words[1].size() > kMaxLengthDigits ||
          !std::all_of(words[1].begin(), words[1].end(),
                       [](char c) { return c >= '0' && c <= '9'; }) ||
          !absl::SimpleAtoi(words[1], &reply.length)) {
        return LineError(number, line,
                         "expected 'reply L HASH' with L a decimal length");
      }
      if (words[2].size() != 8 ||
          !std::all_of(words[2].begin(), words[2].end(),
                       [](char c) {
                         return (c >= '0' && c <= '9') ||
                                (c >= 'a' && c <= 'f');
                       }) ||
          !absl::SimpleHexAtoi(words[2], &reply.hash)) {
        return LineError(number, line,
                         "HASH must be 8 lowercase hex digits (FNV-1a 32)");
      }
      report.replies.push_back(reply);
      report.lines.emplace_back(line);
      continue;
    }
    if (words[0] != "end") {
      return LineError(number, line,
                       "expected 'connected', 'reply L HASH' or 'end ...'");
    }
    ClientEnd end;
    if (words.size() == 2 && words[1] == "eof") {
      end.kind = ClientEnd::Kind::kEof;
    } else if (words.size() == 3 && words[1] == "eof" &&
               words[2] == "partial") {
      end.kind = ClientEnd::Kind::kEofPartial;
    } else if (words.size() == 2 && words[1] == "reset") {
      end.kind = ClientEnd::Kind::kReset;
    } else if (words.size() == 2 && words[1] == "refused") {
      end.kind = ClientEnd::Kind::kRefused;
    } else if (words.size() == 3 && words[1] == "error" &&
               IsErrnoName(words[2])) {
      end.kind = ClientEnd::Kind::kError;
      end.error = std::string(words[2]);
    } else {
      return LineError(number, line,
                       "expected 'end eof', 'end eof partial', 'end reset', "
                       "'end refused' or 'end error ENAME'");
    }
    report.end = std::move(end);
    report.lines.emplace_back(line);
  }
  return report;
}

}  // namespace sockparity
