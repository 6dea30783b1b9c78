// The wrappers of the data calls: read, recv, write, send and their vector,
// message and fortified forms. Each may fail with EINTR before doing
// anything, or ask the kernel for less than the caller did (Perturb).

// Our definitions of libc's functions must not meet the fortified inline
// ones; so before any header (CMake also passes -U_FORTIFY_SOURCE).
#undef _FORTIFY_SOURCE

#include <errno.h>

#include "perturb_internal.h"

EXPORT ssize_t read(int fd, void* buf, size_t count) {
  EnsureInit();
  struct Cut cut;
  if (!Perturb(fd, 0, kRead, &count, &cut)) return -1;
  return Finish(&cut, real.read(fd, buf, count));
}

EXPORT ssize_t __read_chk(int fd, void* buf, size_t nbytes, size_t buflen) {
  EnsureInit();
  struct Cut cut = {0};
  // The check is against the caller's length: only a valid call is cut.
  if (nbytes <= buflen && !Perturb(fd, 0, kRead, &nbytes, &cut)) return -1;
  return Finish(&cut, real.read_chk(fd, buf, nbytes, buflen));
}

EXPORT ssize_t recv(int fd, void* buf, size_t len, int flags) {
  EnsureInit();
  struct Cut cut;
  if (!Perturb(fd, flags, kRead, &len, &cut)) return -1;
  return Finish(&cut, real.recv(fd, buf, len, flags));
}

EXPORT ssize_t __recv_chk(int fd, void* buf, size_t len, size_t buflen,
                          int flags) {
  EnsureInit();
  struct Cut cut = {0};
  if (len <= buflen && !Perturb(fd, flags, kRead, &len, &cut)) return -1;
  return Finish(&cut, real.recv_chk(fd, buf, len, buflen, flags));
}

EXPORT ssize_t recvfrom(int fd, void* buf, size_t len, int flags,
                        __SOCKADDR_ARG addr, socklen_t* addrlen) {
  EnsureInit();
  struct Cut cut;
  if (!Perturb(fd, flags, kRead, &len, &cut)) return -1;
  return Finish(&cut, real.recvfrom(fd, buf, len, flags, addr, addrlen));
}

EXPORT ssize_t __recvfrom_chk(int fd, void* buf, size_t len, size_t buflen,
                              int flags, __SOCKADDR_ARG addr,
                              socklen_t* addrlen) {
  EnsureInit();
  struct Cut cut = {0};
  if (len <= buflen && !Perturb(fd, flags, kRead, &len, &cut)) return -1;
  return Finish(&cut,
                real.recvfrom_chk(fd, buf, len, buflen, flags, addr, addrlen));
}

EXPORT ssize_t readv(int fd, const struct iovec* iov, int iovcnt) {
  EnsureInit();
  struct iovec copy[kIovCopy];
  struct Cut cut;
  if (!PerturbIov(fd, 0, kRead, &iov, &iovcnt, copy, &cut)) return -1;
  return Finish(&cut, real.readv(fd, iov, iovcnt));
}

EXPORT ssize_t recvmsg(int fd, struct msghdr* msg, int flags) {
  EnsureInit();
  if (modes == 0 || msg == NULL || msg->msg_iovlen > INT32_MAX) {
    return real.recvmsg(fd, msg, flags);
  }
  const struct iovec* iov = msg->msg_iov;
  int count = (int)msg->msg_iovlen;
  struct iovec copy[kIovCopy];
  struct Cut cut;
  if (!PerturbIov(fd, flags, kRead, &iov, &count, copy, &cut)) return -1;
  if (iov == msg->msg_iov && count == (int)msg->msg_iovlen) {
    return real.recvmsg(fd, msg, flags);
  }
  // A copy with fewer bytes; the name and control buffers are the caller's,
  // and what the kernel reports about them goes back to the caller.
  struct msghdr shorter = *msg;
  shorter.msg_iov = (struct iovec*)iov;
  shorter.msg_iovlen = (size_t)count;
  ssize_t n = real.recvmsg(fd, &shorter, flags);
  msg->msg_namelen = shorter.msg_namelen;
  msg->msg_controllen = shorter.msg_controllen;
  msg->msg_flags = shorter.msg_flags;
  return Finish(&cut, n);
}

EXPORT ssize_t write(int fd, const void* buf, size_t count) {
  EnsureInit();
  struct Cut cut;
  if (!Perturb(fd, 0, kWrite, &count, &cut)) return -1;
  return Finish(&cut, real.write(fd, buf, count));
}

EXPORT ssize_t send(int fd, const void* buf, size_t len, int flags) {
  EnsureInit();
  struct Cut cut;
  if (!Perturb(fd, flags, kWrite, &len, &cut)) return -1;
  return Finish(&cut, real.send(fd, buf, len, flags));
}

EXPORT ssize_t sendto(int fd, const void* buf, size_t len, int flags,
                      __CONST_SOCKADDR_ARG addr, socklen_t addrlen) {
  EnsureInit();
  struct Cut cut;
  if (!Perturb(fd, flags, kWrite, &len, &cut)) return -1;
  return Finish(&cut, real.sendto(fd, buf, len, flags, addr, addrlen));
}

EXPORT ssize_t writev(int fd, const struct iovec* iov, int iovcnt) {
  EnsureInit();
  struct iovec copy[kIovCopy];
  struct Cut cut;
  if (!PerturbIov(fd, 0, kWrite, &iov, &iovcnt, copy, &cut)) return -1;
  return Finish(&cut, real.writev(fd, iov, iovcnt));
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr* msg, int flags) {
  EnsureInit();
  if (modes == 0 || msg == NULL || msg->msg_iovlen > INT32_MAX) {
    return real.sendmsg(fd, msg, flags);
  }
  const struct iovec* iov = msg->msg_iov;
  int count = (int)msg->msg_iovlen;
  struct iovec copy[kIovCopy];
  struct Cut cut;
  if (!PerturbIov(fd, flags, kWrite, &iov, &count, copy, &cut)) return -1;
  if (iov == msg->msg_iov && count == (int)msg->msg_iovlen) {
    return real.sendmsg(fd, msg, flags);
  }
  // Ancillary data (SCM_RIGHTS...) stays: it goes with the first byte.
  struct msghdr shorter = *msg;
  shorter.msg_iov = (struct iovec*)iov;
  shorter.msg_iovlen = (size_t)count;
  return Finish(&cut, real.sendmsg(fd, &shorter, flags));
}
