// Listening sockets and connectors for the kinds that have an address.
#ifndef SOCKPARITY_NET_LISTENER_H_
#define SOCKPARITY_NET_LISTENER_H_

#include <optional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sockparity/net/endpoint.h"
#include "sockparity/net/fd.h"
#include "sockparity/net/socket.h"
#include "sockparity/net/temp_dir.h"
#include "sockparity/net/transport.h"

namespace sockparity {

struct ListenOptions {
  int backlog = 16;
};

class Listener {
 public:
  // Binds a fresh address of `kind`: a kernel-chosen port, a socket file in
  // a new private directory, or a unique abstract name. kSocketpair has no
  // listener and gets INVALID_ARGUMENT.
  static absl::StatusOr<Listener> Open(TransportKind kind,
                                       const ListenOptions& options = {});

  Listener(Listener&& other) noexcept;
  Listener& operator=(Listener&& other) noexcept;
  ~Listener();

  const Endpoint& endpoint() const { return endpoint_; }
  int fd() const { return fd_.get(); }

  // Waits up to `timeout` for a connection.
  absl::StatusOr<Socket> Accept(absl::Duration timeout);

  // Closes the socket, removes its socket file and directory; idempotent.
  absl::Status Close();

 private:
  Listener(Fd fd, Endpoint endpoint, std::optional<TempDir> dir)
      : fd_(std::move(fd)), endpoint_(endpoint), dir_(std::move(dir)) {}
  Fd fd_;
  Endpoint endpoint_;
  std::optional<TempDir> dir_;
};

// Connects to `endpoint`, waiting up to `timeout` for the handshake.
absl::StatusOr<Socket> Connect(const Endpoint& endpoint,
                               absl::Duration timeout);

}  // namespace sockparity

#endif  // SOCKPARITY_NET_LISTENER_H_
