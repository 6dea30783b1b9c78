// The example's server under test, on plain POSIX sockets: one thread per
// connection, blocking calls, the peer contract's opcodes (E B N S C A).
// Usage: echo_server ADDRESS   (unix:/path, unix:@name, tcp:127.0.0.1:PORT,
// tcp:[::1]:PORT; fd:N is not implemented: exit 64).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "frame_codec.h"

namespace {

std::atomic<int> open_connections{0};
struct stat bound_file {};  // the socket file this server made

// Every byte, however many calls it takes; false once the peer is gone.
bool WriteAll(int fd, const uint8_t* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool Reply(int fd, const echo::Bytes& payload) {
  echo::Bytes frame;
  return echo::FrameCodec().Encode(payload, frame).ok() &&
         WriteAll(fd, frame.data(), frame.size());
}

// Reads and discards until end of stream (after S).
void DrainToEnd(int fd) {
  uint8_t buffer[65536];
  while (true) {
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
  }
}

enum class Next { kRead, kClose, kDone };

// Handles one request; says whether to go on reading.
Next Handle(int fd, const echo::Bytes& request) {
  switch (request[0]) {
    case 'E':
      return Reply(fd, request) ? Next::kRead : Next::kClose;
    case 'B': {
      if (request.size() != 5) return Next::kClose;
      const uint32_t n = uint32_t{request[1]} << 24 |
                         uint32_t{request[2]} << 16 |
                         uint32_t{request[3]} << 8 | request[4];
      if (n >= echo::kMaxFrame) return Next::kClose;
      echo::Bytes reply(n + 1);
      reply[0] = 'B';
      for (uint32_t i = 0; i < n; ++i) reply[i + 1] = i % 251;
      return Reply(fd, reply) ? Next::kRead : Next::kClose;
    }
    case 'N': {
      const std::string text = "N" + std::to_string(open_connections.load());
      return Reply(fd, echo::Bytes(text.begin(), text.end())) ? Next::kRead
                                                              : Next::kClose;
    }
    case 'S':
      ::shutdown(fd, SHUT_WR);
      DrainToEnd(fd);
      return Next::kClose;
    case 'C':
      return Next::kClose;
    case 'A': {
      linger abort{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
      return Next::kClose;
    }
    default:
      return Next::kClose;  // unknown opcode: a protocol error
  }
}

void Serve(int fd) {
  echo::FrameDecoder decoder;
  std::vector<echo::Bytes> requests;
  uint8_t buffer[65536];
  Next next = Next::kRead;
  while (next == Next::kRead) {
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // end of stream (replies are already out) or reset
    const bool ok =
        decoder
            .Feed(absl::MakeConstSpan(buffer, static_cast<size_t>(n)), requests)
            .ok();
    for (size_t i = 0; i < requests.size() && next == Next::kRead; ++i) {
      next = Handle(fd, requests[i]);
    }
    requests.clear();
    if (!ok) break;  // a bad frame: close without a reply to it
  }
  open_connections.fetch_sub(1);
  ::close(fd);
}

int Listen(const std::string& address, std::string& path) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_UNIX;
  if (address.rfind("unix:", 0) == 0) {
    auto& un = reinterpret_cast<sockaddr_un&>(storage);
    un.sun_family = AF_UNIX;
    std::string name = address.substr(5);
    if (name.empty() || name.size() >= sizeof(un.sun_path)) return -1;
    std::memcpy(un.sun_path, name.data(), name.size());
    if (name[0] == '@') {
      un.sun_path[0] = '\0';  // the abstract namespace
    } else {
      path = name;
    }
    length =
        static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    if (!path.empty()) {
      // A stale socket file is no error; a live one (a server answers on
      // it) is not ours to take.
      int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      const bool live =
          ::connect(probe, reinterpret_cast<sockaddr*>(&storage), length) == 0;
      ::close(probe);
      if (live) {
        std::fprintf(stderr, "echo_server: a server listens on %s\n",
                     path.c_str());
        return -1;
      }
      ::unlink(path.c_str());
    }
  } else if (address.rfind("tcp:127.0.0.1:", 0) == 0) {
    auto& in = reinterpret_cast<sockaddr_in&>(storage);
    family = in.sin_family = AF_INET;
    in.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(14))));
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    length = sizeof(in);
  } else if (address.rfind("tcp:[::1]:", 0) == 0) {
    auto& in6 = reinterpret_cast<sockaddr_in6&>(storage);
    family = in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(static_cast<uint16_t>(std::stoi(address.substr(10))));
    in6.sin6_addr = in6addr_loopback;
    length = sizeof(in6);
  } else {
    return -2;
  }
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (family != AF_UNIX) {
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  }
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&storage), length) ||
      ::listen(fd, 128)) {
    std::perror("echo_server: bind/listen");
    return -1;
  }
  if (!path.empty()) ::stat(path.c_str(), &bound_file);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: echo_server ADDRESS\n");
    return 2;
  }
  std::string path;
  const int listener = Listen(argv[1], path);
  if (listener == -2) return 64;  // an address form this server lacks
  if (listener < 0) return 1;
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, nullptr);  // threads inherit the mask
  const int signals = ::signalfd(-1, &term, SFD_CLOEXEC);
  std::printf("ready\n");
  std::fflush(stdout);
  while (true) {
    pollfd fds[2] = {{listener, POLLIN, 0}, {signals, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents) break;  // SIGTERM
    int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
      // Out of descriptors: the listener stays readable, so wait for
      // SIGTERM alone a moment instead of spinning on it.
      pollfd wait_term = {signals, POLLIN, 0};
      if (::poll(&wait_term, 1, 100) > 0) break;
      continue;
    }
    if (fd < 0) continue;
    open_connections.fetch_add(1);
    std::thread(Serve, fd).detach();
  }
  // Only our own socket file: another server may have bound the path since.
  struct stat now {};
  if (!path.empty() && ::stat(path.c_str(), &now) == 0 &&
      now.st_dev == bound_file.st_dev && now.st_ino == bound_file.st_ino) {
    ::unlink(path.c_str());
  }
  // Exiting closes every connection; the threads go with the process.
  std::fflush(stdout);
  _exit(0);
}
