// A connected stream socket that knows which transport it is on, and pairs
// of them, made the same way for every TransportKind.
#ifndef SOCKPARITY_NET_SOCKET_H_
#define SOCKPARITY_NET_SOCKET_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sockparity/net/fd.h"
#include "sockparity/net/transport.h"

namespace sockparity {

class Socket {
 public:
  Socket() = default;
  Socket(Fd fd, TransportKind kind) : fd_(std::move(fd)), kind_(kind) {}

  int fd() const { return fd_.get(); }
  bool valid() const { return fd_.valid(); }
  TransportKind kind() const { return kind_; }
  // "tcp4 (fd 7)": the context error messages name.
  std::string Describe() const;

  absl::Status Close() { return fd_.Close(); }
  Fd& owned_fd() { return fd_; }

 private:
  Fd fd_;
  TransportKind kind_ = TransportKind::kSocketpair;
};

struct SocketPair {
  Socket a;
  Socket b;
};

// Makes two connected stream sockets of `kind`. For the kinds with an
// address, the listener used to connect them (and its socket file and
// private directory) is gone when this returns: the pair holds nothing else.
// Fails with UNAVAILABLE (and the reason) when the kind is not available here.
absl::StatusOr<SocketPair> MakeConnectedPair(
    TransportKind kind, absl::Duration timeout = absl::Seconds(10));

}  // namespace sockparity

#endif  // SOCKPARITY_NET_SOCKET_H_
