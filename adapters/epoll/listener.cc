#include "listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstring>

namespace epoll_server {
namespace {

// Strict decimal: no sign, no spaces, no trailing garbage, at most max.
bool ParseNumber(const std::string& text, unsigned long max,
                 unsigned long* out) {
  if (text.empty() || text.size() > 10) return false;
  unsigned long value = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9') return false;
    value = value * 10 + static_cast<unsigned long>(ch - '0');
  }
  if (value > max) return false;
  *out = value;
  return true;
}

void CloseQuietly(int fd) {
  // No retry on EINTR: Linux has released the descriptor either way.
  if (fd >= 0) ::close(fd);
}

int ListenOn(int fd, const sockaddr* addr, socklen_t len,
             const std::string& address) {
  if (::bind(fd, addr, len) != 0) {
    std::fprintf(stderr, "epoll_server: bind %s: %s\n", address.c_str(),
                 std::strerror(errno));
    return -1;
  }
  if (::listen(fd, SOMAXCONN) != 0) {
    std::fprintf(stderr, "epoll_server: listen %s: %s\n", address.c_str(),
                 std::strerror(errno));
    return -1;
  }
  return 0;
}

// Whether some process accepts connections on the socket file at addr.
// A non-blocking probe: a live server with a full backlog gives EAGAIN
// rather than blocking us, and still counts as live.
bool SomeoneListens(const sockaddr_un& addr, socklen_t len) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    int probe =
        ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (probe < 0) return true;  // cannot tell: assume live, touch nothing
    int rc = ::connect(probe, reinterpret_cast<const sockaddr*>(&addr), len);
    int err = errno;
    CloseQuietly(probe);
    if (rc == 0) return true;
    if (err == EINTR) continue;  // fresh socket, try again
    return err != ECONNREFUSED;
  }
  return true;
}

int OpenUnix(const std::string& address, const std::string& name,
             Listener* out) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const bool abstract = !name.empty() && name[0] == '@';
  // sun_path holds 108 bytes: 107 plus the NUL for a path, or the leading
  // NUL plus 107 name bytes for an abstract name.
  const size_t limit = sizeof(addr.sun_path) - 1;
  const size_t length = abstract ? name.size() - 1 : name.size();
  if ((abstract && length == 0) || (!abstract && name.empty())) {
    std::fprintf(stderr, "epoll_server: empty UNIX address in '%s'\n",
                 address.c_str());
    return kExitBadAddress;
  }
  if (length > limit) {
    std::fprintf(stderr,
                 "epoll_server: UNIX name of %zu bytes in '%s' is longer "
                 "than the %zu bytes Linux accepts; not truncating it\n",
                 length, address.c_str(), limit);
    return kExitBadAddress;
  }
  socklen_t len;
  if (abstract) {
    // The address length covers exactly the name: no NUL padding, which
    // would make it a different abstract name.
    std::memcpy(addr.sun_path + 1, name.data() + 1, length);
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + length);
  } else {
    if (std::memchr(name.data(), '\0', name.size()) != nullptr) {
      std::fprintf(stderr, "epoll_server: NUL in path\n");
      return kExitBadAddress;
    }
    std::memcpy(addr.sun_path, name.data(), length);
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length + 1);
  }

  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    std::perror("epoll_server: socket");
    return kExitFailure;
  }
  if (!abstract) {
    struct stat st;
    if (::lstat(name.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) {
        std::fprintf(stderr, "epoll_server: %s exists and is not a socket\n",
                     name.c_str());
        CloseQuietly(fd);
        return kExitFailure;
      }
      if (SomeoneListens(addr, len)) {
        std::fprintf(stderr,
                     "epoll_server: a server already listens on %s; "
                     "leaving it alone\n",
                     name.c_str());
        CloseQuietly(fd);
        return kExitFailure;
      }
      // Stale file from a server that died: ours to replace.
      if (::unlink(name.c_str()) != 0 && errno != ENOENT) {
        std::fprintf(stderr, "epoll_server: unlink stale %s: %s\n",
                     name.c_str(), std::strerror(errno));
        CloseQuietly(fd);
        return kExitFailure;
      }
    }
  }
  if (ListenOn(fd, reinterpret_cast<sockaddr*>(&addr), len, address) != 0) {
    CloseQuietly(fd);
    return kExitFailure;
  }
  if (!abstract) {
    struct stat st;
    if (::lstat(name.c_str(), &st) == 0) {
      out->path = name;
      out->dev = st.st_dev;
      out->ino = st.st_ino;
    }
  }
  out->fd = fd;
  return 0;
}

int OpenTcp(const std::string& address, const std::string& rest,
            Listener* out) {
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "epoll_server: no port in '%s'\n", address.c_str());
    return kExitBadAddress;
  }
  std::string host = rest.substr(0, colon);
  unsigned long port;
  if (!ParseNumber(rest.substr(colon + 1), 65535, &port)) {
    std::fprintf(stderr, "epoll_server: bad port in '%s'\n", address.c_str());
    return kExitBadAddress;
  }
  sockaddr_storage storage{};
  socklen_t len;
  int family;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&storage);
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(static_cast<uint16_t>(port));
    // inet_pton, not getaddrinfo: the static build has no NSS.
    if (::inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(),
                    &a6->sin6_addr) != 1) {
      std::fprintf(stderr, "epoll_server: bad IPv6 address in '%s'\n",
                   address.c_str());
      return kExitBadAddress;
    }
    family = AF_INET6;
    len = sizeof(sockaddr_in6);
  } else {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&storage);
    a4->sin_family = AF_INET;
    a4->sin_port = htons(static_cast<uint16_t>(port));
    if (::inet_pton(AF_INET, host.c_str(), &a4->sin_addr) != 1) {
      std::fprintf(stderr, "epoll_server: bad IPv4 address in '%s'\n",
                   address.c_str());
      return kExitBadAddress;
    }
    family = AF_INET;
    len = sizeof(sockaddr_in);
  }
  int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    std::perror("epoll_server: socket");
    return kExitFailure;
  }
  int one = 1;
  // The suite restarts servers on ports in TIME_WAIT.
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (family == AF_INET6) {
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  }
  if (ListenOn(fd, reinterpret_cast<sockaddr*>(&storage), len, address) != 0) {
    CloseQuietly(fd);
    return kExitFailure;
  }
  out->fd = fd;
  return 0;
}

int OpenInherited(const std::string& address, const std::string& rest,
                  Listener* out) {
  unsigned long n;
  int type = 0;
  socklen_t type_len = sizeof(type);
  if (!ParseNumber(rest, 1u << 30, &n) ||
      ::getsockopt(static_cast<int>(n), SOL_SOCKET, SO_TYPE, &type,
                   &type_len) != 0 ||
      type != SOCK_STREAM) {
    std::fprintf(stderr, "epoll_server: '%s' is not a stream socket\n",
                 address.c_str());
    return kExitBadAddress;
  }
  const int fd = static_cast<int>(n);
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    std::perror("epoll_server: fcntl");
    return kExitFailure;
  }
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  out->connection = fd;
  return 0;
}

}  // namespace

int OpenAddress(const std::string& address, Listener* out) {
  if (address.rfind("unix:", 0) == 0) {
    return OpenUnix(address, address.substr(5), out);
  }
  if (address.rfind("tcp:", 0) == 0) {
    return OpenTcp(address, address.substr(4), out);
  }
  if (address.rfind("fd:", 0) == 0) {
    return OpenInherited(address, address.substr(3), out);
  }
  std::fprintf(stderr, "epoll_server: unknown address '%s'\n", address.c_str());
  return kExitBadAddress;
}

void RemoveOwnSocketFile(const Listener& listener) {
  if (listener.path.empty()) return;
  struct stat st;
  if (::lstat(listener.path.c_str(), &st) == 0 && st.st_dev == listener.dev &&
      st.st_ino == listener.ino) {
    ::unlink(listener.path.c_str());
  }
}

}  // namespace epoll_server
