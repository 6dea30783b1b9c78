// A broken server for the tests of `sockparity check`, of another shape
// than broken_server.cc: one thread, non-blocking sockets and a
// level-triggered poll(2) loop on the peer contract, run with exactly one
// bug switched on:
//
//   broken_loop_server --bug NAME ADDRESS
//
//   hangup-spin          a peer gone while output is pending (its read sees
//                        end of stream or an error, also after a failed
//                        write): the connection is marked dead but stays
//                        polled (events 0), and the POLLHUP / POLLERR poll
//                        keeps returning are ignored: a busy loop and a
//                        leaked descriptor (swift-nio#277)
//   reset-after-fin-leak a write failing after the client's FIN (it reset
//                        meanwhile) is ignored and the connection dropped
//                        from the poll set unclosed, still counted by N
//                        (libuv#3449)
//   spin-after-close     once any connection has closed, poll's timeout is 0
//                        for good: correct, but busy while idle
//   emfile-spin          accept failing with EMFILE/ENFILE is retried at once
//                        (the listener stays polled): a busy loop while
//                        descriptors are exhausted
//   emfile-exit          accept failing with EMFILE/ENFILE ends the process
//                        (exit status 1)
//   unbounded-replies    no backpressure: input always read, every reply
//                        queued
//   half-close-unix      on UNIX sockets, the client's hang-up (POLLRDHUP, as
//                        soon as it shuts down writing) closes the connection
//                        at once, dropping queued replies (julia#60959)
//   write-on-read-only   output is written only right after input was read,
//                        never on POLLOUT: a reply larger than the socket
//                        buffer takes stays half sent while the client
//                        waits for it (a lost write wakeup)
//   none                 no bug (the control)
//
// fd:N is not served (exit 64).
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "sockparity/check/peer_contract.h"
#include "sockparity/net/endpoint.h"

namespace {

constexpr size_t kHighWater = 1u << 20;  // stop reading above this output
constexpr size_t kReadChunk = 256u << 10;
constexpr int kAcceptPauseMs = 100;

std::string bug = "none";
int wake_pipe[2] = {-1, -1};
int live = 0;                    // open client connections, for N
bool zero_timeout = false;       // spin-after-close
bool accept_paused = false;      // out of descriptors
int64_t accept_resume_ms = 0;

struct Conn {
  int fd = -1;
  bool unix_socket = false;
  std::vector<uint8_t> in;       // received bytes from in_off on
  size_t in_off = 0;
  std::deque<std::vector<uint8_t>> out;  // whole frames; front is partly sent
  size_t out_off = 0;
  size_t out_bytes = 0;          // unsent bytes in `out`
  bool read_eof = false;         // the client's end of stream was read
  bool stop_input = false;       // C, protocol error, end inside a frame
  bool discard = false;          // after S: input is read and dropped
  bool shut_pending = false;     // S: shutdown(SHUT_WR) once out is empty
  bool close_when_flushed = false;
  bool dead = false;             // hangup-spin: never closed again
  bool gone = false;             // closed (or leaked); swept after the pass
};

std::vector<std::unique_ptr<Conn>> conns;

int64_t NowMs() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

void OnTerm(int) {
  const int saved = errno;
  (void)!::write(wake_pipe[1], "t", 1);
  errno = saved;
}

void CloseConn(Conn& c) {
  if (c.gone) return;
  ::close(c.fd);
  c.gone = true;
  --live;
  accept_paused = false;  // a descriptor is free again: try accept
  if (bug == "spin-after-close") zero_timeout = true;
}

void Abort(Conn& c) {
  linger abort{1, 0};
  ::setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
  CloseConn(c);
}

void Queue(Conn& c, std::vector<uint8_t> frame) {
  c.out_bytes += frame.size();
  c.out.push_back(std::move(frame));
}

std::vector<uint8_t> Frame(const uint8_t* payload, uint32_t n) {
  std::vector<uint8_t> frame(4 + size_t{n});
  frame[0] = n >> 24;
  frame[1] = n >> 16;
  frame[2] = n >> 8;
  frame[3] = n;
  std::memcpy(frame.data() + 4, payload, n);
  return frame;
}

std::vector<uint8_t> BulkFrame(uint32_t n) {
  std::vector<uint8_t> frame(4 + 1 + size_t{n});
  const uint32_t length = n + 1;
  frame[0] = length >> 24;
  frame[1] = length >> 16;
  frame[2] = length >> 8;
  frame[3] = length;
  frame[4] = 'B';
  uint8_t period[251];
  for (int i = 0; i < 251; ++i) period[i] = static_cast<uint8_t>(i);
  for (size_t i = 0; i < n; i += 251)
    std::memcpy(frame.data() + 5 + i, period, std::min<size_t>(251, n - i));
  return frame;
}

bool Backpressured(const Conn& c) {
  return c.out_bytes > kHighWater && bug != "unbounded-replies";
}

// Answers the complete frames received, in order, while the output queue
// allows. Stops at C, S, A and protocol errors.
void ProcessInput(Conn& c) {
  while (!c.gone && !c.stop_input && !c.discard && !Backpressured(c)) {
    const size_t have = c.in.size() - c.in_off;
    if (have < 4) break;
    const uint8_t* p = c.in.data() + c.in_off;
    const uint32_t length = sockparity::DecodeLength(p);
    if (length == 0 || length > sockparity::kContractMaxFrame) {
      c.stop_input = c.close_when_flushed = true;  // protocol error
      break;
    }
    if (have - 4 < length) break;
    const uint8_t* payload = p + 4;
    c.in_off += 4 + size_t{length};
    switch (payload[0]) {
      case 'E':
        Queue(c, Frame(payload, length));
        break;
      case 'B': {
        const uint32_t n =
            length == 5 ? sockparity::DecodeLength(payload + 1) : ~0u;
        if (n > sockparity::kContractMaxFrame - 1) {
          c.stop_input = c.close_when_flushed = true;
        } else {
          Queue(c, BulkFrame(n));
        }
        break;
      }
      case 'N': {
        const std::string count = "N" + std::to_string(live);
        Queue(c, Frame(reinterpret_cast<const uint8_t*>(count.data()),
                       static_cast<uint32_t>(count.size())));
        break;
      }
      case 'S':
        c.discard = c.shut_pending = true;
        break;
      case 'A':
        Abort(c);
        return;
      default:  // C, or an unknown opcode (a protocol error)
        c.stop_input = c.close_when_flushed = true;
        break;
    }
  }
  if (c.discard || c.stop_input) {
    c.in.clear();
    c.in_off = 0;
  } else if (c.in_off > 0 && c.in_off * 2 >= c.in.size()) {
    c.in.erase(c.in.begin(), c.in.begin() + static_cast<ptrdiff_t>(c.in_off));
    c.in_off = 0;
  }
}

// What is due once the output queue is empty: close, or S's shutdown.
void Settle(Conn& c) {
  if (c.gone || c.dead) return;
  // End of stream read and every whole frame answered: the rest (if any) is
  // a partial frame, never answered.
  if (c.read_eof && !c.discard && !Backpressured(c))
    c.close_when_flushed = true;
  if (c.out_bytes > 0) return;
  if (c.close_when_flushed) return CloseConn(c);
  if (c.shut_pending) {
    ::shutdown(c.fd, SHUT_WR);
    c.shut_pending = false;
  }
  if (c.discard && c.read_eof) CloseConn(c);
}

// Reads what the socket has. `hangup`: poll said the peer is gone, so its
// read shows how (end of stream or an error), backpressure or not.
void OnReadable(Conn& c, bool hangup) {
  static uint8_t buffer[kReadChunk];
  for (size_t budget = 4 * kReadChunk; budget > 0;) {
    if (!hangup && !c.discard && (c.stop_input || Backpressured(c))) return;
    const ssize_t n = ::recv(c.fd, buffer, sizeof(buffer), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0 && hangup && c.out_bytes > 0 && bug == "hangup-spin") {
      c.dead = true;  // never closed, left in the poll set with events 0
      return;
    }
    if (n < 0) return CloseConn(c);  // a reset: nothing can be delivered
    if (n == 0) {
      c.read_eof = true;
      if (bug == "half-close-unix" && c.unix_socket) return CloseConn(c);
      ProcessInput(c);
      return;
    }
    budget -= std::min(budget, static_cast<size_t>(n));
    if (c.discard || c.stop_input) continue;  // S: dropped unread
    c.in.insert(c.in.end(), buffer, buffer + n);
    ProcessInput(c);
    if (c.gone) return;
  }
}

// Writes what the socket takes; on failure the connection ends.
void OnWritable(Conn& c) {
  while (!c.out.empty()) {
    const std::vector<uint8_t>& front = c.out.front();
    const ssize_t n = ::send(c.fd, front.data() + c.out_off,
                             front.size() - c.out_off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) {
      if (bug == "reset-after-fin-leak" && c.read_eof) {
        c.gone = true;  // dropped from the poll set: not closed, not counted
        return;
      }
      if (bug == "hangup-spin") {
        // The write noticed the hangup first: the read is left to see it
        // (and marks the connection dead, output still pending).
        OnReadable(c, /*hangup=*/true);
        if (c.dead || c.gone) return;
      }
      return CloseConn(c);
    }
    c.out_off += static_cast<size_t>(n);
    c.out_bytes -= static_cast<size_t>(n);
    if (c.out_off == front.size()) {
      c.out.pop_front();
      c.out_off = 0;
    }
  }
  // Drained below the mark: answer what was held back.
  ProcessInput(c);
}

void AcceptAll(int listener, sockparity::TransportKind kind) {
  for (int i = 0; i < 64; ++i) {
    const int fd = ::accept4(listener, nullptr, nullptr,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      auto c = std::make_unique<Conn>();
      c->fd = fd;
      c->unix_socket = kind == sockparity::TransportKind::kUnixPath ||
                       kind == sockparity::TransportKind::kUnixAbstract;
      conns.push_back(std::move(c));
      ++live;
      continue;
    }
    const int error = errno;
    if (error == EINTR || error == ECONNABORTED || error == EPROTO) continue;
    if (error == EMFILE || error == ENFILE || error == ENOBUFS ||
        error == ENOMEM) {
      if (bug == "emfile-exit") {
        std::fprintf(stderr, "accept: %s\n", std::strerror(error));
        std::exit(1);
      }
      if (bug == "emfile-spin") return;  // still polled: ready again at once
      accept_paused = true;
      accept_resume_ms = NowMs() + kAcceptPauseMs;
    }
    return;  // EAGAIN, or paused
  }
}

struct BoundFile {
  std::string path;
  dev_t dev = 0;
  ino_t ino = 0;
};

// Removes the socket file only if it is still the one this server bound.
void RemoveOwnFile(const BoundFile& file) {
  if (file.path.empty()) return;
  struct stat st;
  if (::stat(file.path.c_str(), &st) == 0 && st.st_dev == file.dev &&
      st.st_ino == file.ino) {
    ::unlink(file.path.c_str());
  }
}

// Binds and listens; on a unix path, a stale socket file is replaced and a
// live server's file is left alone (exit 1). Returns the listener or exits.
int Listen(const sockparity::Endpoint& endpoint, BoundFile& file) {
  const int fd = ::socket(endpoint.domain(),
                          SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    const int error = errno;
    std::fprintf(stderr, "socket: %s\n", std::strerror(error));
    std::exit(endpoint.domain() == AF_INET6 && error == EAFNOSUPPORT ? 64 : 1);
  }
  const int one = 1;
  if (endpoint.domain() != AF_UNIX)
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  const std::string path(endpoint.path());
  for (int attempt = 0;; ++attempt) {
    if (::bind(fd, endpoint.addr(), endpoint.length()) == 0) break;
    const int error = errno;
    if (error != EADDRINUSE || path.empty() || attempt == 3) {
      std::fprintf(stderr, "bind: %s\n", std::strerror(error));
      std::exit(endpoint.domain() == AF_INET6 && error == EADDRNOTAVAIL ? 64
                                                                         : 1);
    }
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode)) {
      std::fprintf(stderr, "%s: not a socket; not touching it\n",
                   path.c_str());
      std::exit(1);
    }
    const int probe =
        ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc;
    do {
      rc = ::connect(probe, endpoint.addr(), endpoint.length());
    } while (rc != 0 && errno == EINTR);
    const int probed = rc == 0 ? 0 : errno;
    ::close(probe);
    if (probed == ECONNREFUSED) {
      ::unlink(path.c_str());  // stale: nobody listens there
    } else if (probed != ENOENT) {
      std::fprintf(stderr, "%s: a server listens there; not starting\n",
                   path.c_str());
      std::exit(1);
    }
  }
  if (!path.empty()) {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) {
      file.path = path;
      file.dev = st.st_dev;
      file.ino = st.st_ino;
    }
  }
  if (::listen(fd, SOMAXCONN) != 0) {
    std::fprintf(stderr, "listen: %s\n", std::strerror(errno));
    RemoveOwnFile(file);
    std::exit(1);
  }
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 || std::string(argv[1]) != "--bug") {
    std::fprintf(stderr, "usage: %s --bug NAME ADDRESS\n", argv[0]);
    return 2;
  }
  bug = argv[2];
  // A misspelt bug would run as the control and pass: refuse it.
  static const char* const kBugs[] = {"hangup-spin", "reset-after-fin-leak", "spin-after-close", "emfile-spin", "emfile-exit", "unbounded-replies", "half-close-unix", "write-on-read-only", "none"};
  if (std::find(std::begin(kBugs), std::end(kBugs), bug) == std::end(kBugs)) {
    std::fprintf(stderr, "unknown bug '%s'\n", bug.c_str());
    return 2;
  }
  const std::string address = argv[3];
  if (address.rfind("fd:", 0) == 0) return 64;
  absl::StatusOr<sockparity::Endpoint> endpoint =
      sockparity::Endpoint::Parse(address);
  if (!endpoint.ok()) {
    std::fprintf(stderr, "%s\n",
                 std::string(endpoint.status().message()).c_str());
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);
  if (::pipe2(wake_pipe, O_NONBLOCK | O_CLOEXEC) != 0) return 1;
  struct sigaction term {};
  term.sa_handler = OnTerm;
  ::sigaction(SIGTERM, &term, nullptr);
  BoundFile file;
  const int listener = Listen(*endpoint, file);
  std::printf("ready\n");
  std::fflush(stdout);

  std::vector<pollfd> fds;
  std::vector<Conn*> polled;
  while (true) {
    fds.clear();
    polled.clear();
    fds.push_back({wake_pipe[0], POLLIN, 0});
    if (accept_paused && NowMs() >= accept_resume_ms) accept_paused = false;
    fds.push_back({accept_paused ? -1 : listener, POLLIN, 0});
    for (const auto& c : conns) {
      short events = 0;
      if (!c->dead) {
        if (c->out_bytes > 0 && bug != "write-on-read-only") events |= POLLOUT;
        if (!c->read_eof &&
            (c->discard || (!c->stop_input && !Backpressured(*c))))
          events |= POLLIN;
        // half-close-unix: a peer's hang-up (POLLRDHUP) taken for a close,
        // seen at once even while the output queue holds input back.
        if (bug == "half-close-unix" && c->unix_socket && !c->read_eof)
          events |= POLLRDHUP;
      }
      fds.push_back({c->fd, events, 0});
      polled.push_back(c.get());
    }
    int timeout = -1;
    if (accept_paused)
      timeout = static_cast<int>(
          std::max<int64_t>(1, accept_resume_ms - NowMs()));
    if (zero_timeout) timeout = 0;
    if (::poll(fds.data(), fds.size(), timeout) < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "poll: %s\n", std::strerror(errno));
      return 1;
    }
    if (fds[0].revents != 0) break;  // SIGTERM
    if (fds[1].revents & POLLIN) AcceptAll(listener, endpoint->kind());
    for (size_t i = 0; i < polled.size(); ++i) {
      Conn& c = *polled[i];
      const short revents = fds[i + 2].revents;
      if (c.dead || c.gone || revents == 0) continue;
      if (bug == "half-close-unix" && c.unix_socket &&
          (revents & POLLRDHUP)) {
        CloseConn(c);  // the queued replies are dropped
        continue;
      }
      const bool hangup = (revents & (POLLHUP | POLLERR)) != 0;
      if ((revents & POLLIN) || (hangup && !c.read_eof)) OnReadable(c, hangup);
      // write-on-read-only: a hang-up or error still gets its write (which
      // fails and ends the connection), so the one bug is the lost wakeup.
      const short write_on = bug == "write-on-read-only"
                                 ? (POLLIN | POLLHUP | POLLERR)
                                 : (POLLOUT | POLLHUP | POLLERR);
      if (!c.gone && !c.dead && c.out_bytes > 0 && (revents & write_on))
        OnWritable(c);
      Settle(c);
    }
    std::erase_if(conns,
                  [](const std::unique_ptr<Conn>& c) { return c->gone; });
  }

  for (const auto& c : conns) {
    if (!c->gone) ::close(c->fd);
  }
  ::close(listener);
  RemoveOwnFile(file);
  return 0;
}
