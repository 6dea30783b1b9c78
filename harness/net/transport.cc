#include "sockparity/net/transport.h"

#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sockparity/net/listener.h"

namespace sockparity {

absl::string_view TransportName(TransportKind kind) {
  switch (kind) {
    case TransportKind::kSocketpair:
      return "socketpair";
    case TransportKind::kUnixPath:
      return "unix";
    case TransportKind::kUnixAbstract:
      return "unix-abstract";
    case TransportKind::kTcp4:
      return "tcp4";
    case TransportKind::kTcp6:
      return "tcp6";
  }
  return "unknown";
}

absl::string_view TransportTestName(TransportKind kind) {
  return kind == TransportKind::kUnixAbstract ? "unix_abstract"
                                              : TransportName(kind);
}

absl::StatusOr<TransportKind> ParseTransportKind(absl::string_view name) {
  for (TransportKind kind : kAllTransportKinds) {
    if (name == TransportName(kind)) return kind;
  }
  std::vector<absl::string_view> names;
  for (TransportKind kind : kAllTransportKinds) {
    names.push_back(TransportName(kind));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown transport kind '", name,
                   "'; expected one of: ", absl::StrJoin(names, ", ")));
}

Family FamilyOf(TransportKind kind) {
  return kind == TransportKind::kTcp4 || kind == TransportKind::kTcp6
             ? Family::kTcp
             : Family::kUnix;
}

absl::string_view FamilyName(Family family) {
  return family == Family::kTcp ? "tcp" : "unix";
}

bool HasAddress(TransportKind kind) {
  return kind != TransportKind::kSocketpair;
}

absl::Status TransportAvailability(TransportKind kind) {
  static std::once_flag once[kAllTransportKinds.size()];
  static absl::Status result[kAllTransportKinds.size()];
  const auto index = static_cast<size_t>(kind);
  std::call_once(once[index], [kind, index] {
    if (!HasAddress(kind)) return;
    // Binding is what fails where a family is off (EAFNOSUPPORT on socket,
    // EADDRNOTAVAIL on bind when ::1 is not configured).
    absl::StatusOr<Listener> probe = Listener::Open(kind);
    if (!probe.ok()) {
      result[index] = absl::UnavailableError(absl::StrCat(
          TransportName(kind),
          " is unavailable on this machine: ", probe.status().message()));
    }
  });
  return result[index];
}

}  // namespace sockparity
