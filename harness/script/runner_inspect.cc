// The inspection verbs: poll, getsockopt and setsockopt, TCP state, names.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "script/script_runner.h"
#include "sockparity/net/errors.h"

namespace sockparity::internal {

StepOutcome Runner::Inspect(const Step& step, Slot& slot) {
  const int fd = slot.fd.get();
  switch (step.verb) {
    case Verb::kPoll: {
      pollfd entry{fd, POLLIN | POLLOUT | POLLRDHUP | POLLPRI, 0};
      int r;
      do {
        r = ::poll(&entry, 1, 0);
      } while (r < 0 && errno == EINTR);
      if (r < 0) return Errno(errno);
      return {Events(r == 0 ? 0 : entry.revents), ""};
    }
    case Verb::kSoError: {
      int value = 0;
      socklen_t length = sizeof(value);
      if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) != 0)
        return Errno(errno);
      return {value == 0 ? "0" : ErrnoName(value), ""};
    }
    case Verb::kPeercred: {
      ucred cred{};
      socklen_t length = sizeof(cred);
      if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0)
        return Errno(errno);
      auto who = [](long value, long self) {
        return value == self ? std::string("self") : absl::StrCat(value);
      };
      return {absl::StrCat("pid=", who(cred.pid, ::getpid()),
                           " uid=", who(cred.uid, ::getuid()),
                           " gid=", who(cred.gid, ::getgid())),
              ""};
    }
    case Verb::kSndbuf:
    case Verb::kRcvbuf: {
      int value = 0;
      socklen_t length = sizeof(value);
      int option = step.verb == Verb::kSndbuf ? SO_SNDBUF : SO_RCVBUF;
      if (::getsockopt(fd, SOL_SOCKET, option, &value, &length) != 0)
        return Errno(errno);
      // TCP sizes a buffer from the connection's cwnd and reordering, which
      // start from the kernel's cache of earlier connections to the same
      // address (tcp_metrics), and regrows the receive buffer as data flows:
      // the number depends on the machine's history, so it is a detail.
      if (Tcp()) return {"autotuned", absl::StrCat(value)};
      return {absl::StrCat(value), ""};
    }
    case Verb::kNodelay: {
      int one = 1;
      if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
        return Errno(errno);
      }
      return {"ok", ""};
    }
    case Verb::kTcpState: {
      tcp_info info{};
      socklen_t length = sizeof(info);
      if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0)
        return Errno(errno);
      return {TcpStateName(info.tcpi_state), ""};
    }
    case Verb::kSockname:
    case Verb::kPeername: {
      sockaddr_storage ss{};
      socklen_t length = sizeof(ss);
      int r =
          step.verb == Verb::kSockname
              ? ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &length)
              : ::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &length);
      if (r != 0) return Errno(errno);
      return {NameOf(ss, length, step.slot), ""};
    }
    default:
      return {"harness-error", "unhandled verb"};
  }
}

}  // namespace sockparity::internal
