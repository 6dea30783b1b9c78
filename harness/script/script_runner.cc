// Running scripts: stepping through a script on one kind and the helpers
// every verb uses.
#include "script/script_runner.h"

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
#include "script/tcp_lookup.h"
#include "script/verbs.h"
#include "sockparity/net/bytes.h"
#include "sockparity/net/endpoint.h"
#include "sockparity/net/errors.h"
#include "sockparity/net/fd.h"
#include "sockparity/net/temp_dir.h"
#include "sockparity/script/runner.h"
#include "sockparity/script/trace.h"

namespace sockparity::internal {

void FillPattern(uint64_t seed, uint64_t offset, uint8_t* out, size_t size) {
  constexpr size_t kPeriod = 251;
  const size_t head = std::min(size, kPeriod);
  for (size_t i = 0; i < head; ++i) out[i] = PatternByte(seed, offset + i);
  // Each copy starts at a multiple of the period, so it lines up.
  for (size_t done = head; done < size;) {
    const size_t n = std::min(done, size - done);
    std::memcpy(out + done, out, n);
    done += n;
  }
}

std::string Events(short revents) {
  std::vector<absl::string_view> names;
  if (revents & POLLIN) names.push_back("IN");
  if (revents & POLLPRI) names.push_back("PRI");
  if (revents & POLLOUT) names.push_back("OUT");
  if (revents & POLLRDHUP) names.push_back("RDHUP");
  if (revents & POLLERR) names.push_back("ERR");
  if (revents & POLLHUP) names.push_back("HUP");
  if (revents & POLLNVAL) names.push_back("NVAL");
  return names.empty() ? "none" : absl::StrJoin(names, "|");
}

constexpr const char* kTcpStates[] = {
    "?",         "ESTABLISHED", "SYN_SENT",    "SYN_RECV",   "FIN_WAIT1",
    "FIN_WAIT2", "TIME_WAIT",   "CLOSE",       "CLOSE_WAIT", "LAST_ACK",
    "LISTEN",    "CLOSING",     "NEW_SYN_RECV"};

std::string TcpStateName(int state) {
  if (state > 0 && state < static_cast<int>(std::size(kTcpStates))) {
    return kTcpStates[state];
  }
  return absl::StrCat("state ", state);
}

absl::StatusOr<Fd> Runner::NewSocket(int extra_flags) {
  int fd = ::socket(Domain(), SOCK_STREAM | SOCK_CLOEXEC | extra_flags, 0);
  if (fd < 0) return ErrnoStatus(errno, "socket", TransportName(kind_));
  return Fd(fd);
}

Endpoint Runner::FreshAddress(const std::string& slot) {
  switch (kind_) {
    case TransportKind::kUnixPath:
      return *Endpoint::UnixPath(
          absl::StrCat(dir_->path(), "/", slot, "-", names_++, ".sock"));
    case TransportKind::kUnixAbstract: {
      static std::atomic<uint64_t> counter{0};
      static const uint32_t salt = std::random_device{}();
      return *Endpoint::UnixAbstract(absl::StrFormat(
          "sockparity-script-%d-%08x-%d", ::getpid(), salt, counter++));
    }
    case TransportKind::kTcp6:
      return Endpoint::Tcp6Loopback(0);
    default:
      return Endpoint::Tcp4Loopback(0);
  }
}

// Names a socket address by what it is relative to the script: "unnamed",
// "path:l" (the address of slot l), "loopback:ephemeral"...
std::string Runner::NameOf(const sockaddr_storage& ss, socklen_t length,
                           const std::string& /*self*/) {
  if (ss.ss_family == AF_UNIX) {
    if (length <= offsetof(sockaddr_un, sun_path)) return "unnamed";
    const auto& un = reinterpret_cast<const sockaddr_un&>(ss);
    std::string kind = un.sun_path[0] == '\0' ? "abstract" : "path";
    std::string raw(un.sun_path, length - offsetof(sockaddr_un, sun_path));
    for (auto& [name, slot] : slots_) {
      if (!slot.address || slot.address->domain() != AF_UNIX) continue;
      const auto* theirs =
          reinterpret_cast<const sockaddr_un*>(slot.address->addr());
      std::string other(theirs->sun_path, slot.address->length() -
                                              offsetof(sockaddr_un, sun_path));
      // A path may or may not carry its trailing NUL; an abstract name is
      // all of its bytes.
      const bool same = kind == "path" ? std::string(raw.c_str()) ==
                                             std::string(other.c_str())
                                       : raw == other;
      if (same) {
        return absl::StrCat(kind, ":", slot.address_owner);
      }
    }
    return absl::StrCat(kind, ":other");
  }
  if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
    const uint16_t port =
        ss.ss_family == AF_INET
            ? reinterpret_cast<const sockaddr_in&>(ss).sin_port
            : reinterpret_cast<const sockaddr_in6&>(ss).sin6_port;
    for (auto& [name, slot] : slots_) {
      if (!slot.address) continue;
      const sockaddr* theirs = slot.address->addr();
      uint16_t their_port =
          theirs->sa_family == AF_INET
              ? reinterpret_cast<const sockaddr_in*>(theirs)->sin_port
          : theirs->sa_family == AF_INET6
              ? reinterpret_cast<const sockaddr_in6*>(theirs)->sin6_port
              : 0;
      if (their_port == port && port != 0) {
        return absl::StrCat("loopback:", slot.address_owner);
      }
    }
    return "loopback:ephemeral";
  }
  return absl::StrCat("family ", ss.ss_family);
}

std::optional<StepOutcome> Runner::NeedOpen(const std::string& name,
                                            Slot** out) {
  Slot* slot = Find(name);
  if (slot == nullptr) {
    return StepOutcome{"no-socket", absl::StrCat("no socket named ", name)};
  }
  if (slot->na) return StepOutcome{"n/a", "not made on this kind"};
  if (slot->closed) return StepOutcome{"closed", "the script closed it"};
  *out = slot;
  return std::nullopt;
}

void Runner::RecordTcpTuple(Slot& slot) {
  if (!Tcp()) return;
  sockaddr_storage local{}, remote{};
  socklen_t local_length = sizeof(local), remote_length = sizeof(remote);
  if (::getsockname(slot.fd.get(), reinterpret_cast<sockaddr*>(&local),
                    &local_length) == 0 &&
      ::getpeername(slot.fd.get(), reinterpret_cast<sockaddr*>(&remote),
                    &remote_length) == 0) {
    slot.tcp_tuple = internal::TcpTuple{local, remote};
  }
}

void Runner::Receive(Slot& slot, const uint8_t* data, size_t size) {
  slot.hash.Add(absl::MakeConstSpan(data, size));
  slot.received += size;
}

std::optional<StepOutcome> Runner::WaitReadable(Slot& slot) {
  absl::StatusOr<short> revents = internal::PollUntil(
      slot.fd.get(), POLLIN, absl::Now() + options_.step_timeout, "script");
  if (!revents.ok())
    return StepOutcome{"harness-error", revents.status().ToString()};
  if (*revents == 0) return StepOutcome{"timeout", ""};
  return std::nullopt;
}

absl::Status Runner::ConnectBounded(const Slot& self, int fd,
                                    const Endpoint& to) {
  (void)self;
  const absl::Duration timeout =
      std::min(options_.step_timeout, options_.connect_timeout);
  const absl::Time deadline = absl::Now() + timeout;
  if (!Tcp()) {
    // A unix connect waits for backlog room for up to SO_SNDTIMEO. A signal
    // (a child's SIGCHLD) may cut the wait short: wait again for what is
    // left, and at the deadline the outcome is the timeout, not EINTR.
    int r;
    int error = 0;
    for (;;) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) {
        error = EAGAIN;
        break;
      }
      timeval tv = absl::ToTimeval(std::max(left, absl::Microseconds(1)));
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
      r = ::connect(fd, to.addr(), to.length());
      error = r == 0 ? 0 : errno;
      if (error != EINTR) break;
    }
    timeval zero{};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &zero, sizeof(zero));
    if (error == 0) return absl::OkStatus();
    if (error == EAGAIN) return absl::DeadlineExceededError("timeout");
    return ErrnoStatus(error, "connect", "script");
  }
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  int r = ::connect(fd, to.addr(), to.length());
  int error = r == 0 ? 0 : errno;
  if (r != 0 && (error == EINPROGRESS || error == EINTR)) {
    absl::StatusOr<short> revents =
        internal::PollUntil(fd, POLLOUT, deadline, "script");
    if (revents.ok() && *revents == 0) {
      // A blocking connect that gave up leaves no attempt behind, as a
      // unix one that timed out does: otherwise the kernel's SYN
      // retransmission timer, not the script, decides when (and whether) a
      // later accept gets it. connect(AF_UNSPEC) would end SYN_SENT but
      // leave its marks (tcp_disconnect moves write_seq on by
      // max_window + 2, which SIOCOUTQ shows, and ECONNRESET pending), so
      // the attempt's socket is replaced by a fresh one, unconnected as
      // the unix one is.
      int domain = 0;
      socklen_t length = sizeof(domain);
      ::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length);
      const int fd_flags = ::fcntl(fd, F_GETFD);
      const int fresh = ::socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fresh < 0) return ErrnoStatus(errno, "socket", "script");
      const int replaced =
          ::dup3(fresh, fd, (fd_flags & FD_CLOEXEC) ? O_CLOEXEC : 0);
      const int dup_error = errno;
      ::close(fresh);
      if (replaced < 0) return ErrnoStatus(dup_error, "dup3", "script");
      ::fcntl(fd, F_SETFL, flags);
      return absl::DeadlineExceededError("timeout");
    }
    socklen_t length = sizeof(error);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
  }
  // The socket layer marks a non-blocking connect's socket connected only
  // at the next connect(2) (inet_stream_connect); a blocking connect leaves
  // it so, and a later connect then gives EISCONN, not 0.
  if (error == 0 && r != 0) ::connect(fd, to.addr(), to.length());
  ::fcntl(fd, F_SETFL, flags);
  if (error == 0) return absl::OkStatus();
  return ErrnoStatus(error, "connect", "script");
}

StepOutcome Runner::CloseSlot(Slot& slot, bool abort) {
  if (abort) {
    linger lg{1, 0};
    if (::setsockopt(slot.fd.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) !=
        0) {
      return Errno(errno, "setsockopt SO_LINGER");
    }
  }
  absl::Status closed = slot.fd.Close();
  slot.closed = true;
  slot.sent_fin = true;
  if (!closed.ok()) return Errno(ErrnoOf(closed).value_or(EIO));
  return {"ok", ""};
}

std::optional<StepOutcome> Runner::WaitUnlessNonblocking(Slot& slot) {
  if (slot.nonblocking) return std::nullopt;
  // A read on a listener fails at once, however blocking (EINVAL from
  // unix_stream_recvmsg, ENOTCONN from tcp_recvmsg), while poll's IN there
  // means a connection to accept: waiting for it would make the outcome
  // depend on the queue.
  int listening = 0;
  socklen_t length = sizeof(listening);
  if (::getsockopt(slot.fd.get(), SOL_SOCKET, SO_ACCEPTCONN, &listening,
                   &length) == 0 &&
      listening != 0) {
    return std::nullopt;
  }
  return WaitReadable(slot);
}

uint8_t* Runner::ReceiveBuffer() {
  if (buffer_ == nullptr) {
    buffer_ = std::make_unique_for_overwrite<uint8_t[]>(kChunk);
  }
  return buffer_.get();
}

Slot Runner::NewSlot(const Step& step) const {
  Slot slot;
  slot.address_owner = step.slot;
  return slot;
}

StepOutcome Runner::Keep(const Step& step, Slot slot, StepOutcome outcome) {
  slots_[step.slot] = std::move(slot);
  return outcome;
}

StepOutcome Runner::Run(const Step& step) {
  const VerbDescriptor& verb = Describe(step.verb);
  if (verb.creates()) {
    Slot* existing = Find(step.slot);
    if (existing != nullptr && !existing->closed && !existing->na) {
      return {"busy", absl::StrCat(step.slot, " is already open")};
    }
  }
  if (verb.on_any != nullptr) return (this->*verb.on_any)(step);
  Slot* slot = nullptr;
  if (auto missing = NeedOpen(step.slot, &slot)) return *missing;
  return (this->*verb.on_open)(step, *slot);
}

std::map<std::string, std::string> Runner::Received() const {
  std::map<std::string, std::string> received;
  for (const auto& [name, slot] : slots_) {
    if (slot.received > 0) {
      received[name] = absl::StrFormat("%d bytes fnv1a64=%016x", slot.received,
                                       slot.hash.value());
    }
  }
  return received;
}

}  // namespace sockparity::internal

namespace sockparity {

absl::StatusOr<Trace> RunScript(const Script& script, TransportKind kind,
                                const RunOptions& options) {
  if (absl::Status available = TransportAvailability(kind); !available.ok()) {
    return available;
  }
  std::optional<TempDir> dir;
  // Only UNIX paths need a directory (mkdir and rmdir were a quarter of the
  // fuzzer's time when every kind had one).
  if (kind == TransportKind::kUnixPath) {
    absl::StatusOr<TempDir> made = TempDir::Create();
    if (!made.ok()) return made.status();
    dir = *std::move(made);
  }
  // A UNIX socket has no timers: between steps nothing moves (the child of
  // connect-as-nobody is gone before its step ends), and readiness is
  // decided in the caller's own syscall, so a wait that does not end at
  // once never ends. Waiting it out for the full step timeout was most of
  // the lifecycle fuzzer's time; TCP keeps it (a zero-window probe or a
  // SYN retransmission can end a wait there).
  RunOptions effective = options;
  if (FamilyOf(kind) != Family::kTcp) {
    constexpr absl::Duration kUnixWait = absl::Milliseconds(100);
    effective.step_timeout = std::min(options.step_timeout, kUnixWait);
    effective.connect_timeout = std::min(options.connect_timeout, kUnixWait);
  }
  Trace trace;
  trace.kind = kind;
  {
    internal::Runner runner(kind, effective, std::move(dir));
    for (const Step& step : script.steps) {
      runner.SettleBefore(step);
      trace.steps.push_back(runner.Run(step));
      // "skipped": the step could not be tried here (not root).
      const std::string& outcome = trace.steps.back().outcome;
      if (step.expect && outcome != "skipped" &&
          !step.expect->Accepts(kind, outcome)) {
        trace.assertion_failures.push_back(
            {static_cast<int>(trace.steps.size()) - 1, step.expect->For(kind),
             outcome});
      }
      runner.Quiesce(options.acknowledge_every_step
                         ? internal::Runner::Settle::kAcknowledged
                         : internal::Runner::Settle::kDelivered);
    }
    trace.received = runner.Received();
  }
  return trace;
}

}  // namespace sockparity
