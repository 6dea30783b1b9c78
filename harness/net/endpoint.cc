#include "sockparity/net/endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "sockparity/net/errors.h"

namespace sockparity {
namespace {
// sun_path keeps room for the terminating NUL of a filesystem path.
constexpr size_t kMaxUnixPath = sizeof(sockaddr_un::sun_path) - 1;
}  // namespace

absl::StatusOr<Endpoint> Endpoint::UnixPath(absl::string_view path) {
  if (path.empty() || path.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("unix socket path '", absl::CHexEscape(path),
                     "' must be non-empty and contain no NUL byte"));
  }
  if (path.size() > kMaxUnixPath) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "unix socket path '%s' is %d bytes; sun_path holds at most %d "
        "(unix(7)); set TMPDIR to a shorter directory",
        path, path.size(), kMaxUnixPath));
  }
  Endpoint endpoint;
  endpoint.kind_ = TransportKind::kUnixPath;
  auto* un = reinterpret_cast<sockaddr_un*>(&endpoint.storage_);
  un->sun_family = AF_UNIX;
  std::memcpy(un->sun_path, path.data(), path.size());
  endpoint.length_ = offsetof(sockaddr_un, sun_path) + path.size() + 1;
  return endpoint;
}

absl::StatusOr<Endpoint> Endpoint::UnixAbstract(absl::string_view name) {
  if (name.size() > kMaxUnixPath) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "abstract socket name '%s' is %d bytes; at most %d fit (unix(7))",
        absl::CHexEscape(name), name.size(), kMaxUnixPath));
  }
  Endpoint endpoint;
  endpoint.kind_ = TransportKind::kUnixAbstract;
  auto* un = reinterpret_cast<sockaddr_un*>(&endpoint.storage_);
  un->sun_family = AF_UNIX;
  un->sun_path[0] = '\0';
  std::memcpy(un->sun_path + 1, name.data(), name.size());
  endpoint.length_ = offsetof(sockaddr_un, sun_path) + 1 + name.size();
  return endpoint;
}

Endpoint Endpoint::Tcp4Loopback(uint16_t port) {
  Endpoint endpoint;
  endpoint.kind_ = TransportKind::kTcp4;
  auto* in = reinterpret_cast<sockaddr_in*>(&endpoint.storage_);
  in->sin_family = AF_INET;
  in->sin_port = htons(port);
  in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  endpoint.length_ = sizeof(sockaddr_in);
  return endpoint;
}

Endpoint Endpoint::Tcp6Loopback(uint16_t port) {
  Endpoint endpoint;
  endpoint.kind_ = TransportKind::kTcp6;
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&endpoint.storage_);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(port);
  in6->sin6_addr = in6addr_loopback;
  endpoint.length_ = sizeof(sockaddr_in6);
  return endpoint;
}

namespace {

absl::StatusOr<uint16_t> ParsePort(absl::string_view text,
                                   absl::string_view whole) {
  uint32_t port = 0;
  if (text.empty() || text.size() > 5 || !absl::SimpleAtoi(text, &port) ||
      text[0] == '+' || text[0] == '-' || port == 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "address '", absl::CHexEscape(whole), "': port '",
        absl::CHexEscape(text), "' is not a number from 1 to 65535"));
  }
  return static_cast<uint16_t>(port);
}

}  // namespace

absl::StatusOr<Endpoint> Endpoint::Parse(absl::string_view text) {
  const std::string shown = absl::CHexEscape(text);
  if (absl::ConsumePrefix(&text, "unix:")) {
    absl::StatusOr<Endpoint> endpoint;
    if (absl::ConsumePrefix(&text, "@")) {
      if (text.empty()) {
        return absl::InvalidArgumentError(
            "address 'unix:@': the abstract name is empty");
      }
      endpoint = UnixAbstract(text);
    } else if (text.empty() || text[0] != '/') {
      return absl::InvalidArgumentError(absl::StrCat(
          "address '", shown,
          "': a unix path must be absolute (unix:/dir/name.sock)"));
    } else {
      endpoint = UnixPath(text);
    }
    if (!endpoint.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("address '", shown, "': ", endpoint.status().message()));
    }
    return endpoint;
  }
  if (absl::ConsumePrefix(&text, "tcp:")) {
    if (absl::ConsumePrefix(&text, "[::1]:")) {
      absl::StatusOr<uint16_t> port = ParsePort(text, shown);
      if (!port.ok()) return port.status();
      return Tcp6Loopback(*port);
    }
    if (absl::ConsumePrefix(&text, "127.0.0.1:")) {
      absl::StatusOr<uint16_t> port = ParsePort(text, shown);
      if (!port.ok()) return port.status();
      return Tcp4Loopback(*port);
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "address '", shown,
        "': only loopback is allowed: tcp:127.0.0.1:PORT or tcp:[::1]:PORT"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("address '", shown,
                   "': expected unix:/PATH, unix:@NAME, tcp:127.0.0.1:PORT, "
                   "tcp:[::1]:PORT or fd:N"));
}

absl::StatusOr<int> ParseInheritedFd(absl::string_view text) {
  const std::string shown = absl::CHexEscape(text);
  int fd = -1;
  if (!absl::ConsumePrefix(&text, "fd:") || text.empty() || text.size() > 4 ||
      !absl::ascii_isdigit(text[0]) || !absl::SimpleAtoi(text, &fd) ||
      fd > 1023) {
    return absl::InvalidArgumentError(absl::StrCat(
        "address '", shown,
        "': expected fd:N with N a descriptor number from 0 to 1023"));
  }
  return fd;
}

std::optional<Endpoint> ParseServerAddress(absl::string_view address) {
  absl::StatusOr<Endpoint> endpoint = Endpoint::Parse(address);
  if (!endpoint.ok()) {
    std::fprintf(stderr, "%s\n",
                 std::string(endpoint.status().message()).c_str());
    return std::nullopt;
  }
  return *std::move(endpoint);
}

absl::StatusOr<Endpoint> Endpoint::BoundTo(int fd, TransportKind kind) {
  Endpoint endpoint;
  endpoint.kind_ = kind;
  endpoint.length_ = sizeof(endpoint.storage_);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&endpoint.storage_),
                    &endpoint.length_) != 0) {
    return ErrnoStatus(errno, "getsockname",
                       absl::StrCat(TransportName(kind), " (fd ", fd, ")"));
  }
  return endpoint;
}

absl::string_view Endpoint::path() const {
  if (kind_ != TransportKind::kUnixPath) return {};
  const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
  return absl::string_view(un->sun_path,
                           ::strnlen(un->sun_path, sizeof(un->sun_path)));
}

std::string Endpoint::ToString() const {
  switch (storage_.ss_family) {
    case AF_UNIX: {
      const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
      size_t size = length_ > offsetof(sockaddr_un, sun_path)
                        ? length_ - offsetof(sockaddr_un, sun_path)
                        : 0;
      if (size > 0 && un->sun_path[0] == '\0') {
        return absl::StrCat("unix:@", absl::CHexEscape(absl::string_view(
                                          un->sun_path + 1, size - 1)));
      }
      return absl::StrCat("unix:", path());
    }
    case AF_INET: {
      const auto* in = reinterpret_cast<const sockaddr_in*>(&storage_);
      char text[INET_ADDRSTRLEN] = {};
      ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
      return absl::StrCat("tcp:", text, ":", ntohs(in->sin_port));
    }
    case AF_INET6: {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
      char text[INET6_ADDRSTRLEN] = {};
      ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
      return absl::StrCat("tcp:[", text, "]:", ntohs(in6->sin6_port));
    }
    default:
      return absl::StrCat("(address family ", storage_.ss_family, ")");
  }
}

}  // namespace sockparity
