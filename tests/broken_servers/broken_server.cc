// Broken servers for the tests of `sockparity check`: a plain
// thread-per-connection server on the peer contract, run with exactly one
// bug switched on:
//
//   broken_server --bug NAME [--reply-delay-ms D] ADDRESS
//
// --reply-delay-ms: before each reply the connection's thread sleeps D ms
// (a timer, an upstream call: idle in the kernel), as a correct but slow
// server may, within or beyond the contract's reply window.
//
//   partial-write     one send per reply, the rest of a short write dropped
//   half-close-drop   S shuts down before the earlier replies are sent
//   no-length-limit   any length is accepted and its bytes awaited
//   truncated-reply   a frame cut short by end of stream is answered
//   sigpipe           write errors ignored, SIGPIPE left to kill the process
//   fd-leak           finished connections are never closed
//   helper-fd-leak    each connection opens an eventfd of its own (a
//                     per-connection timer or poll set) and never closes it
//   lazy-fd           no bug: at its 10th connection it opens an eventfd
//                     and keeps it, as libraries set up a log, a cache or a
//                     pool's timer on first need
//   one-at-a-time     connections are served one after another
//   stale-file        a stale socket file makes it fail to start
//   tcp-only-option   TCP_NODELAY on every connection, fatal where refused
//   eintr-fatal       a read or write interrupted by a signal (EINTR) ends
//                     the connection; its SIGTERM handler is installed
//                     without SA_RESTART, so EINTR can happen (caught under
//                     --perturb eintr)
//   abort-as-close    A closes gracefully, without SO_LINGER {1, 0}: no
//                     reset on TCP
//   steal-live-path   the socket path is unlinked before bind, unprobed: a
//                     live server there is orphaned (cpython#121252)
//   unlink-not-own    on exit the path is unlinked even if another server
//                     has bound a new socket file there since (node#19729)
//   abstract-padded   unix:@name is bound NUL-padded to sizeof(sockaddr_un)
//                     (libuv#4266)
//   path-truncated    a path over 100 bytes is cut to its first 100 bytes
//   leak-on-reset     a connection whose recv fails with ECONNRESET is never
//                     closed, and N keeps counting it
//   trickle           every reply is sent one byte per send, 100 ms apart:
//                     always making progress, never done in time
//   never-reads       connections are accepted and never read
//   ready-unflushed   'ready' is left in the stdout buffer (a file or a
//                     pipe is fully buffered), flushed only at exit
//   throws-on-second-frame  the handler fails on a connection's second
//                     frame: a line on stderr, the connection closed, the
//                     server serves on (a handler's uncaught exception)
//   exits-on-second-frame   the process exits (status 3) on a connection's
//                     second frame, after a line on stderr
//   none              no bug (the control)
//
// fd:N is not served (exit 64).
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "sockparity/check/peer_contract.h"
#include "sockparity/net/endpoint.h"

namespace {

std::string bug = "none";
int reply_delay_ms = 0;
std::atomic<int> live{0};
int stop_pipe[2];

void OnTerm(int) { (void)!::write(stop_pipe[1], "x", 1); }

bool ReadFull(int fd, uint8_t* data, size_t size, size_t* got) {
  *got = 0;
  while (*got < size) {
    ssize_t n = ::recv(fd, data + *got, size - *got, 0);
    if (n < 0 && errno == EINTR && bug != "eintr-fatal") continue;
    if (n == 0) errno = 0;  // end of stream: no error for the caller
    if (n <= 0) return false;
    *got += static_cast<size_t>(n);
  }
  return true;
}

bool SendReply(int fd, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> frame(4 + payload.size());
  const uint32_t n = static_cast<uint32_t>(payload.size());
  frame[0] = n >> 24;
  frame[1] = n >> 16;
  frame[2] = n >> 8;
  frame[3] = n;
  std::memcpy(frame.data() + 4, payload.data(), payload.size());
  const int flags = bug == "sigpipe" ? 0 : MSG_NOSIGNAL;
  if (bug == "partial-write") {
    ssize_t n_sent =
        ::send(fd, frame.data(), frame.size(), flags | MSG_DONTWAIT);
    if (n_sent < 0 && errno == EAGAIN)
      n_sent = ::send(fd, frame.data(), frame.size(), flags);
    return n_sent >= 0;
  }
  size_t sent = 0;
  int retries = 0;
  while (sent < frame.size()) {
    if (bug == "trickle" && sent > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // pacing
    const size_t chunk = bug == "trickle" ? 1 : frame.size() - sent;
    ssize_t n_sent = ::send(fd, frame.data() + sent, chunk, flags);
    if (n_sent < 0 && errno == EINTR && bug != "eintr-fatal") continue;
    // sigpipe: a failed write is ignored and tried again. The first error
    // may be ECONNRESET, but the retry is EPIPE, and SIGPIPE ends it.
    if (n_sent <= 0 && bug == "sigpipe" && ++retries < 10) continue;
    if (n_sent <= 0) return false;
    sent += static_cast<size_t>(n_sent);
  }
  return true;
}

void Serve(int fd) {
  live++;
  const int helper = bug == "helper-fd-leak" ? ::eventfd(0, EFD_CLOEXEC) : -1;
  static std::atomic<int> connections{0};
  if (bug == "lazy-fd" && ++connections == 10) ::eventfd(0, EFD_CLOEXEC);
  if (bug == "tcp-only-option") {
    int one = 1;
    if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
      std::fprintf(stderr, "TCP_NODELAY: %s\n", std::strerror(errno));
      std::_Exit(1);
    }
  }
  if (bug == "never-reads") {
    while (true) ::pause();  // the process ends on SIGTERM
  }
  std::vector<std::vector<uint8_t>> held;  // replies S may drop
  int frames = 0;                          // read on this connection
  bool reset = false;                      // a recv failed with ECONNRESET
  while (true) {
    uint8_t header[4];
    size_t got = 0;
    if (!ReadFull(fd, header, 4, &got)) {
      reset = errno == ECONNRESET;
      break;
    }
    const uint32_t length = sockparity::DecodeLength(header);
    if (length == 0 ||
        (length > sockparity::kContractMaxFrame && bug != "no-length-limit"))
      break;
    std::vector<uint8_t> payload(std::min<uint32_t>(length, 64u << 20));
    if (!ReadFull(fd, payload.data(), payload.size(), &got)) {
      reset = errno == ECONNRESET;
      if (bug == "truncated-reply" && got > 0) {
        payload.resize(got);
        SendReply(fd, payload);
      }
      break;
    }
    const uint8_t op = payload[0];
    if (++frames == 2 && bug == "throws-on-second-frame") {
      std::fprintf(stderr,
                   "Traceback: handler error: unexpected state after frame "
                   "1 (connection dropped)\n");
      break;
    }
    if (frames == 2 && bug == "exits-on-second-frame") {
      std::fprintf(stderr, "fatal: giving up after the first frame\n");
      std::_Exit(3);
    }
    if (reply_delay_ms > 0 && (op == 'E' || op == 'B' || op == 'N'))
      std::this_thread::sleep_for(std::chrono::milliseconds(reply_delay_ms));
    if (op == 'E') {
      if (bug == "half-close-drop") {
        held.push_back(payload);
        continue;
      }
      if (!SendReply(fd, payload)) break;
    } else if (op == 'B' && payload.size() == 5) {
      const uint32_t n = sockparity::DecodeLength(payload.data() + 1);
      std::vector<uint8_t> reply(n + 1);
      reply[0] = 'B';
      for (uint32_t i = 0; i < n; ++i)
        reply[i + 1] = static_cast<uint8_t>(i % 251);
      if (!SendReply(fd, reply)) break;
    } else if (op == 'N') {
      std::string count = "N" + std::to_string(live.load());
      if (!SendReply(fd, std::vector<uint8_t>(count.begin(), count.end())))
        break;
    } else if (op == 'S') {
      ::shutdown(fd, SHUT_WR);
      held.clear();  // (half-close-drop: the held replies are lost here)
      uint8_t sink[4096];
      ssize_t n;
      while ((n = ::recv(fd, sink, sizeof(sink), 0)) > 0 ||
             (n < 0 && errno == EINTR)) {
      }
      reset = n < 0 && errno == ECONNRESET;
      break;
    } else if (op == 'C') {
      break;
    } else if (op == 'A') {
      if (bug == "abort-as-close") break;
      linger abort{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
      break;
    } else {
      break;
    }
    for (const auto& reply : held) SendReply(fd, reply);
    held.clear();
  }
  // leak-on-reset: a reset peer's connection is left open and counted.
  if (reset && bug == "leak-on-reset") return;
  for (const auto& reply : held) SendReply(fd, reply);
  live--;
  if (bug != "fd-leak") ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 6 && std::string(argv[3]) == "--reply-delay-ms") {
    reply_delay_ms = std::atoi(argv[4]);
    argv[3] = argv[5];
    argc = 4;
  }
  if (argc != 4 || std::string(argv[1]) != "--bug") {
    std::fprintf(stderr, "usage: %s --bug NAME [--reply-delay-ms D] ADDRESS\n",
                 argv[0]);
    return 2;
  }
  bug = argv[2];
  // A misspelt bug would run as the control and pass: refuse it.
  static const char* const kBugs[] = {"partial-write",
                                      "half-close-drop",
                                      "no-length-limit",
                                      "truncated-reply",
                                      "sigpipe",
                                      "fd-leak",
                                      "helper-fd-leak",
                                      "lazy-fd",
                                      "one-at-a-time",
                                      "stale-file",
                                      "tcp-only-option",
                                      "eintr-fatal",
                                      "abort-as-close",
                                      "steal-live-path",
                                      "unlink-not-own",
                                      "abstract-padded",
                                      "path-truncated",
                                      "leak-on-reset",
                                      "trickle",
                                      "never-reads",
                                      "ready-unflushed",
                                      "throws-on-second-frame",
                                      "exits-on-second-frame",
                                      "none"};
  if (std::find(std::begin(kBugs), std::end(kBugs), bug) == std::end(kBugs)) {
    std::fprintf(stderr, "unknown bug '%s'\n", bug.c_str());
    return 2;
  }
  absl::StatusOr<sockparity::Endpoint> endpoint =
      sockparity::Endpoint::Parse(argv[3]);
  if (!endpoint.ok()) return 64;
  if (bug != "sigpipe") ::signal(SIGPIPE, SIG_IGN);
  if (::pipe(stop_pipe) != 0) return 1;
  if (bug == "eintr-fatal") {
    // The bug's setting: a handler without SA_RESTART (sigaction's default,
    // unlike glibc's signal()), so a blocking call can see EINTR (signal(7)).
    struct sigaction action {};
    action.sa_handler = OnTerm;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGTERM, &action, nullptr);
  } else {
    ::signal(SIGTERM, OnTerm);
  }
  int listener = ::socket(endpoint->domain(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (endpoint->domain() != AF_UNIX)
    ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  // The address bound: the endpoint's own, or (abstract-padded,
  // path-truncated) one built here the way the buggy code did.
  sockaddr_storage storage{};
  std::memcpy(&storage, endpoint->addr(), endpoint->length());
  socklen_t length = endpoint->length();
  std::string path(endpoint->path());
  auto* un = reinterpret_cast<sockaddr_un*>(&storage);
  if (bug == "abstract-padded" && endpoint->domain() == AF_UNIX &&
      path.empty()) {
    length = sizeof(sockaddr_un);  // the name, then NULs to the end
  }
  if (bug == "path-truncated" && path.size() > 100) {
    char fixed[100];  // the fixed buffer the path was copied into
    std::memcpy(fixed, path.data(), sizeof(fixed));
    path.assign(fixed, sizeof(fixed));
    std::memset(un->sun_path, 0, sizeof(un->sun_path));
    std::memcpy(un->sun_path, fixed, sizeof(fixed));
    length = offsetof(sockaddr_un, sun_path) + sizeof(fixed) + 1;
  }
  const sockaddr* addr = reinterpret_cast<const sockaddr*>(&storage);
  if (bug == "steal-live-path" && !path.empty()) ::unlink(path.c_str());
  if (::bind(listener, addr, length) != 0) {
    if (errno != EADDRINUSE || path.empty() || bug == "stale-file") return 1;
    // Something is there: only a socket file nobody listens on (connect
    // refused) may be removed; a live server keeps its file.
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode)) {
      std::fprintf(stderr, "%s: exists and is not a socket\n", path.c_str());
      return 1;
    }
    // Non-blocking: a live server with a full backlog answers EAGAIN.
    int probe =
        ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int rc;
    do {
      rc = ::connect(probe, addr, length);
    } while (rc != 0 && errno == EINTR);
    const int error = rc == 0 ? 0 : errno;
    ::close(probe);
    if (error != ECONNREFUSED && error != ENOENT) {
      std::fprintf(stderr, "%s: a server listens there (%s); not starting\n",
                   path.c_str(),
                   error == 0 ? "connected" : std::strerror(error));
      return 1;
    }
    if (error == ECONNREFUSED) ::unlink(path.c_str());  // stale
    if (::bind(listener, addr, length) != 0) return 1;
  }
  // The socket file this server made, to remove only that one on exit.
  struct stat bound {};
  const bool have_bound = !path.empty() && ::stat(path.c_str(), &bound) == 0;
  if (::listen(listener, 128) != 0) return 1;
  std::printf("ready\n");
  if (bug != "ready-unflushed") std::fflush(stdout);
  // Out of descriptors (EMFILE, ENFILE): the listener is left alone for
  // 100 ms rather than polled readable again at once.
  bool paused = false;
  while (true) {
    pollfd fds[2] = {{paused ? -1 : listener, POLLIN, 0},
                     {stop_pipe[0], POLLIN, 0}};
    if (::poll(fds, 2, paused ? 100 : -1) < 0) continue;
    if (fds[1].revents) break;
    paused = false;
    if (!fds[0].revents) continue;
    int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      paused = errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
               errno == ENOMEM;
      continue;
    }
    if (bug == "one-at-a-time") {
      Serve(fd);
    } else {
      std::thread(Serve, fd).detach();
    }
  }
  if (!path.empty()) {
    struct stat now;
    if (bug == "unlink-not-own" ||
        (have_bound && ::stat(path.c_str(), &now) == 0 &&
         now.st_dev == bound.st_dev && now.st_ino == bound.st_ino)) {
      ::unlink(path.c_str());
    }
  }
  // (ready-unflushed: as a normal exit would, the buffer goes out now.)
  std::fflush(stdout);
  std::_Exit(0);
}
