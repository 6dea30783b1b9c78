// The inspection verbs (poll, getsockopt and setsockopt, TCP state, names)
// and the ones that end a connection or change how it blocks.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "script/script_runner.h"
#include "script/tcp_lookup.h"
#include "script/verbs.h"
#include "sockparity/net/errors.h"

namespace sockparity::internal {

StepOutcome Runner::Poll(const Step& /*step*/, Slot& slot) {
  const int fd = slot.fd.get();
  pollfd entry{fd, POLLIN | POLLOUT | POLLRDHUP | POLLPRI, 0};
  int r;
  do {
    r = ::poll(&entry, 1, 0);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return Errno(errno);
  return {Events(r == 0 ? 0 : entry.revents), ""};
}

StepOutcome Runner::SoError(const Step& /*step*/, Slot& slot) {
  const int fd = slot.fd.get();
  int value = 0;
  socklen_t length = sizeof(value);
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) != 0)
    return Errno(errno);
  return {value == 0 ? "0" : ErrnoName(value), ""};
}

StepOutcome Runner::Peercred(const Step& /*step*/, Slot& slot) {
  const int fd = slot.fd.get();
  ucred cred{};
  socklen_t length = sizeof(cred);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0)
    return Errno(errno);
  auto who = [](long value, long self) {
    return value == self ? std::string("self") : absl::StrCat(value);
  };
  // Another process's pid (connect-as-nobody's child) is new every run: a
  // detail. 0 is no process (TCP).
  const std::string pid = cred.pid == ::getpid() ? "self"
                          : cred.pid == 0        ? "0"
                                                 : "other";
  return {absl::StrCat("pid=", pid, " uid=", who(cred.uid, ::getuid()),
                       " gid=", who(cred.gid, ::getgid())),
          absl::StrCat("pid ", cred.pid)};
}

StepOutcome Runner::BufferSize(const Step& step, Slot& slot) {
  const int fd = slot.fd.get();
  int value = 0;
  socklen_t length = sizeof(value);
  if (::getsockopt(fd, SOL_SOCKET, Describe(step.verb).socket_option, &value,
                   &length) != 0)
    return Errno(errno);
  // TCP sizes a buffer from the connection's cwnd and reordering, which
  // start from the kernel's cache of earlier connections to the same
  // address (tcp_metrics), and regrows the receive buffer as data flows:
  // the number depends on the machine's history, so it is a detail.
  if (Tcp()) return {"autotuned", absl::StrCat(value)};
  return {absl::StrCat(value), ""};
}

StepOutcome Runner::SocketOption(const Step& step, Slot& slot) {
  int value = 0;
  socklen_t length = sizeof(value);
  if (::getsockopt(slot.fd.get(), SOL_SOCKET, Describe(step.verb).socket_option,
                   &value, &length) != 0)
    return Errno(errno);
  return {absl::StrCat(value), ""};
}

StepOutcome Runner::Nodelay(const Step& /*step*/, Slot& slot) {
  const int fd = slot.fd.get();
  int one = 1;
  if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
    return Errno(errno);
  }
  return {"ok", ""};
}

StepOutcome Runner::Name(const Step& step, Slot& slot) {
  const int fd = slot.fd.get();
  sockaddr_storage ss{};
  socklen_t length = sizeof(ss);
  int r = step.verb == Verb::kSockname
              ? ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &length)
              : ::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &length);
  if (r != 0) return Errno(errno);
  return {NameOf(ss, length, step.slot), ""};
}

StepOutcome Runner::TcpState(const Step& step) {
  // A closed TCP socket lives on in the kernel (FIN_WAIT2, TIME_WAIT...).
  Slot* closed = Find(step.slot);
  if (closed != nullptr && closed->closed && !closed->na) {
    if (!closed->tcp_tuple) return {"closed", "no TCP connection"};
    std::optional<int> state = internal::LookUpTcpState(*closed->tcp_tuple);
    return {state ? TcpStateName(*state) : "gone", "looked up by address"};
  }
  Slot* open = nullptr;
  if (auto missing = NeedOpen(step.slot, &open)) return *missing;
  const int fd = open->fd.get();
  tcp_info info{};
  socklen_t length = sizeof(info);
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0)
    return Errno(errno);
  return {TcpStateName(info.tcpi_state), ""};
}

StepOutcome Runner::Shutdown(const Step& step, Slot& slot) {
  int how = step.keyword == "rd"   ? SHUT_RD
            : step.keyword == "wr" ? SHUT_WR
                                   : SHUT_RDWR;
  if (::shutdown(slot.fd.get(), how) != 0) return Errno(errno);
  if (how != SHUT_RD) slot.sent_fin = true;
  return {"ok", ""};
}

StepOutcome Runner::Close(const Step&, Slot& slot) {
  return CloseSlot(slot, false);
}

StepOutcome Runner::Abort(const Step&, Slot& slot) {
  return CloseSlot(slot, true);
}

StepOutcome Runner::Nonblock(const Step&, Slot& slot) {
  int flags = ::fcntl(slot.fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(slot.fd.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    return Errno(errno);
  }
  slot.nonblocking = true;
  return {"ok", ""};
}

}  // namespace sockparity::internal
