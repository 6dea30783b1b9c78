// Parsing the ADDRESS argument into a socket address, refusing rather than
// truncating what Linux cannot bind.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "threaded_server.h"

namespace threaded_server {
namespace {

constexpr size_t kMaxPathLength = sizeof(sockaddr_un::sun_path) - 1;  // 107

bool ParseNumber(const std::string& text, long max, long& out) {
  if (text.empty() || text.size() > 10) return false;
  long value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value > max) return false;
  out = value;
  return true;
}

}  // namespace

std::optional<Address> ParseAddress(const std::string& text,
                                    std::string& error) {
  Address address;
  if (text.rfind("fd:", 0) == 0) {
    long fd;
    if (!ParseNumber(text.substr(3), INT_MAX, fd)) {
      error = "fd:N needs a descriptor number";
      return std::nullopt;
    }
    address.inherited_fd = static_cast<int>(fd);
    return address;
  }
  if (text.rfind("unix:", 0) == 0) {
    const std::string name = text.substr(5);
    auto* un = reinterpret_cast<sockaddr_un*>(&address.storage);
    un->sun_family = AF_UNIX;
    address.family = AF_UNIX;
    if (!name.empty() && name[0] == '@') {
      // Abstract: a leading NUL, then exactly the name; the length covers
      // nothing past it, so no NUL padding becomes part of the name.
      const std::string abstract = name.substr(1);
      if (abstract.empty() || abstract.size() > kMaxPathLength) {
        error = "an abstract name needs 1 to 107 bytes, got " +
                std::to_string(abstract.size());
        return std::nullopt;
      }
      std::memcpy(un->sun_path + 1, abstract.data(), abstract.size());
      address.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) +
                                              1 + abstract.size());
      return address;
    }
    if (name.empty()) {
      error = "unix: needs a path";
      return std::nullopt;
    }
    // Truncating would bind a different name than the one asked for.
    if (name.size() > kMaxPathLength) {
      error = "socket path is " + std::to_string(name.size()) +
              " bytes; Linux allows at most 107";
      return std::nullopt;
    }
    std::memcpy(un->sun_path, name.data(), name.size());
    address.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) +
                                            name.size() + 1);
    address.path = name;
    return address;
  }
  if (text.rfind("tcp:", 0) == 0) {
    const std::string rest = text.substr(4);
    std::string host;
    std::string port;
    if (!rest.empty() && rest[0] == '[') {
      const size_t close = rest.find("]:");
      if (close == std::string::npos) {
        error = "tcp:[HOST]:PORT expected";
        return std::nullopt;
      }
      host = rest.substr(1, close - 1);
      port = rest.substr(close + 2);
      address.family = AF_INET6;
    } else {
      const size_t colon = rest.rfind(':');
      if (colon == std::string::npos) {
        error = "tcp:HOST:PORT expected";
        return std::nullopt;
      }
      host = rest.substr(0, colon);
      port = rest.substr(colon + 1);
      address.family = AF_INET;
    }
    long number;
    if (!ParseNumber(port, 65535, number)) {
      error = "bad port '" + port + "'";
      return std::nullopt;
    }
    if (address.family == AF_INET6) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
      in6->sin6_family = AF_INET6;
      in6->sin6_port = htons(static_cast<uint16_t>(number));
      if (::inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) != 1) {
        error = "bad IPv6 address '" + host + "'";
        return std::nullopt;
      }
      address.length = sizeof(sockaddr_in6);
    } else {
      auto* in4 = reinterpret_cast<sockaddr_in*>(&address.storage);
      in4->sin_family = AF_INET;
      in4->sin_port = htons(static_cast<uint16_t>(number));
      if (::inet_pton(AF_INET, host.c_str(), &in4->sin_addr) != 1) {
        error = "bad IPv4 address '" + host + "'";
        return std::nullopt;
      }
      address.length = sizeof(sockaddr_in);
    }
    return address;
  }
  error = "unknown address form (unix:, tcp:, fd:)";
  return std::nullopt;
}

}  // namespace threaded_server
