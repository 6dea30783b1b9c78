#include "check/client/client_context.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "check/peer_link.h"
#include "check/process_stats.h"
#include "check/sock_diag.h"
#include "sockparity/check/peer_contract.h"
#include "sockparity/net/errors.h"
#include "sockparity/net/io.h"

namespace sockparity::internal {
namespace {

// The descriptor number fd:N gives the client.
constexpr int kClientFd = 3;

std::optional<uint16_t> PortOf(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET)
    return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
  if (address.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
  return std::nullopt;
}

std::string Lengths(const std::vector<Bytes>& replies) {
  std::vector<std::string> sizes;
  for (const Bytes& reply : replies)
    sizes.push_back(absl::StrCat(reply.size()));
  if (sizes.size() > 6) {
    const size_t left_out = sizes.size() - 4;
    sizes.resize(3);
    sizes.push_back(absl::StrCat("... (", left_out, " more)"));
  }
  return absl::StrJoin(sizes, ", ");
}

// One connection, if one comes within 20 ms.
absl::StatusOr<Socket> AcceptOne(int listen_fd, TransportKind kind) {
  pollfd watched{listen_fd, POLLIN, 0};
  int ready;
  do {
    ready = ::poll(&watched, 1, 20);
  } while (ready < 0 && errno == EINTR);
  if (ready <= 0) return absl::DeadlineExceededError("no connection yet");
  Fd fd(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "accept4", "the listener");
  return Socket(std::move(fd), kind);
}

}  // namespace

std::optional<std::string> ClientLacks(ClientNeed need,
                                       ContractTransport transport) {
  switch (need) {
    case ClientNeed::kAny:
      return std::nullopt;
    case ClientNeed::kConnect:
      if (transport == ContractTransport::kFd)
        return "fd:N hands the client a connection made already";
      return std::nullopt;
    case ClientNeed::kUnixPath:
      if (transport == ContractTransport::kUnix) return std::nullopt;
      return "a case about socket files: unix: alone";
    case ClientNeed::kFd:
      if (transport == ContractTransport::kFd) return std::nullopt;
      return "only fd:N gives the client a connection its peer has closed "
             "before the client's first write (a listener's peer would "
             "race the client's write)";
  }
  return std::nullopt;
}

ClientContext::~ClientContext() {
  if (client_) client_->Stop(absl::Seconds(2));
}

std::optional<Listener> ClientContext::Listen(int backlog) {
  absl::StatusOr<Listener> listener = Listener::Open(
      SocketKindOf(transport()), ListenOptions{.backlog = backlog});
  if (!listener.ok()) {
    CannotJudge(
        absl::StrCat("the suite's listener: ", listener.status().message()));
    return std::nullopt;
  }
  return std::move(*listener);
}

bool ClientContext::StartClient(const std::string& address,
                                const Bytes& requests, const Fd* inherited) {
  if (!dir_) {
    absl::StatusOr<TempDir> dir = TempDir::Create();
    if (!dir.ok()) {
      CannotJudge(absl::StrCat("a directory for the client's input: ",
                               dir.status().message()));
      return false;
    }
    dir_.emplace(std::move(*dir));
  }
  const std::string path = dir_->path() + "/requests";
  {
    Fd out(
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    size_t done = 0;
    while (out.valid() && done < requests.size()) {
      const ssize_t n =
          ::write(out.get(), requests.data() + done, requests.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    if (!out.valid() || done < requests.size()) {
      CannotJudge(absl::StrCat("cannot write ", path, ": ", ErrnoName(errno)));
      return false;
    }
  }
  Fd input(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!input.valid()) {
    CannotJudge(absl::StrCat("cannot open ", path, ": ", ErrnoName(errno)));
    return false;
  }
  absl::StatusOr<SutProcess> client = SutProcess::Launch(
      setup_.options->command, address, input, inherited,
      inherited != nullptr ? kClientFd : -1, setup_.environment);
  if (!client.ok()) {
    CannotJudge(absl::StrCat("the client could not be started: ",
                             client.status().message()));
    return false;
  }
  client_.emplace(std::move(*client));
  Log(absl::StrCat("started the client on ", address, " with ", requests.size(),
                   " bytes of requests"));
  return true;
}

bool ClientContext::Launch(const std::string& address, const Bytes& requests) {
  return StartClient(address, requests, nullptr);
}

std::optional<Socket> ClientContext::LaunchConnected(const Bytes& requests) {
  absl::StatusOr<SocketPair> pair =
      MakeConnectedPair(TransportKind::kSocketpair);
  if (!pair.ok()) {
    CannotJudge(absl::StrCat("socketpair: ", pair.status().message()));
    return std::nullopt;
  }
  if (!StartClient(absl::StrCat("fd:", kClientFd), requests,
                   &pair->b.owned_fd())) {
    return std::nullopt;
  }
  if (absl::StatusOr<uint64_t> peer = PeerSocketInode(pair->a); peer.ok())
    client_socket_ = *peer;
  return std::move(pair->a);
}

bool ClientContext::LaunchConnectedClosed(const Bytes& requests) {
  absl::StatusOr<SocketPair> pair =
      MakeConnectedPair(TransportKind::kSocketpair);
  if (!pair.ok()) {
    CannotJudge(absl::StrCat("socketpair: ", pair.status().message()));
    return false;
  }
  if (absl::StatusOr<uint64_t> peer = PeerSocketInode(pair->a); peer.ok())
    client_socket_ = *peer;
  (void)pair->a.Close();
  Log("the suite's end closed before the client starts");
  return StartClient(absl::StrCat("fd:", kClientFd), requests,
                     &pair->b.owned_fd());
}

std::optional<Socket> ClientContext::Connected(const Bytes& requests) {
  if (transport() == ContractTransport::kFd) return LaunchConnected(requests);
  std::optional<Listener> listener = Listen();
  if (!listener || !Launch(listener->endpoint().ToString(), requests))
    return std::nullopt;
  return AcceptClient(*listener, timeout());
}

bool ClientContext::ClientEnded(absl::string_view while_doing) {
  std::optional<ClientReport> report = ReportSoFar();
  if (!report) return true;
  if (report->end) {
    Fail(while_doing, absl::StrCat("the client reported 'end ",
                                   report->end->ToString(), "'"));
    return true;
  }
  if (std::optional<SutExit> exit = client_->Poll()) {
    if (exit->exited && exit->code == kSutUnsupportedExit &&
        report->lines.empty()) {
      outcome_.unsupported = true;  // a form it declines
      return true;
    }
    Fail(while_doing, absl::StrCat("the client ended (", exit->Describe(),
                                   ") without an end line"));
    return true;
  }
  return false;
}

std::optional<Socket> ClientContext::AcceptClient(int listen_fd,
                                                  absl::string_view address,
                                                  absl::Duration within) {
  const absl::Time deadline = absl::Now() + within;
  const std::string expected =
      absl::StrCat("the client to connect to ", address);
  while (true) {
    absl::StatusOr<Socket> accepted =
        AcceptOne(listen_fd, SocketKindOf(transport()));
    if (accepted.ok()) {
      bool ours = false;
      if (transport() == ContractTransport::kTcp4 ||
          transport() == ContractTransport::kTcp6) {
        sockaddr_storage peer{};
        socklen_t length = sizeof(peer);
        if (::getpeername(accepted->fd(), reinterpret_cast<sockaddr*>(&peer),
                          &length) == 0) {
          std::optional<uint16_t> port = PortOf(peer);
          ours = port && filler_ports_.count(*port) > 0;
        }
      } else {
        ucred credentials{};
        socklen_t length = sizeof(credentials);
        ours = ::getsockopt(accepted->fd(), SOL_SOCKET, SO_PEERCRED,
                            &credentials, &length) == 0 &&
               credentials.pid == ::getpid();
      }
      if (!ours) {
        Log("accepted the client's connection");
        if (absl::StatusOr<uint64_t> peer = PeerSocketInode(*accepted);
            peer.ok() && *peer != 0) {
          client_socket_ = *peer;
        }
        return std::move(*accepted);
      }
      fillers_.push_back(std::move(*accepted));  // the server end, held
      continue;
    }
    if (ClientEnded(expected)) return std::nullopt;
    if (absl::Now() >= deadline) {
      Fail(expected,
           absl::StrCat("no connection within ", absl::FormatDuration(within)));
      return std::nullopt;
    }
  }
}

bool ClientContext::AddFiller(const Listener& listener) {
  const Endpoint& endpoint = listener.endpoint();
  Fd fd(::socket(endpoint.domain(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                 0));
  if (!fd.valid()) return false;
  const int rc = ::connect(fd.get(), endpoint.addr(), endpoint.length());
  if (rc != 0 && errno != EINPROGRESS) return false;  // EAGAIN: full
  bool complete = rc == 0;
  if (!complete) {
    // TCP: the handshake completes at once unless the accept queue is full.
    absl::StatusOr<short> events = WaitForEvents(
        IoTarget(fd.get(), "a filler"), POLLOUT, absl::Milliseconds(100));
    complete = events.ok();
  }
  if (sockaddr_storage local{}; true) {
    socklen_t length = sizeof(local);
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &length) ==
        0) {
      if (std::optional<uint16_t> port = PortOf(local))
        filler_ports_.insert(*port);
    }
  }
  fillers_.emplace_back(std::move(fd), endpoint.kind());
  return complete;
}

bool ClientContext::Send(Socket& s, const Bytes& bytes,
                         absl::string_view what) {
  // A large reply goes at the client's pace: 3 timeouts without progress.
  const absl::Status sent = SendAll(s, bytes, 3 * timeout());
  if (sent.ok()) {
    Log(absl::StrCat("> ", what, " (", bytes.size(), " bytes)"));
    return true;
  }
  Fail(absl::StrCat("the client to take ", what), absl::StrCat(sent.message()));
  return false;
}

bool ClientContext::ReadRequests(Socket& s, size_t n) {
  absl::StatusOr<Bytes> got = RecvExactly(s, n, 3 * timeout());
  if (got.ok()) {
    Log(absl::StrCat("< the client's requests (", n, " bytes)"));
    return true;
  }
  Fail(absl::StrCat("the client to send its ", n, " bytes of requests"),
       absl::StrCat(got.status().message()));
  return false;
}

void ClientContext::CloseWithUnread(Socket& s) {
  const linger abort{1, 0};
  (void)::setsockopt(s.fd(), SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
  (void)s.Close();
}

std::optional<ClientReport> ClientContext::ReportSoFar() {
  if (!client_) return std::nullopt;
  absl::StatusOr<ClientReport> report =
      ParseClientReport(client_->StandardOutput());
  if (!report.ok()) {
    Fail("the lines of docs/CLIENT_CONTRACT.md",
         std::string(report.status().message()));
    return std::nullopt;
  }
  return std::move(*report);
}

std::optional<ClientReport> ClientContext::AwaitEnd() {
  if (!client_) return std::nullopt;
  // A client that computes (a 16 MiB reply hashed in Python) is not hung:
  // the wait is for a timeout in which it used no CPU, up to 6 timeouts.
  const absl::Time start = absl::Now();
  const absl::Time last_chance = start + 6 * timeout();
  absl::Time deadline = start + timeout();
  std::optional<absl::Duration> cpu = CpuTimeOf(client_->pid());
  absl::Time cpu_seen = start;
  absl::Duration pause = absl::Milliseconds(1);
  while (true) {
    std::optional<SutExit> exit = client_->Poll();
    std::optional<ClientReport> report = ReportSoFar();
    if (!report) return std::nullopt;
    if (report->end) return report;
    if (exit) {
      if (exit->exited && exit->code == kSutUnsupportedExit &&
          report->lines.empty()) {
        outcome_.unsupported = true;
        return std::nullopt;
      }
      Fail("an end line (docs/CLIENT_CONTRACT.md)",
           absl::StrCat("the client ended (", exit->Describe(),
                        ") without one"));
      return std::nullopt;
    }
    const absl::Time now = absl::Now();
    if (now - cpu_seen >= absl::Milliseconds(100)) {
      std::optional<absl::Duration> used = CpuTimeOf(client_->pid());
      if (used && cpu && *used > *cpu) {
        deadline = std::min(last_chance, now + timeout());
      }
      cpu = used;
      cpu_seen = now;
    }
    if (now >= deadline) {
      Fail(absl::StrCat("an end line within ", absl::FormatDuration(timeout()),
                        " of the client's last use of the CPU"),
           report->lines.empty()
               ? std::string("no line at all")
               : absl::StrCat("only: ", absl::StrJoin(report->lines, "; ")));
      return std::nullopt;
    }
    absl::SleepFor(pause);  // pacing re-reads of its output, bounded above
    pause = std::min(pause * 2, absl::Milliseconds(20));
  }
}

void ClientContext::Fail(absl::string_view expected, absl::string_view saw) {
  outcome_.missed.emplace_back(std::string(expected), std::string(saw));
}

void ClientContext::MissShould(absl::string_view expected,
                               absl::string_view saw) {
  outcome_.missed_should.emplace_back(std::string(expected), std::string(saw));
}

void ClientContext::CannotJudge(absl::string_view why) {
  if (!outcome_.cannot_judge) outcome_.cannot_judge = std::string(why);
}

void ClientContext::Log(absl::string_view line) {
  absl::StrAppend(&outcome_.wire_log, line, "\n");
}

void ClientContext::RecordOnly(std::vector<std::string> lines) {
  outcome_.record = std::move(lines);
}

void ClientContext::Record(const ClientReport& report, bool keep_end) {
  outcome_.record.clear();
  for (const std::string& line : report.lines) {
    if (line == "connected") continue;
    if (!keep_end && line.rfind("end", 0) == 0) continue;
    outcome_.record.push_back(line);
  }
}

bool ClientContext::ExpectReport(const ClientReport& got,
                                 const std::vector<Bytes>& replies,
                                 absl::string_view end) {
  std::vector<ClientReply> want;
  for (const Bytes& reply : replies)
    want.push_back({reply.size(), ClientReplyHash(reply)});
  const std::string expected =
      replies.empty() ? absl::StrCat("no reply, then 'end ", end, "'")
                      : absl::StrCat(replies.size(), " repl",
                                     replies.size() == 1 ? "y" : "ies",
                                     " (payload lengths ", Lengths(replies),
                                     "), then 'end ", end, "'");
  const std::string got_end = got.end ? got.end->ToString() : "(none)";
  if (got.replies == want && got_end == end) return true;
  std::string saw;
  size_t same = 0;
  while (same < got.replies.size() && same < want.size() &&
         got.replies[same] == want[same]) {
    ++same;
  }
  if (got.replies.size() != want.size() || same != want.size()) {
    saw = absl::StrCat(got.replies.size(), " repl",
                       got.replies.size() == 1 ? "y" : "ies");
    if (same < got.replies.size()) {
      absl::StrAppend(&saw, ", the ", same + 1, "th not as sent (reply ",
                      got.replies[same].length, " ",
                      absl::StrFormat("%08x", got.replies[same].hash),
                      same < want.size()
                          ? absl::StrFormat(" where %d %08x was sent",
                                            want[same].length, want[same].hash)
                          : std::string(" where none was sent"),
                      ")");
    }
    absl::StrAppend(&saw, ", then 'end ", got_end, "'");
  } else {
    saw = absl::StrCat("every reply, then 'end ", got_end, "'");
  }
  Fail(expected, saw);
  return false;
}

ClientContext::Outcome ClientContext::Finish() {
  if (client_) {
    outcome_.output = client_->Output();
    outcome_.exit = client_->Stop(absl::Seconds(2));
    // Exit 64 before any line declines the form, whatever the suite's end
    // of the connection saw first (a JVM takes a while to exit).
    absl::StatusOr<ClientReport> said =
        ParseClientReport(client_->StandardOutput());
    if (outcome_.exit->exited && outcome_.exit->code == kSutUnsupportedExit &&
        said.ok() && said->lines.empty()) {
      outcome_.unsupported = true;
    }
    client_.reset();
  }
  return std::move(outcome_);
}

std::optional<std::string> ClientBusy(pid_t pid, absl::Duration within) {
  const IdleResult idle = WaitUntilIdle(pid, absl::Milliseconds(150),
                                        absl::Milliseconds(30), within);
  if (idle.idle) return std::nullopt;
  if (idle.windows == 0) return std::nullopt;  // gone: its exit says more
  return absl::StrFormat(
      "it was runnable for at least %s of every 150 ms window for %s "
      "(a busy loop)",
      absl::FormatDuration(idle.least), absl::FormatDuration(within));
}

}  // namespace sockparity::internal
