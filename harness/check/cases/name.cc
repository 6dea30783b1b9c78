// Cases 10.x: the name a listener binds, and what it does to socket files
// that are not its own. Real libraries have bound abstract names padded
// with NULs, truncated long paths, stolen live socket files at start and
// removed another server's socket file at exit.
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "check/case_helpers.h"
#include "check/case_table.h"
#include "check/sock_diag.h"
#include "sockparity/check/peer_contract.h"
#include "sockparity/check/sut_process.h"
#include "sockparity/net/endpoint.h"
#include "sockparity/net/temp_dir.h"

namespace sockparity::internal {
namespace {

constexpr char kPaddedAbstract[] =
    "https://github.com/libuv/libuv/issues/4266";
constexpr char kTruncatedPath[] = "https://github.com/libuv/libuv/issues/4036";
constexpr char kStolenPath[] = "https://github.com/python/cpython/issues/121252";
constexpr char kUnlinkedOnExit[] = "https://github.com/nodejs/node/issues/19729";

// The name the kernel reports for `endpoint` when bound exactly: the path
// with its terminating NUL, or NUL and the abstract name.
std::string ExactName(const Endpoint& endpoint) {
  const auto* un = reinterpret_cast<const char*>(endpoint.addr()) +
                   offsetof(sockaddr_un, sun_path);
  return std::string(un,
                     endpoint.length() - offsetof(sockaddr_un, sun_path));
}

// The socket file's identity, to tell whose it is.
std::optional<ino_t> InodeAt(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return std::nullopt;
  return st.st_ino;
}

// An instance of the server on `address`, started as the link starts its
// own (same command, same perturbation).
absl::StatusOr<SutProcess> StartInstance(Context& c,
                                         const std::string& address) {
  return SutProcess::Start(c.options().command, address, kSutReadyWithin,
                           nullptr, -1, c.link().Environment());
}

// A connection to `endpoint` that echoes.
bool Echoes(Context& c, const Endpoint& endpoint, std::optional<pid_t> pid,
            absl::string_view text) {
  std::optional<Socket> s = c.ConnectTo(endpoint, pid);
  return s && c.Send(*s, ContractFrame(text)) &&
         c.ExpectFrame(*s, ToBytes(text));
}

void ExactNameBound(Context& c) {
  const Endpoint& endpoint = *c.link().endpoint();
  if (!Echoes(c, endpoint, c.link().ServerPid(), "Eexact name")) return;
  const pid_t pid = *c.link().ServerPid();
  absl::StatusOr<std::vector<std::string>> names = UnixListenerNamesOf(pid);
  if (!names.ok()) {
    c.Log(absl::StrCat("(the bound names cannot be read: ",
                       names.status().message(), ")"));
    return;
  }
  const std::string want = ExactName(endpoint);
  for (const std::string& name : *names) {
    if (name == want) return;
  }
  c.Fail(absl::StrCat("a listener bound to ", ShowUnixName(want)),
         WhatItListensOn(pid));
}

void LongPath(Context& c) {
  absl::StatusOr<TempDir> dir = TempDir::Create();
  if (!dir.ok()) {
    c.CannotJudge(absl::StrCat("no directory for the case: ",
                               dir.status().message()));
    return;
  }
  // 107 bytes: the longest path sun_path holds with its terminating NUL.
  std::string path = dir->path() + "/";
  if (path.size() > 100) {
    c.CannotJudge("the temporary directory's path is too long for the case");
    return;
  }
  path += std::string(107 - path.size() - 5, 'p') + ".sock";
  absl::StatusOr<Endpoint> endpoint = Endpoint::Parse("unix:" + path);
  if (!endpoint.ok()) {
    c.CannotJudge(endpoint.status().message());
    return;
  }
  absl::StatusOr<SutProcess> server = StartInstance(c, "unix:" + path);
  if (!server.ok()) {
    c.Fail("the server to start on a path of 107 bytes",
           server.status().message());
    return;
  }
  Echoes(c, *endpoint, server->pid(), "Elong path");
  server->Stop();
}

// Instances of their own in a directory of the case's: the server the
// other cases talk to keeps its socket file whatever these do.
struct CaseDir {
  std::optional<TempDir> dir;
  std::string path;
  std::optional<Endpoint> endpoint;
};
std::optional<CaseDir> MakeCaseDir(Context& c, absl::string_view file) {
  absl::StatusOr<TempDir> dir = TempDir::Create();
  if (!dir.ok()) {
    c.CannotJudge(absl::StrCat("no directory for the case: ",
                               dir.status().message()));
    return std::nullopt;
  }
  CaseDir made;
  made.path = absl::StrCat(dir->path(), "/", file);
  made.dir.emplace(std::move(*dir));
  absl::StatusOr<Endpoint> endpoint = Endpoint::Parse("unix:" + made.path);
  if (!endpoint.ok()) {
    c.CannotJudge(endpoint.status().message());
    return std::nullopt;
  }
  made.endpoint = *endpoint;
  return made;
}

// Starts a second instance on the path the first listens on.
void LivePath(Context& c) {
  std::optional<CaseDir> dir = MakeCaseDir(c, "live.sock");
  if (!dir) return;
  const std::string& path = dir->path;
  absl::StatusOr<SutProcess> first = StartInstance(c, "unix:" + path);
  if (!first.ok()) {
    c.Fail("the first instance to start", first.status().message());
    return;
  }
  const std::optional<ino_t> before = InodeAt(path);
  c.Log(absl::StrCat("a second instance on the live path ", path));
  absl::StatusOr<SutProcess> second = StartInstance(c, "unix:" + path);
  const std::optional<ino_t> after = InodeAt(path);
  if (second.ok()) {
    c.Fail("the second instance to refuse to start (exit non-zero) on a "
           "path where a server listens",
           after != before
               ? absl::StrCat("it printed ready, with a socket file of its "
                              "own at the path: the first instance (pid ",
                              first->pid(),
                              ") no longer gets connections (it removed the "
                              "live socket file before binding)")
               : std::string("it printed ready"));
    second->Stop();
    return;
  }
  if (absl::IsDeadlineExceeded(second.status())) {
    c.Fail("the second instance to refuse to start (exit non-zero)",
           "it neither printed ready nor ended within 10 s");
    return;
  }
  c.Log(absl::StrCat("  refused: ", second.status().message()));
  if (after != before) {
    c.Fail("the live socket file to stay",
           after ? "the second instance replaced it, then failed"
                 : "the second instance removed it, then failed");
    return;
  }
  Echoes(c, *dir->endpoint, first->pid(), "Estill the first");
}

// An overlapping restart: the first instance's file is removed (as a
// deploy script would), a second one binds the path, the first exits.
void OverlappingRestart(Context& c) {
  std::optional<CaseDir> dir = MakeCaseDir(c, "restart.sock");
  if (!dir) return;
  const std::string& path = dir->path;
  const Endpoint& endpoint = *dir->endpoint;
  absl::StatusOr<SutProcess> first = StartInstance(c, "unix:" + path);
  if (!first.ok()) {
    c.Fail("the first instance to start", first.status().message());
    return;
  }
  ::unlink(path.c_str());
  c.Log("removed the first instance's socket file; starting a second");
  absl::StatusOr<SutProcess> second = StartInstance(c, "unix:" + path);
  if (!second.ok()) {
    c.Fail("the second instance to start on the free path",
           second.status().message());
    return;
  }
  const std::optional<ino_t> seconds = InodeAt(path);
  const SutExit ended = first->Stop();
  c.Log(absl::StrCat("the first instance ended: ", ended.Describe()));
  const std::optional<ino_t> after = InodeAt(path);
  if (!after || after != seconds) {
    c.Fail("the second instance's socket file to stay when the first exits",
           absl::StrCat(after ? "another file at the path"
                              : "no file at the path",
                        ": the first instance removed a socket file it did "
                        "not own (the second, pid ",
                        second->pid(), ", still runs and cannot be reached)"));
    second->Stop();
    return;
  }
  Echoes(c, endpoint, second->pid(), "Ethe second");
  second->Stop();
}

}  // namespace

void AddNameCases(CaseTable& table) {
  table.Add({
      .info = {.id = "10.1",
               .name = "name/exact",
               .description =
                   "listens on exactly the name given: the abstract name "
                   "without NUL padding, the path as given",
               .clause = "It binds exactly the name it is given ... an "
                         "abstract name of exactly the given bytes, with no "
                         "NUL padding after it",
               .reference = kPaddedAbstract},
      .need = TransportNeed::kUnixName,
      .play = ExactNameBound,
  });
  table.Add({
      .info = {.id = "10.2",
               .name = "name/long-path",
               .description = "a socket path of 107 bytes is bound whole",
               .clause = "a path of any length Linux accepts (up to 107 "
                         "bytes plus the terminating NUL), never truncated",
               .reference = kTruncatedPath},
      .need = TransportNeed::kUnixPath,
      .play = LongPath,
  });
  table.Add({
      .info = {.id = "10.3",
               .name = "name/live-path",
               .description = "a second instance on a live path refuses to "
                              "start and leaves the file alone",
               .clause = "SHOULD: started on a path where another process is "
                         "listening, it refuses to start (exits non-zero) "
                         "and leaves that socket file alone",
               .reference = kStolenPath,
               .should = true},
      .need = TransportNeed::kUnixPath,
      .play = LivePath,
  });
  table.Add({
      .info = {.id = "10.4",
               .name = "name/overlapping-restart",
               .description = "on exit, a socket file another instance has "
                              "bound since stays",
               .clause = "SHOULD: on exit it removes its socket file only if "
                         "the file at that path is still the one it bound",
               .reference = kUnlinkedOnExit,
               .should = true},
      .need = TransportNeed::kUnixPath,
      .play = OverlappingRestart,
  });
}

}  // namespace sockparity::internal
