#include "script/tcp_lookup.h"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/tcp.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "sockparity/net/fd.h"

namespace sockparity::internal {
namespace {

// The sock_diag answer: a state, "no such connection", or "cannot ask".
enum class DiagResult { kFound, kGone, kUnavailable };

DiagResult AskSockDiag(const TcpTuple& tuple, TcpConnection& found) {
  const int family = tuple.local.ss_family;
  if (family != AF_INET && family != AF_INET6) return DiagResult::kUnavailable;
  Fd fd(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (!fd.valid()) return DiagResult::kUnavailable;

  struct {
    nlmsghdr header;
    inet_diag_req_v2 request;
  } message{};
  message.header.nlmsg_len = sizeof(message);
  message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  message.header.nlmsg_flags = NLM_F_REQUEST;  // no NLM_F_DUMP: exact lookup
  message.request.sdiag_family = static_cast<uint8_t>(family);
  message.request.sdiag_protocol = IPPROTO_TCP;
  message.request.idiag_states = ~0u;
  message.request.idiag_ext = 1 << (INET_DIAG_INFO - 1);
  inet_diag_sockid& id = message.request.id;
  id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  if (family == AF_INET) {
    const auto& local = reinterpret_cast<const sockaddr_in&>(tuple.local);
    const auto& remote = reinterpret_cast<const sockaddr_in&>(tuple.remote);
    id.idiag_sport = local.sin_port;
    id.idiag_dport = remote.sin_port;
    std::memcpy(id.idiag_src, &local.sin_addr, sizeof(local.sin_addr));
    std::memcpy(id.idiag_dst, &remote.sin_addr, sizeof(remote.sin_addr));
  } else {
    const auto& local = reinterpret_cast<const sockaddr_in6&>(tuple.local);
    const auto& remote = reinterpret_cast<const sockaddr_in6&>(tuple.remote);
    id.idiag_sport = local.sin6_port;
    id.idiag_dport = remote.sin6_port;
    std::memcpy(id.idiag_src, &local.sin6_addr, sizeof(local.sin6_addr));
    std::memcpy(id.idiag_dst, &remote.sin6_addr, sizeof(remote.sin6_addr));
  }
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t sent;
  do {
    sent = ::sendto(fd.get(), &message, sizeof(message), 0,
                    reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel));
  } while (sent < 0 && errno == EINTR);
  if (sent != static_cast<ssize_t>(sizeof(message))) {
    return DiagResult::kUnavailable;
  }
  alignas(nlmsghdr) char buffer[8192];
  ssize_t got;
  do {
    got = ::recv(fd.get(), buffer, sizeof(buffer), 0);
  } while (got < 0 && errno == EINTR);
  if (got < static_cast<ssize_t>(sizeof(nlmsghdr))) {
    return DiagResult::kUnavailable;
  }
  const auto* reply = reinterpret_cast<const nlmsghdr*>(buffer);
  if (!NLMSG_OK(reply, static_cast<unsigned>(got))) {
    return DiagResult::kUnavailable;
  }
  if (reply->nlmsg_type == NLMSG_ERROR) {
    const auto* error = static_cast<const nlmsgerr*>(NLMSG_DATA(reply));
    return error->error == -ENOENT ? DiagResult::kGone
                                   : DiagResult::kUnavailable;
  }
  if (reply->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
      reply->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) {
    return DiagResult::kUnavailable;
  }
  const auto* diag = static_cast<const inet_diag_msg*>(NLMSG_DATA(reply));
  found = TcpConnection{};
  found.state = diag->idiag_state;
  found.send_queue = diag->idiag_wqueue;
  int left = static_cast<int>(reply->nlmsg_len) -
             static_cast<int>(NLMSG_LENGTH(sizeof(inet_diag_msg)));
  for (const auto* attribute = reinterpret_cast<const rtattr*>(diag + 1);
       RTA_OK(attribute, left); attribute = RTA_NEXT(attribute, left)) {
    if (attribute->rta_type != INET_DIAG_INFO) continue;
    tcp_info info{};
    std::memcpy(&info, RTA_DATA(attribute),
                std::min<size_t>(RTA_PAYLOAD(attribute), sizeof(info)));
    found.unacknowledged = info.tcpi_unacked > 0;
  }
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
