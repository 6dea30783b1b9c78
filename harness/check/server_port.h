// Internal: the TCP port a server the suite starts is told to listen on.
//
// Why not a port the kernel picked (bind to port 0, then release it): the
// kernel picks from the ephemeral range (ip_local_port_range), the same
// range from which the suite's own connections, on the transports that run
// at the same time, and every other program on the machine take their
// local ports. Released for the server, such a port can be taken before the
// server binds it, and the server then fails to start through no fault of
// its own. A port outside that range is never handed out implicitly.
#ifndef SOCKPARITY_CHECK_SERVER_PORT_H_
#define SOCKPARITY_CHECK_SERVER_PORT_H_

#include <cstdint>
#include <utility>

#include "absl/status/statusor.h"
#include "sockparity/net/transport.h"

namespace sockparity::internal {

// The ephemeral range, [first, last], from
// /proc/sys/net/ipv4/ip_local_port_range (IPv6 uses it too).
std::pair<uint16_t, uint16_t> EphemeralPortRange();

// A random port outside the ephemeral range that can be bound on the
// kind's loopback address right now (tcp4 or tcp6).
absl::StatusOr<uint16_t> PickServerPort(TransportKind kind);

// Whether something holds `port` on the kind's loopback address (a bind
// fails with EADDRINUSE).
bool PortInUse(TransportKind kind, uint16_t port);

}  // namespace sockparity::internal

#endif  // SOCKPARITY_CHECK_SERVER_PORT_H_
