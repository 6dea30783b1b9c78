// The verbs on queues, readiness and options that the lifecycle verbs leave
// out: SIOCINQ/SIOCOUTQ, epoll, SO_LINGER {1, N}, MSG_OOB, SO_RCVLOWAT, and
// a second listen or connect on an open socket.
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "net/poll_wait.h"
#include "script/script_runner.h"
#include "sockparity/net/errors.h"

namespace sockparity::internal {

StepOutcome Runner::Inq(const Step& /*step*/, Slot& slot) {
  int value = 0;
  if (::ioctl(slot.fd.get(), SIOCINQ, &value) != 0) return Errno(errno);
  return {absl::StrCat(value), ""};
}

StepOutcome Runner::Outq(const Step& /*step*/, Slot& slot) {
  int value = 0;
  if (::ioctl(slot.fd.get(), SIOCOUTQ, &value) != 0) return Errno(errno);
  int domain = 0;
  socklen_t length = sizeof(domain);
  if (value != 0 &&
      ::getsockopt(slot.fd.get(), SOL_SOCKET, SO_DOMAIN, &domain, &length) ==
          0 &&
      domain == AF_UNIX) {
    // A UNIX SIOCOUTQ is the memory its unread buffers take
    // (sk_wmem_alloc), not bytes: never compared as a byte count.
    return {"unread-memory", absl::StrCat(value, " bytes of buffer memory")};
  }
  return {absl::StrCat(value), ""};
}

StepOutcome Runner::Epoll(const Step& step, Slot& slot) {
  const bool edge = step.verb == Verb::kEpollEdge;
  Fd& instance = edge ? slot.epoll_edge : slot.epoll_level;
  if (!instance.valid()) {
    int epfd = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) return Errno(errno, "epoll_create1");
    instance = Fd(epfd);
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI |
                   (edge ? static_cast<uint32_t>(EPOLLET) : 0u);
    if (::epoll_ctl(epfd, EPOLL_CTL_ADD, slot.fd.get(), &event) != 0) {
      return Errno(errno, "epoll_ctl");
    }
  }
  epoll_event event{};
  int n;
  do {
    n = ::epoll_wait(instance.get(), &event, 1, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Errno(errno);
  // The EPOLL* bits are the POLL* ones.
  return {Events(n == 0 ? 0 : static_cast<short>(event.events)), ""};
}

StepOutcome Runner::Linger(const Step& step, Slot& slot) {
  linger value{1, static_cast<int>(step.number)};
  if (::setsockopt(slot.fd.get(), SOL_SOCKET, SO_LINGER, &value,
                   sizeof(value)) != 0) {
    return Errno(errno);
  }
  return {"ok", ""};
}

StepOutcome Runner::SendOob(const Step& step, Slot& slot) {
  // Out of band: not part of the stream the peer's receives hash.
  const uint8_t byte = PatternByte(PatternSeed(step.slot), slot.sent);
  ssize_t n;
  do {
    n = ::send(slot.fd.get(), &byte, 1, MSG_OOB | MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Errno(errno);
  return {"ok", ""};
}

StepOutcome Runner::RecvOob(const Step& /*step*/, Slot& slot) {
  uint8_t byte = 0;
  ssize_t n;
  do {
    n = ::recv(slot.fd.get(), &byte, 1, MSG_OOB | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Errno(errno);
  return {n == 0 ? "eof" : "data", ""};
}

StepOutcome Runner::Rcvlowat(const Step& step, Slot& slot) {
  int value = static_cast<int>(step.number);
  if (::setsockopt(slot.fd.get(), SOL_SOCKET, SO_RCVLOWAT, &value,
                   sizeof(value)) != 0) {
    return Errno(errno);
  }
  return {"ok", ""};
}

StepOutcome Runner::Relisten(const Step& step, Slot& slot) {
  if (::listen(slot.fd.get(), static_cast<int>(step.number)) != 0) {
    return Errno(errno);
  }
  slot.listener = true;
  return {"ok", ""};
}

StepOutcome Runner::Reconnect(const Step& step, Slot& slot) {
  Slot* target = Find(step.target);
  if (target == nullptr || target->na) return {"n/a", "nothing to connect to"};
  if (!target->address) return {"no-address", ""};
  // Non-blocking, so a connect that would start a handshake does not wait:
  // whether it starts one is the outcome.
  const int flags = ::fcntl(slot.fd.get(), F_GETFL);
  ::fcntl(slot.fd.get(), F_SETFL, flags | O_NONBLOCK);
  int r;
  do {
    r = ::connect(slot.fd.get(), target->address->addr(),
                  target->address->length());
  } while (r != 0 && errno == EINTR);
  const int error = r == 0 ? 0 : errno;
  // A connection started (a bound socket's first connect): let its
  // handshake end within the step, as connect-nb does, and let accept
  // pair it with this slot.
  if (error == EINPROGRESS) {
    PollUntil(
        slot.fd.get(), POLLOUT,
        absl::Now() + std::min(options_.step_timeout, options_.connect_timeout),
        "reconnect")
        .IgnoreError();
  }
  ::fcntl(slot.fd.get(), F_SETFL, flags);
  if (error == 0 || error == EINPROGRESS) {
    RecordTcpTuple(slot);
    target->pending.push_back(step.slot);
  }
  if (error != 0) return Errno(error);
  return {"ok", ""};
}

}  // namespace sockparity::internal
