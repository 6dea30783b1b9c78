// The verbs that make sockets: pairs, listeners, binds, connects, accepts.
#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
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

constexpr int kAcceptTimedOut = -2;

// Waits for a connection and accepts it. EINTR and ECONNABORTED (the
// connection went away before accept, which accept(2) says to retry) are
// not outcomes of the listener: wait on, within the same deadline. Returns
// the descriptor, kAcceptTimedOut, or -1 with errno set.
// A deadline in the past: one accept, for a non-blocking listener.
int AcceptWithin(int listener, absl::Time deadline) {
  while (true) {
    if (deadline != absl::InfinitePast()) {
      absl::StatusOr<short> revents =
          internal::PollUntil(listener, POLLIN, deadline, "accept");
      if (!revents.ok() || *revents == 0) return kAcceptTimedOut;
    }
    int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0 || (errno != EINTR && errno != ECONNABORTED)) return fd;
  }
}

}  // namespace

StepOutcome Runner::Pair(const Step& step) {
  const bool has_address = HasAddress(kind_);
  Making making(*this, step);
  Slot& slot = making.slot;
  if (Slot* other = Find(step.target);
      other != nullptr && !other->closed && !other->na) {
    return {"busy", absl::StrCat(step.target, " is already open")};
  }
  Slot peer;
  peer.address_owner = step.target;
  if (!has_address) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      return Errno(errno);
    }
    slot.fd = Fd(fds[0]);
    peer.fd = Fd(fds[1]);
  } else {
    // Connected through a listener that is gone once the pair exists;
    // its address is reported as "pair".
    absl::StatusOr<Fd> listener = NewSocket();
    if (!listener.ok()) return {"harness-error", listener.status().ToString()};
    Endpoint address = FreshAddress("pair");
    if (::bind(listener->get(), address.addr(), address.length()) != 0 ||
        ::listen(listener->get(), 1) != 0) {
      return Errno(errno, "pair listener");
    }
    absl::StatusOr<Endpoint> bound = Endpoint::BoundTo(listener->get(), kind_);
    Slot pair_listener;
    pair_listener.address = *bound;
    pair_listener.address_owner = "pair";
    pair_listener.closed = true;
    absl::StatusOr<Fd> client = NewSocket();
    if (!client.ok()) return {"harness-error", client.status().ToString()};
    if (absl::Status c = ConnectBounded(slot, client->get(), *bound); !c.ok()) {
      return {"harness-error", c.ToString()};
    }
    int accepted =
        AcceptWithin(listener->get(), absl::Now() + options_.step_timeout);
    if (accepted < 0) return {"harness-error", "pair: accept failed"};
    slot.fd = std::move(*client);
    peer.fd = Fd(accepted);
    if (kind_ == TransportKind::kUnixPath) {
      ::unlink(std::string(bound->path()).c_str());
    }
    slots_[" pair-" + step.slot] = std::move(pair_listener);
  }
  slot.peer = step.target;
  peer.peer = step.slot;
  RecordTcpTuple(slot);
  RecordTcpTuple(peer);
  slots_[step.target] = std::move(peer);
  return making.Done({"ok", ""});
}

StepOutcome Runner::Bind(const Step& step) {
  const bool has_address = HasAddress(kind_);
  Making making(*this, step);
  Slot& slot = making.slot;
  if (!has_address) return making.NotHere("socketpair has no address");
  Endpoint address = FreshAddress(step.slot);
  if (step.verb == Verb::kBindSame) {
    Slot* target = Find(step.target);
    if (target == nullptr || target->na || !target->address) {
      return making.NotHere(absl::StrCat(step.target, " has no address"));
    }
    address = *target->address;
    slot.address_owner = target->address_owner;
  }
  sockaddr_un long_address{};
  socklen_t long_length = 0;
  if (step.verb == Verb::kBindPathLength) {
    if (Tcp()) {
      slot.na = true;
      return making.Done({"no-path", "TCP addresses have no path"});
    }
    // N bytes of sun_path (a leading NUL included for abstract names),
    // more than sun_path holds where N says so.
    const size_t n = step.number;
    std::string path;
    if (kind_ == TransportKind::kUnixAbstract) {
      path = std::string(1, '\0') +
             absl::StrFormat("sockparity-len-%d-%d-", ::getpid(), names_++);
    } else {
      path = absl::StrCat(dir_->path(), "/", step.slot, "-", names_++, "-");
    }
    if (path.size() > n || n == 0)
      return making.NotHere("the base path is longer than N");
    path.resize(n, 'x');
    long_address.sun_family = AF_UNIX;
    if (n > sizeof(long_address.sun_path)) {
      long_length = sizeof(long_address) + 1;  // cannot be expressed
    } else {
      std::memcpy(long_address.sun_path, path.data(), n);
      long_length = offsetof(sockaddr_un, sun_path) + n;
    }
  }
  absl::StatusOr<Fd> fd = NewSocket();
  if (!fd.ok()) return {"harness-error", fd.status().ToString()};
  if (step.keyword == "reuseaddr") {
    int one = 1;
    ::setsockopt(fd->get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  }
  int r;
  if (step.verb == Verb::kBindPathLength) {
    std::vector<char> storage(sizeof(sockaddr_storage), 0);
    std::memcpy(storage.data(), &long_address, sizeof(long_address));
    r = ::bind(fd->get(), reinterpret_cast<sockaddr*>(storage.data()),
               long_length);
  } else {
    r = ::bind(fd->get(), address.addr(), address.length());
  }
  if (r != 0) {
    slot.closed = true;
    return making.Done(Errno(errno, "bind"));
  }
  slot.fd = std::move(*fd);
  absl::StatusOr<Endpoint> bound = Endpoint::BoundTo(slot.fd.get(), kind_);
  if (bound.ok()) slot.address = *bound;
  if (step.verb == Verb::kListen) {
    if (::listen(slot.fd.get(), static_cast<int>(step.number)) != 0) {
      return making.Done(Errno(errno, "listen"));
    }
    slot.listener = true;
  }
  return making.Done({"ok", ""});
}

StepOutcome Runner::Connect(const Step& step) {
  const bool has_address = HasAddress(kind_);
  Making making(*this, step);
  Slot& slot = making.slot;
  if (!has_address) return making.NotHere("socketpair has no address");
  std::optional<Endpoint> to;
  Slot* target = nullptr;
  if (step.verb == Verb::kConnectMissing) {
    if (Tcp()) {
      // A port bound without listen: no one can listen there meanwhile.
      absl::StatusOr<Fd> holder = NewSocket();
      if (!holder.ok()) return {"harness-error", holder.status().ToString()};
      Endpoint any = FreshAddress(step.slot);
      ::bind(holder->get(), any.addr(), any.length());
      to = *Endpoint::BoundTo(holder->get(), kind_);
      reserved_.push_back(std::move(*holder));
    } else {
      to = FreshAddress("missing");
    }
  } else {
    target = Find(step.target);
    if (target == nullptr || target->na)
      return making.NotHere("nothing to connect to");
    if (!target->address)
      return {"no-address", absl::StrCat(step.target, " has no address")};
    to = *target->address;
  }
  absl::StatusOr<Fd> fd =
      NewSocket(step.verb == Verb::kConnectNb ? SOCK_NONBLOCK : 0);
  if (!fd.ok()) return {"harness-error", fd.status().ToString()};
  slot.fd = std::move(*fd);
  slot.nonblocking = step.verb == Verb::kConnectNb;
  StepOutcome outcome{"ok", ""};
  if (step.verb == Verb::kConnectNb) {
    int r;
    do {
      r = ::connect(slot.fd.get(), to->addr(), to->length());
    } while (r != 0 && errno == EINTR);
    if (r != 0) outcome = Errno(errno);
    // Let the handshake finish (or not) within the step, so what later
    // steps see does not depend on when it ends.
    if (outcome.outcome == "EINPROGRESS") {
      internal::PollUntil(slot.fd.get(), POLLOUT,
                          absl::Now() + std::min(options_.step_timeout,
                                                 options_.connect_timeout),
                          "connect")
          .IgnoreError();
    }
  } else {
    absl::Status connected = ConnectBounded(slot, slot.fd.get(), *to);
    if (absl::IsDeadlineExceeded(connected)) {
      outcome = {"timeout", ""};
    } else if (!connected.ok()) {
      outcome = Errno(ErrnoOf(connected).value_or(EIO));
    }
  }
  const bool connecting =
      outcome.outcome == "ok" || outcome.outcome == "EINPROGRESS";
  if (connecting) RecordTcpTuple(slot);
  if (target != nullptr && connecting) target->pending.push_back(step.slot);
  if (!connecting && outcome.outcome != "timeout" &&
      outcome.outcome != "EAGAIN") {
    slot.fd.Close().IgnoreError();
    slot.closed = true;
  }
  return making.Done(outcome);
}

StepOutcome Runner::ConnectAsNobody(const Step& step) {
  const bool has_address = HasAddress(kind_);
  Making making(*this, step);
  Slot& slot = making.slot;
  Slot* target = Find(step.target);
  if (!has_address || target == nullptr || target->na) {
    return making.NotHere("nothing to connect to");
  }
  if (!target->address) return {"no-address", ""};
  if (::geteuid() != 0) {
    return {"skipped", "not root: cannot switch to uid 65534"};
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Errno(errno);
  Fd read_end(fds[0]), write_end(fds[1]);
  const Endpoint to = *target->address;
  const int domain = Domain();
  // The child's connect is bounded as a script's connect is: a full
  // backlog makes a blocking UNIX connect wait for room, and a TCP one
  // retransmit its SYN, each for up to SO_SNDTIMEO (connect(2): EAGAIN,
  // EINPROGRESS).
  const absl::Duration timeout =
      std::min(options_.step_timeout, options_.connect_timeout);
  const timeval bound = absl::ToTimeval(timeout);
  pid_t child = ::fork();
  if (child < 0) return Errno(errno);
  if (child == 0) {
    // Only async-signal-safe calls between fork and _exit.
    int result = 0;
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 ||
        ::setuid(65534) != 0) {
      result = -errno;
    } else {
      int s = ::socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (s < 0 ||
          ::setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &bound, sizeof(bound)) !=
              0 ||
          ::connect(s, to.addr(), to.length()) != 0) {
        result = errno;
      }
    }
    (void)!::write(write_end.get(), &result, sizeof(result));
    ::_exit(0);
  }
  write_end.Close().IgnoreError();
  int result = EIO;
  // The child answers within its bound; past it (and a margin for a
  // loaded machine) it is stuck, and is ended rather than waited for.
  if (internal::PollUntil(read_end.get(), POLLIN,
                          absl::Now() + timeout + absl::Seconds(5), "child")
          .value_or(0) != 0) {
    (void)!::read(read_end.get(), &result, sizeof(result));
  } else {
    ::kill(child, SIGKILL);
    result = EAGAIN;
  }
  ::waitpid(child, nullptr, 0);
  slot.closed = true;  // the child's socket went with it
  if (result < 0)
    return making.Done(
        {"skipped", absl::StrCat("cannot switch user: ", ErrnoName(-result))});
  if (result == 0) {
    target->pending.push_back(" nobody");
    return making.Done({"ok", ""});
  }
  if (result == EAGAIN || result == EINPROGRESS) {
    return making.Done({"timeout", "the connect found no room in the backlog"});
  }
  return making.Done(Errno(result));
}

StepOutcome Runner::Accept(const Step& step) {
  const bool has_address = HasAddress(kind_);
  Making making(*this, step);
  Slot& slot = making.slot;
  Slot* target = Find(step.target);
  if (!has_address || target == nullptr || target->na) {
    return making.NotHere("nothing to accept on");
  }
  if (target->closed) return {"closed", ""};
  // A non-blocking listener answers at once (EAGAIN with nothing queued),
  // whatever its poll says.
  int fd = AcceptWithin(target->fd.get(),
                        target->nonblocking
                            ? absl::InfinitePast()
                            : absl::Now() + options_.step_timeout);
  if (fd == kAcceptTimedOut) return {"timeout", ""};
  if (fd < 0) return Errno(errno);
  slot.fd = Fd(fd);
  RecordTcpTuple(slot);
  if (!target->pending.empty()) {
    slot.peer = target->pending.front();
    target->pending.pop_front();
    if (Slot* client = Find(slot.peer)) client->peer = step.slot;
  }
  return making.Done({"ok", ""});
}

// stat looks at the slot itself, open or closed.
StepOutcome Runner::Stat(const Step& step) {
  Slot* slot = Find(step.slot);
  if (slot == nullptr) return {"no-socket", ""};
  if (slot->na) return {"n/a", "not made on this kind"};
  if (!slot->address || slot->address->path().empty()) {
    return {"no-path", "the address is not a filesystem path"};
  }
  struct stat info {};
  if (::lstat(std::string(slot->address->path()).c_str(), &info) != 0) {
    return Errno(errno);
  }
  return {S_ISSOCK(info.st_mode) ? "socket" : "not-a-socket",
          absl::StrFormat("mode %o", info.st_mode & 07777)};
}

}  // namespace sockparity::internal
