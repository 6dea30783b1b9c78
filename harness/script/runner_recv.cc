// The receiving verbs: peek, recv, recv-waitall, the stream reads, and
// recv-fd (SCM_RIGHTS).
#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <deque>
#include <fstream>
#include <optional>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "net/poll_wait.h"
#include "script/script_runner.h"
#include "script/tcp_lookup.h"
#include "sockparity/net/bytes.h"
#include "sockparity/net/endpoint.h"
#include "sockparity/net/errors.h"
#include "sockparity/net/fd.h"
#include "sockparity/net/temp_dir.h"
#include "sockparity/script/trace.h"


namespace sockparity::internal {
namespace {

// What SIOCINQ says is queued (0 when it cannot say, as on a listener).
int QueuedBytes(int fd) {
  int queued = 0;
  if (::ioctl(fd, SIOCINQ, &queued) != 0) return 0;
  return queued;
}

// Whether the next byte to read is an out-of-band byte's place (SIOCATMARK):
// a recv stops there, and SIOCINQ counts bytes past it on UNIX.
bool AtUrgentMark(int fd) {
  int at_mark = 0;
  return ::ioctl(fd, SIOCATMARK, &at_mark) == 0 && at_mark == 1;
}

// Whether the socket holds an error (POLLERR, which unlike SO_ERROR does not
// clear it) and no data to return before it.
bool ErrorPendingAndNothingQueued(int fd) {
  pollfd entry{fd, POLLIN, 0};
  int r;
  do {
    r = ::poll(&entry, 1, 0);
  } while (r < 0 && errno == EINTR);
  return r > 0 && (entry.revents & POLLERR) && QueuedBytes(fd) == 0;
}

// recv(MSG_DONTWAIT), made with recvmsg so that descriptors passed with the
// bytes (which a plain recv would have discarded) are closed, not leaked.
// `flags` 0: a blocking one (bounded by the caller's SO_RCVTIMEO).
ssize_t RecvOnce(int fd, uint8_t* data, size_t size, int flags = MSG_DONTWAIT) {
  iovec iov{data, size};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 64)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n = ::recvmsg(fd, &msg, flags | MSG_CMSG_CLOEXEC);
  if (n < 0) return n;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr;
       c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int passed;
      std::memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      ::close(passed);
    }
  }
  return n;
}

// SO_RCVLOWAT, or 1 where it cannot be read.
int ReceiveLowWater(int fd) {
  int low_water = 1;
  socklen_t length = sizeof(low_water);
  if (::getsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &low_water, &length) != 0)
    return 1;
  return low_water;
}

}  // namespace

StepOutcome Runner::Peek(const Step& step, Slot& slot) {
  const int fd = slot.fd.get();
  uint8_t* const buffer = ReceiveBuffer();
  size_t want = std::min<uint64_t>(step.number, kChunk);
  ssize_t n;
  do {
    n = ::recv(fd, buffer, want, MSG_DONTWAIT | MSG_PEEK);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Errno(errno);
  if (n == 0) return {want == 0 ? "ok" : "eof", ""};
  return {"data", absl::StrCat(n, " bytes")};
}

StepOutcome Runner::Recv(const Step& step, Slot& slot) {
  const int fd = slot.fd.get();
  uint8_t* const buffer = ReceiveBuffer();
  const size_t want = std::min<uint64_t>(step.number, kChunk);
  size_t got = 0;
  // With SO_RCVLOWAT set, a blocking read returns once it has its target,
  // the smaller of the mark and N (sock_rcvlowat), which no poll computes:
  // TCP's poll waits for the whole mark, UNIX's for one byte
  // (rcvlowat_ignored_by_unix_poll). So the read itself waits, within the
  // step's time, and a read still short of its target then timed out.
  const int low_water = slot.nonblocking ? 1 : ReceiveLowWater(fd);
  if (low_water > 1 && want > 0) {
    const size_t target = std::min<size_t>(low_water, want);
    const absl::Time deadline = absl::Now() + options_.step_timeout;
    bool ended = false;
    while (got < target && !ended) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) break;
      timeval tv = absl::ToTimeval(std::max(left, absl::Microseconds(1)));
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      const ssize_t n = RecvOnce(fd, buffer + got, want - got, 0);
      const int error = errno;
      // A signal's cut, or on UNIX the end of bytes that carried
      // descriptors, is not the end of the wait: the kernel's target is.
      if (n < 0 && (error == EINTR || error == EAGAIN)) continue;
      if (n < 0) {
        timeval zero{};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &zero, sizeof(zero));
        if (got == 0) return Errno(error);
        ended = true;
        break;
      }
      if (n == 0) {
        if (got == 0) {
          timeval zero{};
          ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &zero, sizeof(zero));
          return {"eof", ""};
        }
        ended = true;  // the end of stream is the next step's to see
        break;
      }
      got += n;
      // TCP (and UNIX with an out-of-band byte) stops at the urgent mark.
      if (AtUrgentMark(fd)) ended = true;
    }
    timeval zero{};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &zero, sizeof(zero));
    if (got < target && !ended) {
      if (got > 0) Receive(slot, buffer, got);
      return {"timeout", absl::StrCat(got, " bytes taken before the wait ended")};
    }
    if (ended) {
      Receive(slot, buffer, got);
      return {"data", absl::StrCat(got, " bytes")};
    }
  } else if (auto waited = WaitUnlessNonblocking(slot)) {
    return *waited;
  }
  // A recv takes what is queued, up to N: the byte stream, not the size
  // of one read, is what kinds are compared on. One recv(2) may return
  // less than is queued (a signal, an LD_PRELOAD that cuts it short on
  // purpose, or on UNIX the end of a buffer that carried descriptors:
  // unix_stream_read_generic stops once it has taken an skb's SCM_RIGHTS),
  // so take the rest while the queue holds more. TCP's stop at the urgent
  // mark is kept: it is what SIOCATMARK readers rely on.
  while (got < want) {
    if (got > 0 && (QueuedBytes(fd) == 0 || AtUrgentMark(fd))) break;
    ssize_t n = RecvOnce(fd, buffer + got, want - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      if (got == 0) return Errno(errno);
      break;
    }
    if (n == 0) {
      if (got == 0) return {want == 0 ? "ok" : "eof", ""};
      break;  // the end of stream is the next step's to see
    }
    got += n;
  }
  if (want == 0) {
    ssize_t n;
    do {
      n = RecvOnce(fd, buffer, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return Errno(errno);
    return {"ok", ""};
  }
  Receive(slot, buffer, got);
  return {"data", absl::StrCat(got, " bytes")};
}

StepOutcome Runner::RecvWaitall(const Step& step, Slot& slot) {
  const int fd = slot.fd.get();
  // No wait for poll's IN first: MSG_WAITALL's target is N whatever
  // SO_RCVLOWAT says, and TCP's poll shows IN only at the mark.
  // MSG_WAITALL returns fewer bytes on a signal, a timeout, the end of
  // stream or an error. A signal is not the socket's doing: go on
  // receiving the rest within the step's time; only the others end the
  // step short.
  Bytes all(step.number);
  const absl::Time deadline = absl::Now() + options_.step_timeout;
  uint64_t got = 0;
  ssize_t n = 0;
  int error = 0;
  while (got < all.size()) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      n = -1;
      error = EAGAIN;
      break;
    }
    // A zero SO_RCVTIMEO means no timeout: at least a microsecond.
    timeval tv = absl::ToTimeval(std::max(left, absl::Microseconds(1)));
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    const size_t asked = all.size() - got;
    n = ::recv(fd, all.data() + got, asked, MSG_WAITALL);
    error = errno;
    if (n < 0 && error == EINTR) continue;
    if (n <= 0) break;
    got += n;
    // Cut short though nothing ended the stream: an interrupted call.
    // Not when an error is pending and nothing is queued: receiving on
    // would take the error that the next step is to see.
    if (static_cast<size_t>(n) < asked && ErrorPendingAndNothingQueued(fd))
      break;
  }
  timeval zero{};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &zero, sizeof(zero));
  if (got > 0) Receive(slot, all.data(), got);
  if (got == static_cast<uint64_t>(step.number)) return {"ok", ""};
  if (got > 0) return {"short", absl::StrCat(got, " of ", step.number)};
  if (n == 0) return {"eof", ""};
  if (error == EAGAIN && !slot.nonblocking) return {"timeout", ""};
  return Errno(error);
}

StepOutcome Runner::RecvStream(const Step& step, Slot& slot) {
  const bool drain = step.verb == Verb::kDrain;
  if (!drain) {
    if (auto waited = WaitUnlessNonblocking(slot)) return *waited;
  }
  const int fd = slot.fd.get();
  uint8_t* const buffer = ReceiveBuffer();
  const absl::Time deadline = absl::Now() + options_.step_timeout;
  const uint64_t want =
      step.verb == Verb::kRecvExactly ? step.number : UINT64_MAX;
  uint64_t got = 0;
  while (got < want) {
    size_t size = std::min<uint64_t>(kChunk, want - got);
    ssize_t n = ::recv(fd, buffer, size, MSG_DONTWAIT);
    if (n > 0) {
      Receive(slot, buffer, n);
      got += n;
      continue;
    }
    std::string detail = absl::StrCat(got, " bytes");
    if (n == 0) return {"eof", detail};
    int error = errno;
    if (error == EINTR) continue;
    if (error == EAGAIN && (drain || slot.nonblocking))
      return Errno(error, detail);
    if (error != EAGAIN) return Errno(error, detail);
    absl::StatusOr<short> revents =
        internal::PollUntil(fd, POLLIN, deadline, "script");
    if (revents.ok() && *revents == 0) return {"timeout", detail};
  }
  return {"ok", ""};
}

StepOutcome Runner::RecvFd(const Step& /*step*/, Slot& slot) {
  const int fd = slot.fd.get();
  if (auto waited = WaitUnlessNonblocking(slot)) return *waited;
  uint8_t byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = ::recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Errno(errno);
  if (n == 0) return {"eof", ""};
  Receive(slot, &byte, 1);
  int fds = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr;
       c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int passed;
        std::memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        ::close(passed);
        ++fds;
      }
    }
  }
  return {fds > 0 ? "fd" : "no-fd", absl::StrCat(fds, " descriptors")};
}

}  // namespace sockparity::internal
