// Cases 9.x: the listener's lifecycle, judged once the server on a
// transport was stopped: its start, its end on SIGTERM, its socket file.
#include <sys/socket.h>

#include <filesystem>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "check/case_table.h"
#include "sockparity/net/endpoint.h"
#include "sockparity/net/fd.h"
#include "sockparity/net/temp_dir.h"

namespace sockparity::internal {
namespace {

constexpr char kStartStop[] = "docs/SUT_CONTRACT.md#starting-and-stopping";
// unix(7): a path socket's file stays until unlinked, and bind fails with
// EADDRINUSE while it is there.
constexpr char kUnix[] = "https://man7.org/linux/man-pages/man7/unix.7.html";

Observed Ready(const StoppedServer& s) {
  if (s.link.single_connection()) {
    return Observed::Met("each fd:N server was ready in time");
  }
  return Observed::Met(
      absl::StrCat("ready after ", absl::FormatDuration(s.link.ready_after())));
}

Observed Sigterm(const StoppedServer& s) {
  if (!s.exit) return Observed::Met("fd:N servers end with their connection");
  if (s.exit->before_stop) {
    return Observed::Missed(absl::StrCat(
        "expected the server to run until SIGTERM, then exit 0 within 2 s; "
        "saw it had already ended before SIGTERM was sent (",
        s.exit->Describe(), ")"));
  }
  if (!s.exit->exited || s.exit->code != 0 || s.exit->killed) {
    return Observed::Missed(
        absl::StrCat("expected exit status 0 within 2 s of SIGTERM; saw ",
                     s.exit->Describe()));
  }
  return Observed::Met(
      absl::StrCat("exit 0 after ", absl::FormatDuration(s.exit->took)));
}

// The cases on socket files need unix: (TransportNeed::kUnixPath); a
// server there that bound no address has none either.
std::optional<Observed> NoSocketFile(const StoppedServer& s) {
  if (s.link.endpoint()) return std::nullopt;
  return Observed::DoesNotApply("no socket file on this transport");
}

Observed SocketFileRemoved(const StoppedServer& s) {
  if (std::optional<Observed> none = NoSocketFile(s)) return *none;
  const absl::string_view path = s.link.endpoint()->path();
  if (std::filesystem::exists(std::string(path))) {
    return Observed::Missed(absl::StrCat("expected the socket file ", path,
                                         " to be removed on exit; it is "
                                         "still there"));
  }
  return Observed::Met();
}

// A socket file nobody listens on, then a start over it.
Observed StaleSocketFile(const StoppedServer& s) {
  if (std::optional<Observed> none = NoSocketFile(s)) return *none;
  absl::StatusOr<TempDir> dir = TempDir::Create();
  const std::string path = dir.ok() ? dir->path() + "/stale.sock" : "";
  absl::StatusOr<Endpoint> stale = Endpoint::Parse("unix:" + path);
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!stale.ok() || ::bind(fd.get(), stale->addr(), stale->length()) != 0) {
    return Observed::DoesNotApply(
        "cannot make a stale socket file for the case on this machine: "
        "bind failed");
  }
  fd.Close().IgnoreError();
  absl::StatusOr<SutProcess> again =
      SutProcess::Start(s.options.command, "unix:" + path, kSutReadyWithin,
                        nullptr, -1, s.link.Environment());
  if (!again.ok()) {
    return Observed::Missed(
        absl::StrCat("expected a start over a stale socket file; saw ",
                     again.status().message()));
  }
  again->Stop();
  return Observed::Met();
}

}  // namespace

void AddListenerCases(CaseTable& table) {
  table.Add({
      .info = {.id = "9.1",
               .name = "listener/ready",
               .description = "prints 'ready' within 10 s of its start",
               .clause = "The SUT writes the line `ready` to standard output "
                         "once it accepts connections (within 10 s)",
               .reference = kStartStop},
      .phase = CasePhase::kAfterStop,
      .judge = Ready,
  });
  table.Add({
      .info = {.id = "9.2",
               .name = "listener/sigterm",
               .description = "SIGTERM: exit status 0 within 2 s",
               .clause = "On SIGTERM it stops accepting, closes its "
                         "connections and exits 0 within 2 s",
               .reference = kStartStop},
      .phase = CasePhase::kAfterStop,
      .judge = Sigterm,
  });
  table.Add({
      .info = {.id = "9.3",
               .name = "listener/socket-file-removed",
               .description = "a unix path server removes its socket file",
               .clause = "A SUT bound to a filesystem path removes its socket "
                         "file before exiting",
               .reference = kUnix},
      .need = TransportNeed::kUnixPath,
      .phase = CasePhase::kAfterStop,
      .judge = SocketFileRemoved,
  });
  table.Add({
      .info = {.id = "9.4",
               .name = "listener/stale-socket-file",
               .description = "starts over a stale socket file",
               .clause = "Started on a path where a stale socket file is left "
                         "over (no process listens on it), it starts normally",
               .reference = kUnix},
      .need = TransportNeed::kUnixPath,
      .phase = CasePhase::kAfterStop,
      .judge = StaleSocketFile,
  });
}

}  // namespace sockparity::internal
