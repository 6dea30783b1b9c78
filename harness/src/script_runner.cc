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
#include "poll_wait.h"
#include "sockparity/bytes.h"
#include "sockparity/endpoint.h"
#include "sockparity/errors.h"
#include "sockparity/fd.h"
#include "sockparity/temp_dir.h"
#include "sockparity/trace.h"
#include "tcp_lookup.h"

namespace sockparity {
namespace {

constexpr size_t kChunk = size_t{64} << 10;

struct Slot {
  Fd fd;
  bool listener = false;
  bool nonblocking = false;
  bool na = false;                  // created as "n/a" on this kind
  std::string peer;                 // the slot at the other end
  std::optional<Endpoint> address;  // bound address of a listener or bind
  std::string address_owner;        // the name sockname/peername report
  uint64_t sent = 0;                // pattern offset of the next byte
  uint64_t received = 0;
  uint64_t hash = 1469598103934665603ull;  // FNV-1a 64 of received bytes
  bool sent_fin = false;                   // shutdown wr, close or abort done
  // A closed TCP socket is looked up by its addresses.
  std::optional<internal::TcpTuple> tcp_tuple;
  bool closed = false;
  std::deque<std::string> pending;  // listeners: connected slots not accepted
};

uint8_t PatternByte(const std::string& slot, uint64_t offset) {
  uint64_t seed = 0;
  for (char c : slot) seed = seed * 31 + static_cast<uint8_t>(c);
  return static_cast<uint8_t>((offset * 131 + seed) % 251);
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

// "ADDR:PORT" as /proc/net/tcp prints it, for a socket's address.
class Runner {
 public:
  Runner(TransportKind kind, const RunOptions& options, TempDir dir)
      : kind_(kind), options_(options), dir_(std::move(dir)) {}

  ~Runner() {
    for (pid_t child : children_) ::waitpid(child, nullptr, 0);
  }

  StepOutcome Run(const Step& step);
  // How settled the sockets must be: kDelivered (everything sent, FINs and
  // resets included, is at the other end) after every step; kAcknowledged
  // (the other end's ACKs are back, so the sender's state, buffer space and
  // closing states are final) before a step that can see those. Loopback
  // TCP delays the ACK of a FIN by 40 ms, so waiting for it after every step
  // made TCP scripts a hundred times slower than UNIX ones.
  enum class Settle { kDelivered, kAcknowledged };
  void Quiesce(Settle level);
  static bool SeesAcknowledgements(const Step& step, bool nonblocking);
  bool DeliveredToPeer(const Slot& sender);
  bool NonBlocking(const std::string& name) {
    Slot* slot = Find(name);
    return slot != nullptr && slot->nonblocking;
  }
  std::map<std::string, std::string> Received() const;

 private:
  bool Tcp() const { return FamilyOf(kind_) == Family::kTcp; }
  int Domain() const {
    return kind_ == TransportKind::kTcp4   ? AF_INET
           : kind_ == TransportKind::kTcp6 ? AF_INET6
                                           : AF_UNIX;
  }
  Slot* Find(const std::string& name) {
    auto it = slots_.find(name);
    return it == slots_.end() ? nullptr : &it->second;
  }
  std::optional<StepOutcome> NeedOpen(const std::string& name, Slot** out);
  StepOutcome Errno(int error, absl::string_view detail = "") {
    return {ErrnoName(error), std::string(detail)};
  }
  absl::StatusOr<Fd> NewSocket(int extra_flags = 0);
  Endpoint FreshAddress(const std::string& slot);
  std::string NameOf(const sockaddr_storage& ss, socklen_t length,
                     const std::string& slot);
  absl::Status ConnectBounded(const Slot& self, int fd, const Endpoint& to);
  void RecordTcpTuple(Slot& slot);
  void Receive(Slot& slot, const uint8_t* data, size_t size);
  std::optional<StepOutcome> WaitReadable(Slot& slot);
  StepOutcome CloseSlot(Slot& slot, bool abort);
  StepOutcome Creating(const Step& step);
  StepOutcome Data(const Step& step, Slot& slot);
  StepOutcome Inspect(const Step& step, Slot& slot);

  const TransportKind kind_;
  const RunOptions options_;
  TempDir dir_;
  std::map<std::string, Slot> slots_;
  std::vector<Fd> reserved_;  // ports bound so nothing can listen there
  std::vector<pid_t> children_;
  int names_ = 0;
};

absl::StatusOr<Fd> Runner::NewSocket(int extra_flags) {
  int fd = ::socket(Domain(), SOCK_STREAM | SOCK_CLOEXEC | extra_flags, 0);
  if (fd < 0) return ErrnoStatus(errno, "socket", TransportName(kind_));
  return Fd(fd);
}

Endpoint Runner::FreshAddress(const std::string& slot) {
  switch (kind_) {
    case TransportKind::kUnixPath:
      return *Endpoint::UnixPath(
          absl::StrCat(dir_.path(), "/", slot, "-", names_++, ".sock"));
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
  for (size_t i = 0; i < size; ++i) {
    slot.hash = (slot.hash ^ data[i]) * 1099511628211ull;
  }
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
  const absl::Time deadline = absl::Now() + options_.step_timeout;
  if (!Tcp()) {
    // A unix connect waits for backlog room for up to SO_SNDTIMEO.
    timeval tv = absl::ToTimeval(options_.step_timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int r;
    do {
      r = ::connect(fd, to.addr(), to.length());
    } while (r != 0 && errno == EINTR && absl::Now() < deadline);
    int error = errno;
    timeval zero{};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &zero, sizeof(zero));
    if (r == 0) return absl::OkStatus();
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
      ::fcntl(fd, F_SETFL, flags);
      return absl::DeadlineExceededError("timeout");
    }
    socklen_t length = sizeof(error);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
  }
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

StepOutcome Runner::Run(const Step& step) {
  switch (step.verb) {
    case Verb::kPair:
    case Verb::kBind:
    case Verb::kListen:
    case Verb::kBindSame:
    case Verb::kBindPathLength:
    case Verb::kConnect:
    case Verb::kConnectNb:
    case Verb::kConnectMissing:
    case Verb::kConnectAsNobody:
    case Verb::kAccept:
    case Verb::kStat:
      return Creating(step);
    default:
      break;
  }
  if (step.verb == Verb::kTcpState) {
    // A closed TCP socket lives on in the kernel (FIN_WAIT2, TIME_WAIT...).
    Slot* closed = Find(step.slot);
    if (closed != nullptr && closed->closed && !closed->na) {
      if (!closed->tcp_tuple) return {"closed", "no TCP connection"};
      std::optional<int> state = internal::LookUpTcpState(*closed->tcp_tuple);
      return {state ? TcpStateName(*state) : "gone", "looked up by address"};
    }
  }
  Slot* slot = nullptr;
  if (auto missing = NeedOpen(step.slot, &slot)) return *missing;
  switch (step.verb) {
    case Verb::kShutdown: {
      int how = step.keyword == "rd"   ? SHUT_RD
                : step.keyword == "wr" ? SHUT_WR
                                       : SHUT_RDWR;
      if (::shutdown(slot->fd.get(), how) != 0) return Errno(errno);
      if (how != SHUT_RD) slot->sent_fin = true;
      return {"ok", ""};
    }
    case Verb::kClose:
      return CloseSlot(*slot, false);
    case Verb::kAbort:
      return CloseSlot(*slot, true);
    case Verb::kNonblock: {
      int flags = ::fcntl(slot->fd.get(), F_GETFL);
      if (flags < 0 ||
          ::fcntl(slot->fd.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
        return Errno(errno);
      }
      slot->nonblocking = true;
      return {"ok", ""};
    }
    case Verb::kPoll:
    case Verb::kSoError:
    case Verb::kPeercred:
    case Verb::kSndbuf:
    case Verb::kRcvbuf:
    case Verb::kNodelay:
    case Verb::kTcpState:
    case Verb::kSockname:
    case Verb::kPeername:
      return Inspect(step, *slot);
    default:
      return Data(step, *slot);
  }
}

StepOutcome Runner::Data(const Step& step, Slot& slot) {
  const int fd = slot.fd.get();
  switch (step.verb) {
    case Verb::kSend: {
      const absl::Time deadline = absl::Now() + options_.step_timeout;
      uint64_t done = 0;
      Bytes chunk;
      while (done < static_cast<uint64_t>(step.number)) {
        size_t size = std::min<uint64_t>(kChunk, step.number - done);
        chunk.resize(size);
        for (size_t i = 0; i < size; ++i)
          chunk[i] = PatternByte(step.slot, slot.sent + i);
        ssize_t n = ::send(fd, chunk.data(), size, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
          slot.sent += n;
          done += n;
          continue;
        }
        int error = errno;
        if (error == EINTR) continue;
        std::string detail = absl::StrCat("sent ", done, " of ", step.number);
        if (error == EAGAIN && slot.nonblocking) return Errno(error, detail);
        if (error == EAGAIN) {
          absl::StatusOr<short> revents =
              internal::PollUntil(fd, POLLOUT, deadline, "script");
          if (revents.ok() && *revents == 0) return {"timeout", detail};
          continue;
        }
        return Errno(error, detail);
      }
      return {"ok", absl::StrCat("sent ", done)};
    }
    case Verb::kFill: {
      uint64_t done = 0;
      Bytes chunk(kChunk);
      while (true) {
        for (size_t i = 0; i < kChunk; ++i)
          chunk[i] = PatternByte(step.slot, slot.sent + i);
        ssize_t n =
            ::send(fd, chunk.data(), kChunk, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
          slot.sent += n;
          done += n;
          continue;
        }
        if (errno == EINTR) continue;
        // How much fits before EAGAIN depends, on TCP, on how far loopback
        // delivery got meanwhile (softirq work is deferred under load), so
        // the count is a detail; the buffer sizes themselves are compared.
        if (errno == EAGAIN) {
          return {"EAGAIN", absl::StrCat("accepted ", done, " bytes")};
        }
        return Errno(errno, absl::StrCat("accepted ", done, " bytes"));
      }
    }
    case Verb::kSendFd: {
      uint8_t byte = PatternByte(step.slot, slot.sent);
      iovec iov{&byte, 1};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof(control);
      cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN(sizeof(int));
      Fd passed(::open("/dev/null", O_RDONLY | O_CLOEXEC));
      int raw = passed.get();
      std::memcpy(CMSG_DATA(cmsg), &raw, sizeof(int));
      ssize_t n;
      do {
        n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
      } while (n < 0 && errno == EINTR);
      if (n < 0) return Errno(errno);
      slot.sent += 1;
      return {"ok", ""};
    }
    default:
      break;
  }
  // The receiving verbs.
  const bool peek = step.verb == Verb::kPeek;
  const bool drain = step.verb == Verb::kDrain;
  if (!peek && !drain && !slot.nonblocking) {
    if (auto waited = WaitReadable(slot)) {
      if (waited->outcome != "timeout" || step.verb != Verb::kRecvUntilEof) {
        return *waited;
      }
      return *waited;
    }
  }
  Bytes buffer(kChunk);
  switch (step.verb) {
    case Verb::kRecv:
    case Verb::kPeek: {
      size_t want = std::min<uint64_t>(step.number, kChunk);
      int flags = MSG_DONTWAIT | (peek ? MSG_PEEK : 0);
      ssize_t n;
      do {
        n = ::recv(fd, buffer.data(), want, flags);
      } while (n < 0 && errno == EINTR);
      if (n < 0) return Errno(errno);
      if (n == 0) return {want == 0 ? "ok" : "eof", ""};
      if (!peek) Receive(slot, buffer.data(), n);
      return {"data", absl::StrCat(n, " bytes")};
    }
    case Verb::kRecvWaitall: {
      Bytes all(step.number);
      timeval tv = absl::ToTimeval(options_.step_timeout);
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      ssize_t n = ::recv(fd, all.data(), all.size(), MSG_WAITALL);
      int error = errno;
      timeval zero{};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &zero, sizeof(zero));
      if (n > 0) Receive(slot, all.data(), n);
      if (n == step.number) return {"ok", ""};
      if (n > 0) return {"short", absl::StrCat(n, " of ", step.number)};
      if (n == 0) return {"eof", ""};
      if (error == EAGAIN && !slot.nonblocking) return {"timeout", ""};
      return Errno(error);
    }
    case Verb::kRecvExactly:
    case Verb::kRecvUntilEof:
    case Verb::kDrain: {
      const absl::Time deadline = absl::Now() + options_.step_timeout;
      const uint64_t want =
          step.verb == Verb::kRecvExactly ? step.number : UINT64_MAX;
      uint64_t got = 0;
      while (got < want) {
        size_t size = std::min<uint64_t>(kChunk, want - got);
        ssize_t n = ::recv(fd, buffer.data(), size, MSG_DONTWAIT);
        if (n > 0) {
          Receive(slot, buffer.data(), n);
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
    case Verb::kRecvFd: {
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
    default:
      return {"harness-error", "unhandled verb"};
  }
}

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

StepOutcome Runner::Creating(const Step& step) {
  // tcp-state on a closed TCP socket, and stat, look at the slot itself.
  if (step.verb == Verb::kStat) {
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
  Slot* existing = Find(step.slot);
  if (existing != nullptr && !existing->closed && !existing->na) {
    return {"busy", absl::StrCat(step.slot, " is already open")};
  }
  const bool has_address = HasAddress(kind_);
  Slot slot;
  slot.address_owner = step.slot;
  auto done = [&](StepOutcome outcome) {
    slots_[step.slot] = std::move(slot);
    return outcome;
  };
  auto not_here = [&](absl::string_view why) {
    slot.na = true;
    return done({"n/a", std::string(why)});
  };
  switch (step.verb) {
    case Verb::kPair: {
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
        if (!listener.ok())
          return {"harness-error", listener.status().ToString()};
        Endpoint address = FreshAddress("pair");
        if (::bind(listener->get(), address.addr(), address.length()) != 0 ||
            ::listen(listener->get(), 1) != 0) {
          return Errno(errno, "pair listener");
        }
        absl::StatusOr<Endpoint> bound =
            Endpoint::BoundTo(listener->get(), kind_);
        Slot pair_listener;
        pair_listener.address = *bound;
        pair_listener.address_owner = "pair";
        pair_listener.closed = true;
        absl::StatusOr<Fd> client = NewSocket();
        if (!client.ok()) return {"harness-error", client.status().ToString()};
        if (absl::Status c = ConnectBounded(slot, client->get(), *bound);
            !c.ok()) {
          return {"harness-error", c.ToString()};
        }
        int accepted = -1;
        if (internal::PollUntil(listener->get(), POLLIN,
                                absl::Now() + options_.step_timeout, "pair")
                .value_or(0) != 0) {
          accepted = ::accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC);
        }
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
      return done({"ok", ""});
    }
    case Verb::kBind:
    case Verb::kListen:
    case Verb::kBindSame:
    case Verb::kBindPathLength: {
      if (!has_address) return not_here("socketpair has no address");
      Endpoint address = FreshAddress(step.slot);
      if (step.verb == Verb::kBindSame) {
        Slot* target = Find(step.target);
        if (target == nullptr || target->na || !target->address) {
          return not_here(absl::StrCat(step.target, " has no address"));
        }
        address = *target->address;
        slot.address_owner = target->address_owner;
      }
      sockaddr_un long_address{};
      socklen_t long_length = 0;
      if (step.verb == Verb::kBindPathLength) {
        if (Tcp()) {
          slot.na = true;
          return done({"no-path", "TCP addresses have no path"});
        }
        // N bytes of sun_path (a leading NUL included for abstract names),
        // more than sun_path holds where N says so.
        const size_t n = step.number;
        std::string path;
        if (kind_ == TransportKind::kUnixAbstract) {
          path = std::string(1, '\0') +
                 absl::StrFormat("sockparity-len-%d-%d-", ::getpid(), names_++);
        } else {
          path = absl::StrCat(dir_.path(), "/", step.slot, "-", names_++, "-");
        }
        if (path.size() > n || n == 0)
          return not_here("the base path is longer than N");
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
        return done(Errno(errno, "bind"));
      }
      slot.fd = std::move(*fd);
      absl::StatusOr<Endpoint> bound = Endpoint::BoundTo(slot.fd.get(), kind_);
      if (bound.ok()) slot.address = *bound;
      if (step.verb == Verb::kListen) {
        if (::listen(slot.fd.get(), static_cast<int>(step.number)) != 0) {
          return done(Errno(errno, "listen"));
        }
        slot.listener = true;
      }
      return done({"ok", ""});
    }
    case Verb::kConnect:
    case Verb::kConnectNb:
    case Verb::kConnectMissing: {
      if (!has_address) return not_here("socketpair has no address");
      std::optional<Endpoint> to;
      Slot* target = nullptr;
      if (step.verb == Verb::kConnectMissing) {
        if (Tcp()) {
          // A port bound without listen: no one can listen there meanwhile.
          absl::StatusOr<Fd> holder = NewSocket();
          if (!holder.ok())
            return {"harness-error", holder.status().ToString()};
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
          return not_here("nothing to connect to");
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
                              absl::Now() + options_.step_timeout, "connect")
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
      return done(outcome);
    }
    case Verb::kConnectAsNobody: {
      Slot* target = Find(step.target);
      if (!has_address || target == nullptr || target->na) {
        return not_here("nothing to connect to");
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
          if (s < 0 || ::connect(s, to.addr(), to.length()) != 0)
            result = errno;
        }
        (void)!::write(write_end.get(), &result, sizeof(result));
        ::_exit(0);
      }
      write_end.Close().IgnoreError();
      int result = EIO;
      if (internal::PollUntil(read_end.get(), POLLIN,
                              absl::Now() + options_.step_timeout, "child")
              .value_or(0) != 0) {
        (void)!::read(read_end.get(), &result, sizeof(result));
      }
      ::waitpid(child, nullptr, 0);
      slot.closed = true;  // the child's socket went with it
      if (result < 0)
        return done({"skipped",
                     absl::StrCat("cannot switch user: ", ErrnoName(-result))});
      if (result == 0) {
        target->pending.push_back(" nobody");
        return done({"ok", ""});
      }
      return done(Errno(result));
    }
    case Verb::kAccept: {
      Slot* target = Find(step.target);
      if (!has_address || target == nullptr || target->na) {
        return not_here("nothing to accept on");
      }
      if (target->closed) return {"closed", ""};
      absl::StatusOr<short> revents =
          internal::PollUntil(target->fd.get(), POLLIN,
                              absl::Now() + options_.step_timeout, "accept");
      if (!revents.ok() || *revents == 0) return {"timeout", ""};
      int fd;
      do {
        fd = ::accept4(target->fd.get(), nullptr, nullptr, SOCK_CLOEXEC);
      } while (fd < 0 && errno == EINTR);
      if (fd < 0) return Errno(errno);
      slot.fd = Fd(fd);
      RecordTcpTuple(slot);
      if (!target->pending.empty()) {
        slot.peer = target->pending.front();
        target->pending.pop_front();
        if (Slot* client = Find(slot.peer)) client->peer = step.slot;
      }
      return done({"ok", ""});
    }
    default:
      return {"harness-error", "unhandled verb"};
  }
}

// Whether a step's outcome can depend on ACKs having come back, rather than
// only on what reached its socket: TCP states, poll's OUT, buffer space and
// sizes (autotuned on ACK), and everything about addresses and listeners.
bool Runner::SeesAcknowledgements(const Step& step, bool nonblocking) {
  switch (step.verb) {
    case Verb::kPair:
    case Verb::kRecv:
    case Verb::kRecvExactly:
    case Verb::kRecvUntilEof:
    case Verb::kRecvWaitall:
    case Verb::kPeek:
    case Verb::kDrain:
    case Verb::kRecvFd:
    case Verb::kShutdown:
    case Verb::kClose:
    case Verb::kAbort:
    case Verb::kNonblock:
    case Verb::kSoError:
    case Verb::kPeercred:
    case Verb::kNodelay:
    case Verb::kSockname:
    case Verb::kPeername:
      return false;
    case Verb::kSend:
    case Verb::kSendFd:
      // A blocking send waits for space (up to the step timeout) either way;
      // a non-blocking one sees EAGAIN if the space is not back yet.
      return nonblocking;
    default:
      return true;
  }
}

// Waits until what the last step set off has reached the other side (and,
// for kAcknowledged, until the other side's answers are back): on TCP, no
// handshake half-done; every byte and FIN a socket sent is in its peer's
// receive queue, or acknowledged, or held back by a closed window; every
// socket whose peer sent a FIN or reset has seen it. UNIX sockets act
// synchronously.
void Runner::Quiesce(Settle level) {
  if (!Tcp()) return;
  const absl::Time deadline = absl::Now() + options_.quiescence_timeout;
  absl::Duration pause = absl::Microseconds(50);
  while (true) {
    bool settled = true;
    for (auto& [name, slot] : slots_) {
      if (slot.na) continue;
      const bool delivered =
          level == Settle::kDelivered && DeliveredToPeer(slot);
      if (slot.closed) {
        if (!slot.tcp_tuple || delivered) continue;
        std::optional<int> state = internal::LookUpTcpState(*slot.tcp_tuple);
        if (state && (*state == TCP_FIN_WAIT1 || *state == TCP_LAST_ACK ||
                      *state == TCP_CLOSING)) {
          settled = false;
        }
        continue;
      }
      if (slot.listener || !slot.fd.valid()) continue;
      tcp_info info{};
      socklen_t length = sizeof(info);
      if (::getsockopt(slot.fd.get(), IPPROTO_TCP, TCP_INFO, &info, &length) !=
          0)
        continue;
      const int state = info.tcpi_state;
      // A reset connection (CLOSE) sends nothing more, though SIOCOUTQ
      // still counts what was never acknowledged.
      if (state == TCP_CLOSE) continue;
      if (state == TCP_SYN_RECV) settled = false;
      // Queued bytes with nothing unacknowledged are waiting for the peer
      // to read (a closed window): nothing moves until a later step.
      int outq = 0;
      const bool in_flight = ::ioctl(slot.fd.get(), SIOCOUTQ, &outq) == 0 &&
                             outq > 0 && info.tcpi_unacked > 0;
      const bool closing = state == TCP_FIN_WAIT1 || state == TCP_LAST_ACK ||
                           state == TCP_CLOSING;
      if ((in_flight || closing) && !delivered) settled = false;
      Slot* peer = slot.peer.empty() ? nullptr : Find(slot.peer);
      if (peer != nullptr && peer->sent_fin &&
          (state == TCP_ESTABLISHED || state == TCP_FIN_WAIT2)) {
        settled = false;
      }
    }
    if (settled || absl::Now() >= deadline) return;
    absl::SleepFor(pause);  // pacing the re-check, bounded by the deadline
    pause = std::min(pause * 2, absl::Milliseconds(10));
  }
}

// Whether everything `sender` sent, and its FIN, is at its open peer: the
// peer has read or holds in its queue every byte, and is past ESTABLISHED
// if a FIN or reset was sent. (The peer's ACK may still be on its way.)
bool Runner::DeliveredToPeer(const Slot& sender) {
  Slot* peer = sender.peer.empty() ? nullptr : Find(sender.peer);
  if (peer == nullptr || peer->na || peer->closed || peer->listener ||
      !peer->fd.valid()) {
    return false;
  }
  int queued = 0;
  if (::ioctl(peer->fd.get(), SIOCINQ, &queued) != 0) return false;
  if (peer->received + static_cast<uint64_t>(queued) < sender.sent) {
    return false;
  }
  if (!sender.sent_fin) return true;
  tcp_info info{};
  socklen_t length = sizeof(info);
  if (::getsockopt(peer->fd.get(), IPPROTO_TCP, TCP_INFO, &info, &length) !=
      0) {
    return false;
  }
  return info.tcpi_state != TCP_ESTABLISHED && info.tcpi_state != TCP_FIN_WAIT2;
}

std::map<std::string, std::string> Runner::Received() const {
  std::map<std::string, std::string> received;
  for (const auto& [name, slot] : slots_) {
    if (slot.received > 0) {
      received[name] =
          absl::StrFormat("%d bytes fnv1a64=%016x", slot.received, slot.hash);
    }
  }
  return received;
}

}  // namespace

absl::StatusOr<Trace> RunScript(const Script& script, TransportKind kind,
                                const RunOptions& options) {
  if (absl::Status available = TransportAvailability(kind); !available.ok()) {
    return available;
  }
  absl::StatusOr<TempDir> dir = TempDir::Create();
  if (!dir.ok()) return dir.status();
  Trace trace;
  trace.kind = kind;
  {
    Runner runner(kind, options, std::move(*dir));
    for (const Step& step : script.steps) {
      if (Runner::SeesAcknowledgements(step, runner.NonBlocking(step.slot))) {
        runner.Quiesce(Runner::Settle::kAcknowledged);
      }
      trace.steps.push_back(runner.Run(step));
      runner.Quiesce(options.acknowledge_every_step
                         ? Runner::Settle::kAcknowledged
                         : Runner::Settle::kDelivered);
    }
    trace.received = runner.Received();
  }
  return trace;
}

}  // namespace sockparity
