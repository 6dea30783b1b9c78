// The wrappers of accept and the poll family: they never transfer data, so
// they are perturbed only by failing before doing anything.

// Our definitions of libc's functions must not meet the fortified inline
// ones; so before any header (CMake also passes -U_FORTIFY_SOURCE).
#undef _FORTIFY_SOURCE

#include <errno.h>

#include "perturb_internal.h"

// ECONNABORTED: the one place Linux returns it from accept is do_accept()
// in net/socket.c, when the caller asked for the peer's address and the
// protocol's getname(..., 2) fails. unix_getname() cannot fail there: the
// accepted socket keeps its peer even after the client closed
// (net/unix/af_unix.c, unix_stream_connect sets it, unix_release_sock
// clears only the closer's own). inet_getname()/inet6_getname() fail with
// peer == 2 only when inet_dport is 0 (a closed child is fine, the state
// test is for peer == 1): a connection from port 0, which any host on the
// network can open (inet_csk_clone_lock copies the peer's port). So: TCP
// (AF_INET, AF_INET6) listeners, and only when an address is asked for.
static bool AbortPossible(int fd, bool wants_address) {
  if (!wants_address) return false;
  int family = AF_UNSPEC;
  socklen_t length = sizeof(family);
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &length) != 0) {
    return false;
  }
  return family == AF_INET || family == AF_INET6;
}

static bool AcceptFails(int fd, bool wants_address) {
  if (modes == 0) return false;
  int saved = errno;
  if (!IsStreamSocket(fd)) {
    errno = saved;
    return false;
  }
  if ((modes & kAcceptAborted) && OneIn(4) &&
      AbortPossible(fd, wants_address)) {
    errno = ECONNABORTED;
    return true;
  }
  if ((modes & kEintr) && Blocking(fd, 0) && OneIn(4) &&
      EintrLegal(fd, kRead)) {
    errno = EINTR;
    return true;
  }
  errno = saved;
  return false;
}

// __SOCKADDR_ARG: a transparent union in GNU C, as glibc declares it.
EXPORT int accept(int fd, __SOCKADDR_ARG addr, socklen_t* addrlen) {
  EnsureInit();
  if (AcceptFails(fd, addr.__sockaddr__ != NULL)) return -1;
  return real.accept(fd, addr, addrlen);
}

EXPORT int accept4(int fd, __SOCKADDR_ARG addr, socklen_t* addrlen, int flags) {
  EnsureInit();
  if (AcceptFails(fd, addr.__sockaddr__ != NULL)) return -1;
  return real.accept4(fd, addr, addrlen, flags);
}

EXPORT int poll(struct pollfd* fds, nfds_t nfds, int timeout) {
  EnsureInit();
  if (WaitInterrupted(timeout != 0, NULL, false)) return -1;
  return real.poll(fds, nfds, timeout);
}

EXPORT int __poll_chk(struct pollfd* fds, nfds_t nfds, int timeout,
                      size_t fdslen) {
  EnsureInit();
  if (WaitInterrupted(timeout != 0, NULL, false)) return -1;
  return real.poll_chk(fds, nfds, timeout, fdslen);
}

EXPORT int ppoll(struct pollfd* fds, nfds_t nfds, const struct timespec* tmo,
                 const sigset_t* mask) {
  EnsureInit();
  if (WaitInterrupted(TimespecNonZero(tmo), mask, false)) return -1;
  return real.ppoll(fds, nfds, tmo, mask);
}

EXPORT int __ppoll_chk(struct pollfd* fds, nfds_t nfds,
                       const struct timespec* tmo, const sigset_t* mask,
                       size_t fdslen) {
  EnsureInit();
  if (WaitInterrupted(TimespecNonZero(tmo), mask, false)) return -1;
  return real.ppoll_chk(fds, nfds, tmo, mask, fdslen);
}

EXPORT int select(int nfds, fd_set* r, fd_set* w, fd_set* e,
                  struct timeval* timeout) {
  EnsureInit();
  bool may_block =
      timeout == NULL || timeout->tv_sec != 0 || timeout->tv_usec != 0;
  if (WaitInterrupted(may_block, NULL, false)) return -1;
  return real.select(nfds, r, w, e, timeout);
}

EXPORT int pselect(int nfds, fd_set* r, fd_set* w, fd_set* e,
                   const struct timespec* timeout, const sigset_t* mask) {
  EnsureInit();
  if (WaitInterrupted(TimespecNonZero(timeout), mask, false)) return -1;
  return real.pselect(nfds, r, w, e, timeout, mask);
}

EXPORT int epoll_wait(int epfd, struct epoll_event* events, int max,
                      int timeout) {
  EnsureInit();
  if (WaitInterrupted(timeout != 0, NULL, true)) return -1;
  return real.epoll_wait(epfd, events, max, timeout);
}

EXPORT int epoll_pwait(int epfd, struct epoll_event* events, int max,
                       int timeout, const sigset_t* mask) {
  EnsureInit();
  if (WaitInterrupted(timeout != 0, mask, true)) return -1;
  return real.epoll_pwait(epfd, events, max, timeout, mask);
}

// glibc 2.35's epoll_pwait2; where libc lacks it, so does the caller.
EXPORT int epoll_pwait2(int epfd, struct epoll_event* events, int max,
                        const struct timespec* timeout, const sigset_t* mask) {
  EnsureInit();
  if (real.epoll_pwait2 == NULL) {
    errno = ENOSYS;
    return -1;
  }
  if (WaitInterrupted(TimespecNonZero(timeout), mask, true)) return -1;
  return real.epoll_pwait2(epfd, events, max, timeout, mask);
}
