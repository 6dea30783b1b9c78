// The local stream transports sockparity compares.
#ifndef SOCKPARITY_NET_TRANSPORT_H_
#define SOCKPARITY_NET_TRANSPORT_H_

#include <array>
#include <ostream>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sockparity {

enum class TransportKind {
  kSocketpair,    // socketpair(AF_UNIX, SOCK_STREAM): no address, no listener
  kUnixPath,      // AF_UNIX bound to a path in a private directory
  kUnixAbstract,  // AF_UNIX in Linux's abstract namespace
  kTcp4,          // TCP over 127.0.0.1
  kTcp6,          // TCP over ::1
};

enum class Family { kUnix, kTcp };

inline constexpr std::array<TransportKind, 5> kAllTransportKinds = {
    TransportKind::kSocketpair, TransportKind::kUnixPath,
    TransportKind::kUnixAbstract, TransportKind::kTcp4, TransportKind::kTcp6};

// "socketpair", "unix", "unix-abstract", "tcp4", "tcp6".
absl::string_view TransportName(TransportKind kind);
// The name usable in a GoogleTest test name: '-' becomes '_'.
absl::string_view TransportTestName(TransportKind kind);
absl::StatusOr<TransportKind> ParseTransportKind(absl::string_view name);

Family FamilyOf(TransportKind kind);
absl::string_view FamilyName(Family family);
// Whether the kind has a listener and an address (all but socketpair).
bool HasAddress(TransportKind kind);

// OK when pairs of this kind can be made on this machine; otherwise
// UNAVAILABLE with the reason (e.g. tcp6 where IPv6 is off). Probed once.
absl::Status TransportAvailability(TransportKind kind);

inline std::ostream& operator<<(std::ostream& out, TransportKind kind) {
  return out << TransportName(kind);
}

}  // namespace sockparity

#endif  // SOCKPARITY_NET_TRANSPORT_H_
