#include "sockparity/net/socket.h"

#include <sys/socket.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "sockparity/net/errors.h"
#include "sockparity/net/listener.h"

namespace sockparity {

std::string Socket::Describe() const {
  return absl::StrCat(TransportName(kind_), " (fd ", fd_.get(), ")");
}

absl::StatusOr<SocketPair> MakeConnectedPair(TransportKind kind,
                                             absl::Duration timeout) {
  if (absl::Status available = TransportAvailability(kind); !available.ok()) {
    return available;
  }
  if (kind == TransportKind::kSocketpair) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      return ErrnoStatus(errno, "socketpair", TransportName(kind));
    }
    return SocketPair{Socket(Fd(fds[0]), kind), Socket(Fd(fds[1]), kind)};
  }
  const absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<Listener> listener = Listener::Open(kind, {.backlog = 1});
  if (!listener.ok()) return listener.status();
  absl::StatusOr<Socket> connected = Connect(listener->endpoint(), timeout);
  if (!connected.ok()) return connected.status();
  absl::StatusOr<Socket> accepted = listener->Accept(deadline - absl::Now());
  if (!accepted.ok()) return accepted.status();
  if (absl::Status closed = listener->Close(); !closed.ok()) return closed;
  return SocketPair{std::move(*connected), std::move(*accepted)};
}

}  // namespace sockparity
