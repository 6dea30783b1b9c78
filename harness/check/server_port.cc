#include "check/server_port.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <random>

#include "absl/strings/str_cat.h"
#include "sockparity/net/errors.h"

namespace sockparity::internal {
namespace {

// 0: bound; else the errno of socket or bind.
int TryBind(TransportKind kind, uint16_t port) {
  const bool v6 = kind == TransportKind::kTcp6;
  const int fd =
      ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  int result = 0;
  // No SO_REUSEADDR: a port bindable without it is bindable by any server,
  // whether or not it sets the option.
  if (v6) {
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_addr = in6addr_loopback;
    address.sin6_port = htons(port);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0)
      result = errno;
  } else {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0)
      result = errno;
  }
  ::close(fd);
  return result;
}

}  // namespace

std::pair<uint16_t, uint16_t> EphemeralPortRange() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  unsigned first = 32768, last = 60999;  // Linux's default
  if (!(in >> first >> last) || first > last || last > 65535) {
    first = 32768;
    last = 60999;
  }
  return {static_cast<uint16_t>(first), static_cast<uint16_t>(last)};
}

absl::StatusOr<uint16_t> PickServerPort(TransportKind kind) {
  const auto [first, last] = EphemeralPortRange();
  // Below the range (above the privileged ports), or above it: the larger.
  const unsigned below = first > 1024 ? first - 1024u : 0u;
  const unsigned above = 65535u - last;
  if (below == 0 && above == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no port outside the ephemeral range ", first, "-", last,
        " (/proc/sys/net/ipv4/ip_local_port_range) for the server"));
  }
  const unsigned base = below >= above ? 1024u : last + 1u;
  const unsigned count = below >= above ? below : above;
  std::random_device seed;
  std::mt19937 random(seed());
  std::uniform_int_distribution<unsigned> offset(0, count - 1);
  int last_error = 0;
  for (int attempt = 0; attempt < 64; ++attempt) {
    const auto port = static_cast<uint16_t>(base + offset(random));
    last_error = TryBind(kind, port);
    if (last_error == 0) return port;
    if (last_error != EADDRINUSE && last_error != EACCES) break;
  }
  return absl::UnavailableError(absl::StrCat("no free port for the server on ",
                                             TransportName(kind), ": bind ",
                                             ErrnoName(last_error)));
}

bool PortInUse(TransportKind kind, uint16_t port) {
  return TryBind(kind, port) == EADDRINUSE;
}

}  // namespace sockparity::internal
