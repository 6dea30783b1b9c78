// sockparity's reference server: the peer contract (docs/SUT_CONTRACT.md),
// version 1, on sockparity's own framing code. One thread, one poll loop;
// every read and write is non-blocking and may be short.
//
//   reference_server ADDRESS   (unix:/path, unix:@name, tcp:127.0.0.1:PORT,
//                               tcp:[::1]:PORT, fd:N)
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "sockparity/check/peer_contract.h"
#include "sockparity/codec/codecs.h"
#include "sockparity/net/endpoint.h"
#include "sockparity/net/fd.h"

namespace {

using sockparity::Bytes;

// Past this many queued reply bytes a connection is not read: a client that
// does not read its replies gets backpressure, not an unbounded queue.
constexpr size_t kOutputHighWater = 4u << 20;
// How long the listener rests when accept runs out of descriptors.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);

int stop_pipe[2] = {-1, -1};

void OnSigterm(int) {
  const int saved = errno;
  (void)!::write(stop_pipe[1], "x", 1);
  errno = saved;
}

struct Connection {
  sockparity::Fd fd;
  std::unique_ptr<sockparity::FrameDecoder> decoder;
  Bytes out;
  size_t out_sent = 0;
  bool reading = true;      // false once its input no longer matters
  bool discarding = false;  // after S: read and drop until end of stream
  bool shut_after_flush = false;
  bool close_after_flush = false;
  bool shut_done = false;
  bool dead = false;
};

class Server {
 public:
  explicit Server(const sockparity::Codec& codec) : codec_(codec) {}

  void Add(int fd) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    Connection connection;
    connection.fd = sockparity::Fd(fd);
    connection.decoder = codec_.NewDecoder();
    connections_.push_back(std::move(connection));
  }

  size_t count() const { return connections_.size(); }

  // Serves until SIGTERM or, with no listener, until the last connection ends.
  void Run(int listener) {
    std::vector<pollfd> fds;
    std::vector<Connection*> owners;
    while (true) {
      fds.clear();
      owners.clear();
      fds.push_back({stop_pipe[0], POLLIN, 0});
      owners.push_back(nullptr);
      const auto now = std::chrono::steady_clock::now();
      const bool accepting = listener >= 0 && now >= accept_resume_;
      if (accepting) {
        fds.push_back({listener, POLLIN, 0});
        owners.push_back(nullptr);
      }
      for (Connection& c : connections_) {
        short events = 0;
        if (c.reading && c.out.size() - c.out_sent < kOutputHighWater)
          events |= POLLIN;
        if (c.out_sent < c.out.size()) events |= POLLOUT;
        fds.push_back({c.fd.get(), events, 0});
        owners.push_back(&c);
      }
      if (listener < 0 && connections_.empty()) return;
      int timeout = -1;
      if (listener >= 0 && !accepting) {
        // Rounded up, so the wait never ends just before the resume time.
        timeout = static_cast<int>(
            std::chrono::ceil<std::chrono::milliseconds>(accept_resume_ - now)
                .count());
      }
      int ready = ::poll(fds.data(), fds.size(), timeout);
      if (ready < 0 && errno == EINTR) continue;
      if (ready < 0) {
        std::perror("poll");
        return;
      }
      if (fds[0].revents & POLLIN) return;
      if (accepting && (fds[1].revents & POLLIN)) Accept(listener);
      for (size_t i = 0; i < fds.size(); ++i) {
        Connection* c = owners[i];
        if (c == nullptr || fds[i].revents == 0) continue;
        if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) Read(*c);
        if (!c->dead) Flush(*c);
      }
      // A closed connection frees a descriptor: accept again at once.
      if (connections_.remove_if([](const Connection& c) { return c.dead; }))
        accept_resume_ = {};
    }
  }

 private:
  void Accept(int listener) {
    while (true) {
      int fd =
          ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd >= 0) {
        Add(fd);
        continue;
      }
      // Out of descriptors (or memory): the connection stays queued, and
      // poll would report the listener readable again at once, a busy
      // loop. Leave it out of poll for a while; serve the others meanwhile.
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
          errno == ENOMEM) {
        accept_resume_ = std::chrono::steady_clock::now() + kAcceptBackoff;
      }
      // EAGAIN, ECONNABORTED, EINTR: poll reports what is still queued.
      return;
    }
  }

  void Read(Connection& c) {
    uint8_t buffer[64 * 1024];
    while (c.reading && c.out.size() - c.out_sent < kOutputHighWater) {
      ssize_t n = ::recv(c.fd.get(), buffer, sizeof(buffer), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n < 0) {
        c.dead = true;  // reset by the peer: drop it, serve the others
        return;
      }
      if (n == 0) {
        // End of stream: inside a frame there is nothing to answer; either
        // way the pending replies go out, then the connection closes.
        c.reading = false;
        c.close_after_flush = true;
        return;
      }
      if (c.discarding) continue;
      std::vector<Bytes> frames;
      absl::Status status =
          c.decoder->Feed(absl::MakeConstSpan(buffer, n), frames);
      for (Bytes& frame : frames) {
        if (!Handle(c, frame)) return;
      }
      if (!status.ok()) {
        ProtocolError(c);
        return;
      }
    }
  }

  // Returns false when the connection takes no more requests.
  bool Handle(Connection& c, const Bytes& frame) {
    const uint8_t opcode = frame[0];
    switch (opcode) {
      case 'E':
        Reply(c, frame);
        return true;
      case 'B': {
        std::optional<uint32_t> n = sockparity::ParseBulkRequest(frame);
        if (!n) return ProtocolError(c);
        Reply(c, sockparity::BulkReply(*n));
        return true;
      }
      case 'N': {
        if (frame.size() != 1) return ProtocolError(c);
        const std::string count = absl::StrCat("N", connections_.size());
        Reply(c, Bytes(count.begin(), count.end()));
        return true;
      }
      case 'S':
        c.shut_after_flush = true;
        c.discarding = true;
        return false;
      case 'C':
        c.reading = false;
        c.close_after_flush = true;
        return false;
      case 'A': {
        linger abort{1, 0};
        ::setsockopt(c.fd.get(), SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
        c.dead = true;
        c.reading = false;
        return false;
      }
      default:
        return ProtocolError(c);
    }
  }

  // Bad input ends that connection, without a reply to the bad frame.
  bool ProtocolError(Connection& c) {
    c.reading = false;
    c.close_after_flush = true;
    return false;
  }

  void Reply(Connection& c, const Bytes& payload) {
    if (c.out_sent > 0 && c.out_sent == c.out.size()) {
      c.out.clear();
      c.out_sent = 0;
    }
    (void)codec_.Encode(payload, c.out);
  }

  void Flush(Connection& c) {
    while (c.out_sent < c.out.size()) {
      ssize_t n = ::send(c.fd.get(), c.out.data() + c.out_sent,
                         c.out.size() - c.out_sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n < 0) {
        c.dead = true;  // the peer went away while we wrote: not our end
        return;
      }
      c.out_sent += static_cast<size_t>(n);
    }
    c.out.clear();
    c.out_sent = 0;
    if (c.shut_after_flush && !c.shut_done) {
      ::shutdown(c.fd.get(), SHUT_WR);
      c.shut_done = true;
    }
    if (c.close_after_flush) c.dead = true;
  }

  const sockparity::Codec& codec_;
  std::list<Connection> connections_;
  // The listener is polled again from then on.
  std::chrono::steady_clock::time_point accept_resume_;
};

// The socket file this server bound, to remove at exit only if still ours.
struct SocketFile {
  std::string path;  // empty: none
  dev_t dev = 0;
  ino_t ino = 0;
};

// Whether a server accepts connections at `endpoint`. Only a refused
// connection proves a socket file stale; anything else counts as live. Not
// blocking: a live server with a full backlog answers EAGAIN.
bool SomeoneListens(const sockparity::Endpoint& endpoint) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    sockparity::Fd probe(
        ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!probe) return true;
    if (::connect(probe.get(), endpoint.addr(), endpoint.length()) == 0)
      return true;
    if (errno != EINTR) return errno != ECONNREFUSED && errno != ENOENT;
  }
  return true;
}

// Binds and listens on `endpoint`. A stale socket file (its server died) is
// replaced; a live one, or a file that is not a socket, is left alone. On
// failure says why on stderr and returns -1.
int Listen(const sockparity::Endpoint& endpoint, const std::string& address,
           SocketFile& file) {
  sockparity::Fd fd(::socket(endpoint.domain(),
                             SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) {
    std::fprintf(stderr, "socket: %s\n", std::strerror(errno));
    return -1;
  }
  int one = 1;
  if (endpoint.domain() != AF_UNIX) {
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  }
  const std::string path(endpoint.path());
  for (int attempt = 0;; ++attempt) {
    if (::bind(fd.get(), endpoint.addr(), endpoint.length()) == 0) break;
    if (errno != EADDRINUSE || path.empty() || attempt == 3) {
      std::fprintf(stderr, "cannot bind %s: %s\n", address.c_str(),
                   std::strerror(errno));
      return -1;
    }
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) continue;  // gone: bind again
    if (!S_ISSOCK(st.st_mode)) {
      std::fprintf(stderr, "%s exists and is not a socket; leaving it alone\n",
                   path.c_str());
      return -1;
    }
    if (SomeoneListens(endpoint)) {
      std::fprintf(stderr, "a server already listens on %s; leaving it alone\n",
                   path.c_str());
      return -1;
    }
    ::unlink(path.c_str());  // stale: nobody listens on it
  }
  struct stat st;
  if (!path.empty() && ::stat(path.c_str(), &st) == 0) {
    file = {path, st.st_dev, st.st_ino};
  }
  if (::listen(fd.get(), 128) != 0) {
    std::fprintf(stderr, "cannot listen on %s: %s\n", address.c_str(),
                 std::strerror(errno));
    return -1;
  }
  return fd.Release();
}

// Removes the socket file only if it is still the one we bound: another
// server may have bound the path since (an overlapping restart).
void RemoveSocketFile(const SocketFile& file) {
  struct stat st;
  if (!file.path.empty() && ::stat(file.path.c_str(), &st) == 0 &&
      st.st_dev == file.dev && st.st_ino == file.ino) {
    ::unlink(file.path.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s ADDRESS\n", argv[0]);
    return 2;
  }
  if (::pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return 1;
  struct sigaction action {};
  action.sa_handler = OnSigterm;
  ::sigaction(SIGTERM, &action, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  auto codec = sockparity::MakeLengthPrefixedCodec(
      {.width = 4,
       .max_frame = sockparity::kContractMaxFrame,
       .allow_empty = false});
  if (!codec.ok()) return 1;
  Server server(**codec);
  const std::string address = argv[1];
  if (absl::StatusOr<int> fd = sockparity::ParseInheritedFd(address); fd.ok()) {
    server.Add(*fd);
    std::printf("ready\n");
    std::fflush(stdout);
    server.Run(-1);
    return 0;
  }
  const std::optional<sockparity::Endpoint> endpoint =
      sockparity::ParseServerAddress(address);
  if (!endpoint) return 2;
  SocketFile file;
  const int listener = Listen(*endpoint, address, file);
  if (listener < 0) return 1;
  std::printf("ready\n");
  std::fflush(stdout);
  server.Run(listener);
  ::close(listener);
  RemoveSocketFile(file);
  return 0;
}
