// The listening socket: bound (over a stale socket file, never a live one),
// listening, and its socket file removed only if it is still ours.
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <optional>

#include "threaded_server.h"

namespace threaded_server {
namespace {

enum class PathState { kLive, kStale, kGone, kNotSocket };

// Only a socket that refuses connections is provably stale; anything we
// cannot judge counts as live, so we never remove someone else's file.
PathState ProbePath(const Address& address) {
  struct stat st;
  if (::lstat(address.path.c_str(), &st) != 0) {
    return errno == ENOENT ? PathState::kGone : PathState::kLive;
  }
  if (!S_ISSOCK(st.st_mode)) return PathState::kNotSocket;
  for (int attempt = 0; attempt < 10; ++attempt) {
    // Non-blocking: a live server with a full backlog answers EAGAIN rather
    // than leaving us waiting.
    const int probe =
        ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (probe < 0) return PathState::kLive;
    const int rc =
        ::connect(probe, reinterpret_cast<const sockaddr*>(&address.storage),
                  address.length);
    const int error = rc == 0 ? 0 : errno;
    ::close(probe);
    if (error == EINTR) continue;
    if (error == ECONNREFUSED) return PathState::kStale;
    if (error == ENOENT) return PathState::kGone;
    return PathState::kLive;
  }
  return PathState::kLive;
}

}  // namespace

void RemoveSocketFile(const Address& address, const Listener& listener) {
  if (address.path.empty()) return;
  struct stat st;
  if (::stat(address.path.c_str(), &st) == 0 && st.st_dev == listener.dev &&
      st.st_ino == listener.ino) {
    ::unlink(address.path.c_str());
  }
}

std::optional<int> OpenListener(const Address& address, Listener& listener) {
  const auto* addr = reinterpret_cast<const sockaddr*>(&address.storage);
  const int fd =
      ::socket(address.family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    const int error = errno;
    std::fprintf(stderr, "socket: %s\n", std::strerror(error));
    return address.family == AF_INET6 && error == EAFNOSUPPORT
               ? kExitUnsupported
               : kExitFailure;
  }
  const int one = 1;
  if (address.family != AF_UNIX) {
    // Lets a restarted server take a port whose old connections linger in
    // TIME_WAIT.
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  }
  if (address.family == AF_INET6) {
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  }
  for (int attempt = 0;; ++attempt) {
    if (::bind(fd, addr, address.length) == 0) break;
    const int error = errno;
    if (error == EADDRINUSE && !address.path.empty() && attempt < 3) {
      const PathState state = ProbePath(address);
      if (state == PathState::kStale) {
        ::unlink(address.path.c_str());
        continue;
      }
      if (state == PathState::kGone) continue;
      std::fprintf(stderr, "%s: %s\n", address.path.c_str(),
                   state == PathState::kNotSocket
                       ? "exists and is not a socket; not touching it"
                       : "in use (a server listens there, or it cannot be "
                         "probed); not touching it");
      ::close(fd);
      return kExitFailure;
    }
    std::fprintf(stderr, "bind: %s\n", std::strerror(error));
    ::close(fd);
    return address.family == AF_INET6 && error == EADDRNOTAVAIL
               ? kExitUnsupported
               : kExitFailure;
  }
  listener.fd = fd;
  if (!address.path.empty()) {
    struct stat st;
    if (::stat(address.path.c_str(), &st) == 0) {
      listener.dev = st.st_dev;
      listener.ino = st.st_ino;
    }
  }
  if (::listen(fd, SOMAXCONN) != 0) {
    std::fprintf(stderr, "listen: %s\n", std::strerror(errno));
    RemoveSocketFile(address, listener);
    ::close(fd);
    return kExitFailure;
  }
  return std::nullopt;
}

}  // namespace threaded_server
