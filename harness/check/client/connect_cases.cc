// Client cases c1.x: connecting, where UNIX sockets and TCP differ most.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <optional>

#include "absl/strings/str_cat.h"
#include "check/case_helpers.h"
#include "check/client/client_cases.h"
#include "check/client/client_serve.h"
#include "sockparity/net/errors.h"

namespace sockparity::internal {
namespace {

constexpr char kConnect[] =
    "https://man7.org/linux/man-pages/man2/connect.2.html";
constexpr char kUnix[] = "https://man7.org/linux/man-pages/man7/unix.7.html";
// A non-blocking connect to a UNIX listener with a full backlog fails with
// EAGAIN where TCP says EINPROGRESS (net/unix/af_unix.c, unix_stream_connect;
// the registry's full_backlog_refuses_unix_connect): libraries that take
// EAGAIN for fatal tell their users "connect EAGAIN".
constexpr char kFullBacklog[] =
    "https://github.com/chriskohlhoff/asio/issues/1014";
// Most connections a backlog of 0 takes before it is full.
constexpr int kMostFillers = 8;

void MissingPath(ClientContext& c) {
  absl::StatusOr<TempDir> dir = TempDir::Create();
  if (!dir.ok()) {
    c.CannotJudge(absl::StrCat("a directory: ", dir.status().message()));
    return;
  }
  const std::string address =
      absl::StrCat("unix:", dir->path(), "/nobody-listens.sock");
  if (!c.Launch(address, ContractFrame(EchoRequest("hello")))) return;
  std::optional<ClientReport> report = c.AwaitEnd();
  if (!report) return;
  c.Record(*report);
  if (report->connected) c.Fail("no 'connected' line", "'connected'");
  c.ExpectReport(*report, {}, "error ENOENT");
}

// A name nothing listens on: a socket bound but not listening holds a path
// or a port so that no other process can take it meanwhile.
void Refused(ClientContext& c) {
  std::optional<Fd> holder;
  std::string address;
  std::optional<TempDir> dir;
  switch (c.transport()) {
    case ContractTransport::kUnix: {
      absl::StatusOr<TempDir> made = TempDir::Create();
      if (!made.ok()) {
        c.CannotJudge(absl::StrCat("a directory: ", made.status().message()));
        return;
      }
      dir.emplace(std::move(*made));
      absl::StatusOr<Endpoint> endpoint =
          Endpoint::UnixPath(dir->path() + "/not-listening.sock");
      if (!endpoint.ok()) {
        c.CannotJudge(std::string(endpoint.status().message()));
        return;
      }
      holder.emplace(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (::bind(holder->get(), endpoint->addr(), endpoint->length()) != 0) {
        c.CannotJudge(absl::StrCat("bind: ", ErrnoName(errno)));
        return;
      }
      address = endpoint->ToString();
      break;
    }
    case ContractTransport::kUnixAbstract:
      address = absl::StrCat("unix:@sockparity-nobody-", ::getpid(), "-",
                             c.seed() % 1000000);
      break;
    case ContractTransport::kTcp4:
    case ContractTransport::kTcp6: {
      const Endpoint any = c.transport() == ContractTransport::kTcp4
                               ? Endpoint::Tcp4Loopback(0)
                               : Endpoint::Tcp6Loopback(0);
      holder.emplace(::socket(any.domain(), SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (::bind(holder->get(), any.addr(), any.length()) != 0) {
        c.CannotJudge(absl::StrCat("bind: ", ErrnoName(errno)));
        return;
      }
      absl::StatusOr<Endpoint> bound =
          Endpoint::BoundTo(holder->get(), any.kind());
      if (!bound.ok()) {
        c.CannotJudge(std::string(bound.status().message()));
        return;
      }
      address = bound->ToString();
      break;
    }
    case ContractTransport::kFd:
      return;
  }
  c.Log(absl::StrCat(address, ": bound, not listening"));
  if (!c.Launch(address, ContractFrame(EchoRequest("hello")))) return;
  std::optional<ClientReport> report = c.AwaitEnd();
  if (!report) return;
  c.Record(*report);
  if (report->connected) c.Fail("no 'connected' line", "'connected'");
  c.ExpectReport(*report, {}, "refused");
}

void FullBacklog(ClientContext& c) {
  std::optional<Listener> listener = c.Listen(/*backlog=*/0);
  if (!listener) return;
  int fillers = 0;
  while (fillers < kMostFillers && c.AddFiller(*listener)) ++fillers;
  c.Log(absl::StrCat("listen(0), then ", c.fillers().size(),
                     " connections of the suite's own: the backlog is full"));
  const std::vector<Bytes> payloads = {EchoRequest("after a full backlog")};
  if (!c.Launch(listener->endpoint().ToString(), Requests(payloads))) return;
  // The client waits now, in the kernel or on a timer; a busy loop never
  // settles.
  std::optional<std::string> busy =
      ClientBusy(c.client()->pid(), absl::Seconds(2));
  std::optional<ClientReport> early = c.ReportSoFar();
  if (!early) return;
  if (early->end) {
    c.Record(*early);
    c.Fail(
        "the client to wait while the listener's backlog is full (a "
        "blocking connect waits; a non-blocking one gets EAGAIN on UNIX "
        "sockets and must be retried), then connect",
        absl::StrCat("'end ", early->end->ToString(),
                     "' before the listener had room"));
    return;
  }
  if (busy) {
    c.Fail("the client to wait in the kernel while the backlog is full", *busy);
  }
  c.Log("room made: the suite's connections accepted");
  std::optional<Socket> s = c.AcceptClient(*listener, 3 * c.timeout());
  if (!s) return;
  ServeEchoThenEnd(c, *s, payloads);
}

// A path of 107 bytes, the most sun_path holds with its NUL.
void LongPath(ClientContext& c) {
  absl::StatusOr<TempDir> dir = TempDir::Create();
  if (!dir.ok()) {
    c.CannotJudge(absl::StrCat("a directory: ", dir.status().message()));
    return;
  }
  constexpr size_t kLongest = sizeof(sockaddr_un::sun_path) - 1;
  std::string path = dir->path() + "/";
  if (path.size() + 6 > kLongest) {
    c.CannotJudge(absl::StrCat("TMPDIR is too long for a ", kLongest,
                               "-byte path under it"));
    return;
  }
  path.append(kLongest - path.size() - 5, 'p');
  path.append(".sock");
  absl::StatusOr<Endpoint> endpoint = Endpoint::UnixPath(path);
  if (!endpoint.ok()) {
    c.CannotJudge(std::string(endpoint.status().message()));
    return;
  }
  Fd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (::bind(listener.get(), endpoint->addr(), endpoint->length()) != 0 ||
      ::listen(listener.get(), 16) != 0) {
    c.CannotJudge(
        absl::StrCat("bind and listen on ", path, ": ", ErrnoName(errno)));
    return;
  }
  c.Log(absl::StrCat("listening on a ", path.size(), "-byte path"));
  const std::vector<Bytes> payloads = {EchoRequest("a long path")};
  const std::string address = endpoint->ToString();
  if (!c.Launch(address, Requests(payloads))) return;
  std::optional<Socket> s =
      c.AcceptClient(listener.get(), address, c.timeout());
  if (s) ServeEchoThenEnd(c, *s, payloads);
  ::unlink(path.c_str());
}

}  // namespace

void AddClientConnectCases(std::vector<ClientCase>& cases) {
  cases.push_back({
      .info = {.id = "c1.1",
               .name = "connect/echo",
               .description = "connect, three requests, their replies, then "
                              "the server's end of stream",
               .clause = "the client connects to exactly the address it is "
                         "given, reports each whole reply, then 'end eof'",
               .reference = "docs/CLIENT_CONTRACT.md"},
      .play =
          [](ClientContext& c) {
            const std::vector<Bytes> payloads = {
                EchoRequest("hello"), EchoRequest(std::string(300, 'x')),
                EchoRequest(std::string(70000, 'y'))};
            std::optional<Socket> s = c.Connected(Requests(payloads));
            if (s) ServeEchoThenEnd(c, *s, payloads);
          },
  });
  cases.push_back({
      .info = {.id = "c1.2",
               .name = "connect/missing-path",
               .description = "a socket path that does not exist: "
                              "'end error ENOENT'",
               .clause = "a connect to a missing path fails with ENOENT "
                         "(unix(7)), reported as 'end error ENOENT'",
               .reference = kUnix},
      .need = ClientNeed::kUnixPath,
      .play = MissingPath,
  });
  cases.push_back({
      .info = {.id = "c1.3",
               .name = "connect/refused",
               .description = "a name nothing listens on: 'end refused'",
               .clause = "a connect nothing listens for fails with "
                         "ECONNREFUSED, reported as 'end refused'",
               .reference = kConnect},
      .need = ClientNeed::kConnect,
      .play = Refused,
  });
  cases.push_back({
      .info = {.id = "c1.4",
               .name = "connect/full-backlog",
               .description = "the listener's backlog full until the client "
                              "waits: it connects once there is room",
               .clause = "a listener that cannot accept yet is waited for, "
                         "in the kernel: EAGAIN from a non-blocking UNIX "
                         "connect is not a failure (registry: "
                         "full_backlog_refuses_unix_connect)",
               .reference = kFullBacklog},
      .need = ClientNeed::kConnect,
      .play = FullBacklog,
  });
  cases.push_back({
      .info = {.id = "c1.5",
               .name = "connect/107-byte-path",
               .description = "a socket path of 107 bytes, the longest "
                              "sun_path holds: connects, echo",
               .clause = "the client connects to exactly the path it is "
                         "given, up to 107 bytes (unix(7))",
               .reference = kUnix},
      .need = ClientNeed::kUnixPath,
      .play = LongPath,
  });
}

}  // namespace sockparity::internal
