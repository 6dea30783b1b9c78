#include "script/tcp_lookup.h"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/tcp.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "net/sock_diag_query.h"

namespace sockparity::internal {
namespace {

// The sock_diag answer: a state, "no such connection", or "cannot ask".
enum class DiagResult { kFound, kGone, kUnavailable };

DiagResult AskSockDiag(const TcpTuple& tuple, TcpConnection& found) {
  const int family = tuple.local.ss_family;
  if (family != AF_INET && family != AF_INET6) return DiagResult::kUnavailable;
  bool answered = false;
  const absl::Status asked = SockDiagQuery(
      TcpSocketRequest(tuple.local, tuple.remote), SockDiagScope::kExact,
      [&](const nlmsghdr& reply) {
        if (reply.nlmsg_type != SOCK_DIAG_BY_FAMILY ||
            reply.nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) {
          return;
        }
        const auto* diag =
            static_cast<const inet_diag_msg*>(NLMSG_DATA(&reply));
        answered = true;
        found = TcpConnection{};
        found.state = diag->idiag_state;
        found.send_queue = diag->idiag_wqueue;
        int left = static_cast<int>(reply.nlmsg_len) -
                   static_cast<int>(NLMSG_LENGTH(sizeof(inet_diag_msg)));
        for (const auto* attribute = reinterpret_cast<const rtattr*>(diag + 1);
             RTA_OK(attribute, left); attribute = RTA_NEXT(attribute, left)) {
          if (attribute->rta_type != INET_DIAG_INFO) continue;
          tcp_info info{};
          std::memcpy(&info, RTA_DATA(attribute),
                      std::min<size_t>(RTA_PAYLOAD(attribute), sizeof(info)));
          found.unacknowledged = info.tcpi_unacked > 0;
        }
      });
  if (absl::IsNotFound(asked)) return DiagResult::kGone;
  if (!asked.ok() || !answered) return DiagResult::kUnavailable;
  return DiagResult::kFound;
}

// The address as /proc/net/tcp{,6} prints it.
std::string ProcAddress(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(address);
    return absl::StrFormat("%08X:%04X", in.sin_addr.s_addr, ntohs(in.sin_port));
  }
  const auto& in6 = reinterpret_cast<const sockaddr_in6&>(address);
  uint32_t words[4];
  std::memcpy(words, &in6.sin6_addr, sizeof(words));
  return absl::StrFormat("%08X%08X%08X%08X:%04X", words[0], words[1], words[2],
                         words[3], ntohs(in6.sin6_port));
}

}  // namespace

std::optional<int> ScanProcTcpState(const TcpTuple& tuple) {
  const std::string local = ProcAddress(tuple.local);
  const std::string remote = ProcAddress(tuple.remote);
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      std::vector<absl::string_view> fields =
          absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (fields.size() < 4) continue;
      if (fields[1] == local && fields[2] == remote) {
        int state = 0;
        if (absl::SimpleHexAtoi(fields[3], &state)) return state;
      }
    }
  }
  return std::nullopt;
}

absl::StatusOr<std::optional<int>> SockDiagTcpState(const TcpTuple& tuple) {
  TcpConnection found;
  switch (AskSockDiag(tuple, found)) {
    case DiagResult::kFound:
      return std::optional<int>(found.state);
    case DiagResult::kGone:
      return std::optional<int>();
    case DiagResult::kUnavailable:
      break;
  }
  return absl::UnavailableError(
      "sock_diag (NETLINK_SOCK_DIAG) gave no answer for the TCP lookup");
}

std::optional<TcpConnection> LookUpTcpConnection(const TcpTuple& tuple) {
  TcpConnection found;
  switch (AskSockDiag(tuple, found)) {
    case DiagResult::kFound:
      return found;
    case DiagResult::kGone:
      return std::nullopt;
    case DiagResult::kUnavailable:
      break;
  }
  std::optional<int> state = ScanProcTcpState(tuple);
  if (!state) return std::nullopt;
  TcpConnection scanned;
  scanned.state = *state;
  return scanned;
}

std::optional<int> LookUpTcpState(const TcpTuple& tuple) {
  absl::StatusOr<std::optional<int>> state = SockDiagTcpState(tuple);
  if (state.ok()) return *state;
  return ScanProcTcpState(tuple);
}

}  // namespace sockparity::internal
