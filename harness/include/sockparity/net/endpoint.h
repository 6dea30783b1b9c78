// The address of a listening socket, for the kinds that have one, written as
// the peer contract writes addresses: "unix:/path", "unix:@name",
// "tcp:127.0.0.1:PORT", "tcp:[::1]:PORT".
#ifndef SOCKPARITY_NET_ENDPOINT_H_
#define SOCKPARITY_NET_ENDPOINT_H_

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sockparity/net/transport.h"

namespace sockparity {

class Endpoint {
 public:
  static absl::StatusOr<Endpoint> UnixPath(absl::string_view path);
  static absl::StatusOr<Endpoint> UnixAbstract(absl::string_view name);
  // Port 0 asks the kernel to choose one at bind time.
  static Endpoint Tcp4Loopback(uint16_t port);
  static Endpoint Tcp6Loopback(uint16_t port);
  // Reads an address as the peer contract writes it: "unix:/abs/path",
  // "unix:@name", "tcp:127.0.0.1:PORT", "tcp:[::1]:PORT" (PORT 1-65535).
  // INVALID_ARGUMENT names what is wrong. ("fd:N" is not an address; see
  // ParseInheritedFd.)
  static absl::StatusOr<Endpoint> Parse(absl::string_view text);
  // The address a socket of `kind` is bound to (getsockname).
  static absl::StatusOr<Endpoint> BoundTo(int fd, TransportKind kind);

  TransportKind kind() const { return kind_; }
  const sockaddr* addr() const {
    return reinterpret_cast<const sockaddr*>(&storage_);
  }
  socklen_t length() const { return length_; }
  int domain() const { return storage_.ss_family; }
  // The filesystem path for kUnixPath, empty otherwise.
  absl::string_view path() const;
  std::string ToString() const;

 private:
  Endpoint() = default;
  TransportKind kind_ = TransportKind::kTcp4;
  sockaddr_storage storage_{};
  socklen_t length_ = 0;
};

// "fd:N" of the peer contract: the descriptor number N (0 to 1023).
absl::StatusOr<int> ParseInheritedFd(absl::string_view text);

// A server's ADDRESS argument: Endpoint::Parse, and on failure the reason
// printed on stderr and nullopt (the server then exits 2). One home for what
// every C++ server here did by hand, so they all report a bad address alike.
std::optional<Endpoint> ParseServerAddress(absl::string_view address);

}  // namespace sockparity

#endif  // SOCKPARITY_NET_ENDPOINT_H_
