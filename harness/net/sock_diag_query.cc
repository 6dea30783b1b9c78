#include "net/sock_diag_query.h"

#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "sockparity/net/errors.h"
#include "sockparity/net/fd.h"

// The netlink macros (NLMSG_OK) compare the kernel's unsigned lengths with
// the int they count down: clang's -Wsign-compare objects to code that is
// not ours.
#pragma GCC diagnostic ignored "-Wsign-compare"

namespace sockparity::internal {
namespace {

absl::Status Failed(absl::string_view call) {
  return ErrnoStatus(errno, call, "the socket diagnostics");
}

}  // namespace

absl::Status SockDiagQuery(const void* request, size_t size,
                           SockDiagScope scope,
                           absl::FunctionRef<void(const nlmsghdr&)> each) {
  Fd fd(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (!fd.valid()) return Failed("socket(AF_NETLINK, NETLINK_SOCK_DIAG)");
  std::vector<char> message(NLMSG_LENGTH(size));
  auto* header = reinterpret_cast<nlmsghdr*>(message.data());
  header->nlmsg_len = static_cast<uint32_t>(message.size());
  header->nlmsg_type = SOCK_DIAG_BY_FAMILY;
  header->nlmsg_flags = scope == SockDiagScope::kDump
                            ? NLM_F_REQUEST | NLM_F_DUMP
                            : NLM_F_REQUEST;
  std::memcpy(NLMSG_DATA(header), request, size);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t sent;
  do {
    sent = ::sendto(fd.get(), message.data(), message.size(), 0,
                    reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel));
  } while (sent < 0 && errno == EINTR);
  // A datagram goes whole or not at all.
  if (sent != static_cast<ssize_t>(message.size())) {
    return Failed("sendto(sock_diag)");
  }
  alignas(nlmsghdr) char buffer[32768];
  while (true) {
    const ssize_t n = ::recv(fd.get(), buffer, sizeof(buffer), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Failed("recv(sock_diag)");
    if (n == 0) return absl::UnavailableError("sock_diag ended early");
    int left = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(h, left);
         h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_type == NLMSG_DONE) return absl::OkStatus();
      if (h->nlmsg_type == NLMSG_ERROR) {
        const auto* error = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
        if (error->error == 0) return absl::OkStatus();
        if (error->error == -ENOENT && scope == SockDiagScope::kExact) {
          return absl::NotFoundError("sock_diag: no such socket");
        }
        errno = -error->error;
        return Failed("sock_diag");
      }
      each(*h);
      // An exact lookup answers once, with no NLMSG_DONE after it.
      if (scope == SockDiagScope::kExact) return absl::OkStatus();
    }
  }
}

inet_diag_req_v2 TcpSocketRequest(const sockaddr_storage& local,
                                  const sockaddr_storage& remote) {
  inet_diag_req_v2 request{};
  request.sdiag_family = static_cast<uint8_t>(local.ss_family);
  request.sdiag_protocol = IPPROTO_TCP;
  request.idiag_states = ~0u;
  request.idiag_ext = 1 << (INET_DIAG_INFO - 1);
  inet_diag_sockid& id = request.id;
  id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  // The ports and addresses, in network order as the socket holds them.
  auto fill = [&id](const auto& mine, const auto& theirs, const auto& port,
                    const auto& address) {
    id.idiag_sport = mine.*port;
    id.idiag_dport = theirs.*port;
    std::memcpy(id.idiag_src, &(mine.*address), sizeof(mine.*address));
    std::memcpy(id.idiag_dst, &(theirs.*address), sizeof(theirs.*address));
  };
  if (local.ss_family == AF_INET) {
    fill(reinterpret_cast<const sockaddr_in&>(local),
         reinterpret_cast<const sockaddr_in&>(remote), &sockaddr_in::sin_port,
         &sockaddr_in::sin_addr);
  } else {
    fill(reinterpret_cast<const sockaddr_in6&>(local),
         reinterpret_cast<const sockaddr_in6&>(remote),
         &sockaddr_in6::sin6_port, &sockaddr_in6::sin6_addr);
  }
  return request;
}

}  // namespace sockparity::internal
