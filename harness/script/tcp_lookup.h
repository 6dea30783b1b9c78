// Internal: the state of a TCP connection the script has closed, which the
// kernel keeps (FIN_WAIT2, TIME_WAIT...) with no descriptor to ask.
#ifndef SOCKPARITY_SCRIPT_TCP_LOOKUP_H_
#define SOCKPARITY_SCRIPT_TCP_LOOKUP_H_

#include <sys/socket.h>

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"

namespace sockparity::internal {

// A connection's two ends as its socket saw them (getsockname/getpeername).
struct TcpTuple {
  sockaddr_storage local{};
  sockaddr_storage remote{};
};

// What the kernel still has of a connection the script closed.
struct TcpConnection {
  int state = 0;  // TCP_ESTABLISHED...
  // From sock_diag's tcp_info: whether bytes are sent and not yet
  // acknowledged, and the bytes queued to send (sent or not). Unknown
  // (nullopt) where only /proc could be read.
  std::optional<bool> unacknowledged;
  uint32_t send_queue = 0;
};

// The connection by exact address, or nullopt when the kernel no longer has
// it (sock_diag, else a scan of /proc/net/tcp{,6}).
std::optional<TcpConnection> LookUpTcpConnection(const TcpTuple& tuple);

// The kernel's TCP state (TCP_ESTABLISHED...) of the connection, or nullopt
// when the kernel no longer has it. One sock_diag netlink lookup by exact
// address (cheap however many sockets the machine has); where sock_diag is
// not available, a scan of /proc/net/tcp and /proc/net/tcp6.
std::optional<int> LookUpTcpState(const TcpTuple& tuple);

// The two ways on their own, so tests can compare them. SockDiagTcpState
// fails with UNAVAILABLE where sock_diag cannot be asked.
absl::StatusOr<std::optional<int>> SockDiagTcpState(const TcpTuple& tuple);
std::optional<int> ScanProcTcpState(const TcpTuple& tuple);

}  // namespace sockparity::internal

#endif  // SOCKPARITY_SCRIPT_TCP_LOOKUP_H_
