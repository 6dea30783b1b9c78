// broken_loop_server's listener: binding the contract's ADDRESS (a stale
// socket file replaced, a live server's left alone), accepting (with the
// emfile-spin and emfile-exit bugs) and removing the socket file it owns.
#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "broken_loop_server.h"

namespace broken_loop {

void AcceptAll(int listener, sockparity::TransportKind kind) {
  for (int i = 0; i < 64; ++i) {
    const int fd =
        ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      auto c = std::make_unique<Conn>();
      c->fd = fd;
      c->unix_socket = kind == sockparity::TransportKind::kUnixPath ||
                       kind == sockparity::TransportKind::kUnixAbstract;
      conns.push_back(std::move(c));
      ++live;
      continue;
    }
    const int error = errno;
    if (error == EINTR || error == ECONNABORTED || error == EPROTO) continue;
    if (error == EMFILE || error == ENFILE || error == ENOBUFS ||
        error == ENOMEM) {
      if (bug == "emfile-exit") {
        std::fprintf(stderr, "accept: %s\n", std::strerror(error));
        std::exit(1);
      }
      if (bug == "emfile-spin") return;  // still polled: ready again at once
      accept_paused = true;
      accept_resume_ms = NowMs() + kAcceptPauseMs;
    }
    return;  // EAGAIN, or paused
  }
}

// Removes the socket file only if it is still the one this server bound.
void RemoveOwnFile(const BoundFile& file) {
  if (file.path.empty()) return;
  struct stat st;
  if (::stat(file.path.c_str(), &st) == 0 && st.st_dev == file.dev &&
      st.st_ino == file.ino) {
    ::unlink(file.path.c_str());
  }
}

// Binds and listens; on a unix path, a stale socket file is replaced and a
// live server's file is left alone (exit 1). Returns the listener or exits.
int Listen(const sockparity::Endpoint& endpoint, BoundFile& file) {
  const int fd = ::socket(endpoint.domain(),
                          SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    const int error = errno;
    std::fprintf(stderr, "socket: %s\n", std::strerror(error));
    std::exit(endpoint.domain() == AF_INET6 && error == EAFNOSUPPORT ? 64 : 1);
  }
  const int one = 1;
  if (endpoint.domain() != AF_UNIX)
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  const std::string path(endpoint.path());
  for (int attempt = 0;; ++attempt) {
    if (::bind(fd, endpoint.addr(), endpoint.length()) == 0) break;
    const int error = errno;
    if (error != EADDRINUSE || path.empty() || attempt == 3) {
      std::fprintf(stderr, "bind: %s\n", std::strerror(error));
      std::exit(endpoint.domain() == AF_INET6 && error == EADDRNOTAVAIL ? 64
                                                                        : 1);
    }
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode)) {
      std::fprintf(stderr, "%s: not a socket; not touching it\n", path.c_str());
      std::exit(1);
    }
    const int probe =
        ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc;
    do {
      rc = ::connect(probe, endpoint.addr(), endpoint.length());
    } while (rc != 0 && errno == EINTR);
    const int probed = rc == 0 ? 0 : errno;
    ::close(probe);
    if (probed == ECONNREFUSED) {
      ::unlink(path.c_str());  // stale: nobody listens there
    } else if (probed != ENOENT) {
      std::fprintf(stderr, "%s: a server listens there; not starting\n",
                   path.c_str());
      std::exit(1);
    }
  }
  if (!path.empty()) {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) {
      file.path = path;
      file.dev = st.st_dev;
      file.ino = st.st_ino;
    }
  }
  if (::listen(fd, SOMAXCONN) != 0) {
    std::fprintf(stderr, "listen: %s\n", std::strerror(errno));
    RemoveOwnFile(file);
    std::exit(1);
  }
  return fd;
}

}  // namespace broken_loop
