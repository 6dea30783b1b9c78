// The peer contract (SUT_CONTRACT.md, version 1.1) on plain blocking
// sockets: one thread per connection, and each frame read exactly (its
// 4-byte header, then its L bytes), never a byte of the next one. Written
// independently of sockparity's own code, as a second opinion on it.
//
//   threaded_server ADDRESS   (unix:/path, unix:@name, tcp:127.0.0.1:PORT,
//                              tcp:[::1]:PORT, fd:N)
//
// Exit status: 0 after SIGTERM (or when the fd:N connection ends), 2 for a
// bad address, 64 when the system has no IPv6 loopback, 1 for anything else
// that stops it from serving (a live server on the path, a failed bind).
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace {

constexpr uint32_t kMaxFrame = 16u << 20;
constexpr uint32_t kMaxBulk = kMaxFrame - 1;  // 'B' plus N bytes must fit
constexpr size_t kChunk = 64 * 1024;
// A whole number of 251-byte periods, so consecutive slices of it starting
// at 0 continue the sequence i mod 251 without any offset arithmetic.
constexpr size_t kPatternSize = 251 * 261;
constexpr size_t kMaxPathLength = sizeof(sockaddr_un::sun_path) - 1;  // 107
// Large enough for the 16 KiB drain buffer and libc, small enough that a few
// hundred connections cost little address space.
constexpr size_t kThreadStack = 512 * 1024;
// After SIGTERM, how long to let connection threads notice their socket was
// shut down; the contract wants us gone within 2 s, whatever they do.
constexpr auto kStopGrace = std::chrono::milliseconds(1500);
// Pause before retrying accept when out of descriptors: the listener stays
// readable, so polling it would spin.
constexpr int kBackoffMs = 100;

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnsupported = 64;

uint8_t pattern[kPatternSize];

// Live connection sockets. A socket leaves the set and is closed under the
// lock, so the stopping thread never shuts down a number already reused.
struct Registry {
  std::mutex mu;
  std::condition_variable empty;
  std::set<int> fds;
  int done_fd = -1;  // fd:N mode: poked when the last connection ends
};
// Never destroyed: detached threads may still hold it while main exits.
Registry& registry = *new Registry;

// Waits for readiness. Only reached if a socket is non-blocking after all
// (an inherited fd:N, or an EAGAIN we did not expect): better than spinning.
bool WaitFor(int fd, short events) {
  pollfd p{fd, events, 0};
  while (::poll(&p, 1, -1) < 0) {
    if (errno != EINTR) return false;
  }
  return true;
}

// False on end of stream (even after part of the bytes) or on an error: the
// caller closes the connection either way, with no reply to a partial frame.
bool ReadExact(int fd, void* data, size_t size) {
  auto* p = static_cast<uint8_t*>(data);
  while (size > 0) {
    const ssize_t got = ::recv(fd, p, size, 0);
    if (got > 0) {
      p += got;
      size -= static_cast<size_t>(got);
    } else if (got == 0) {
      return false;
    } else if (errno == EINTR) {
      continue;
    } else if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
               WaitFor(fd, POLLIN)) {
      continue;
    } else {
      return false;
    }
  }
  return true;
}

// Reads and drops `size` bytes, so that a frame is consumed whole without
// reserving memory for it.
bool Skip(int fd, size_t size) {
  uint8_t sink[16 * 1024];
  while (size > 0) {
    const size_t take = std::min(size, sizeof(sink));
    if (!ReadExact(fd, sink, take)) return false;
    size -= take;
  }
  return true;
}

// MSG_NOSIGNAL: a peer gone mid-write ends this connection, not the process.
// MSG_MORE on all but a reply's last piece keeps TCP from sending the small
// header alone and then waiting for an ACK (Nagle) before the rest.
bool SendAll(int fd, const void* data, size_t size, bool more) {
  const auto* p = static_cast<const uint8_t*>(data);
  const int flags = MSG_NOSIGNAL | (more ? MSG_MORE : 0);
  while (size > 0) {
    const ssize_t sent = ::send(fd, p, size, flags);
    if (sent >= 0) {
      p += sent;
      size -= static_cast<size_t>(sent);
    } else if (errno == EINTR) {
      continue;
    } else if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
               WaitFor(fd, POLLOUT)) {
      continue;
    } else {
      return false;
    }
  }
  return true;
}

void PutBigEndian(uint32_t value, uint8_t* out) {
  out[0] = static_cast<uint8_t>(value >> 24);
  out[1] = static_cast<uint8_t>(value >> 16);
  out[2] = static_cast<uint8_t>(value >> 8);
  out[3] = static_cast<uint8_t>(value);
}

uint32_t GetBigEndian(const uint8_t* in) {
  return (uint32_t{in[0]} << 24) | (uint32_t{in[1]} << 16) |
         (uint32_t{in[2]} << 8) | uint32_t{in[3]};
}

// `buffer` is reused across frames: [header][opcode][body]. It grows as the
// body arrives rather than to L at once, so a client that announces 16 MiB
// and then stalls costs little.
bool Echo(int fd, size_t body, std::vector<uint8_t>& buffer) {
  constexpr size_t kPrefix = 5;
  buffer.resize(kPrefix);
  size_t have = 0;
  while (have < body) {
    const size_t want = std::min(body - have, std::max(kChunk, have));
    buffer.resize(kPrefix + have + want);
    if (!ReadExact(fd, buffer.data() + kPrefix + have, want)) return false;
    have += want;
  }
  PutBigEndian(static_cast<uint32_t>(body + 1), buffer.data());
  buffer[4] = 'E';
  const bool ok = SendAll(fd, buffer.data(), buffer.size(), false);
  // Do not keep a 16 MiB buffer for an idle connection.
  if (buffer.capacity() > 4 * kChunk) std::vector<uint8_t>().swap(buffer);
  return ok;
}

// Written in slices of the shared pattern: no allocation, whatever N is.
bool Bulk(int fd) {
  uint8_t request[4];
  if (!ReadExact(fd, request, sizeof(request))) return false;
  const uint32_t count = GetBigEndian(request);
  if (count > kMaxBulk) return false;
  uint8_t prefix[5];
  PutBigEndian(count + 1, prefix);
  prefix[4] = 'B';
  if (!SendAll(fd, prefix, sizeof(prefix), count > 0)) return false;
  size_t left = count;
  while (left > 0) {
    const size_t take = std::min(left, kPatternSize);
    left -= take;
    if (!SendAll(fd, pattern, take, left > 0)) return false;
  }
  return true;
}

bool Count(int fd) {
  size_t open;
  {
    std::lock_guard<std::mutex> lock(registry.mu);
    open = registry.fds.size();
  }
  char reply[32];
  const int digits = std::snprintf(reply + 5, sizeof(reply) - 5, "%zu", open);
  PutBigEndian(static_cast<uint32_t>(1 + digits),
               reinterpret_cast<uint8_t*>(reply));
  reply[4] = 'N';
  return SendAll(fd, reply, static_cast<size_t>(5 + digits), false);
}

// After S: every earlier reply is already written (writes are synchronous),
// so the half-close can go out now; what follows is read only to be dropped,
// until the client ends its side.
void HalfCloseAndDrain(int fd) {
  ::shutdown(fd, SHUT_WR);
  uint8_t sink[16 * 1024];
  while (true) {
    const ssize_t got = ::recv(fd, sink, sizeof(sink), 0);
    if (got > 0) continue;
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
        WaitFor(fd, POLLIN)) {
      continue;
    }
    return;
  }
}

void Release(int fd) {
  std::lock_guard<std::mutex> lock(registry.mu);
  registry.fds.erase(fd);
  ::close(fd);
  if (registry.fds.empty()) {
    registry.empty.notify_all();
    if (registry.done_fd >= 0) (void)!::write(registry.done_fd, "x", 1);
  }
}

// One connection, start to end. Replies are written before the next header
// is read, so a blocked write stops the reading: that is the backpressure.
void Serve(int fd) {
  std::vector<uint8_t> buffer;
  bool more = true;
  while (more) {
    uint8_t header[4];
    if (!ReadExact(fd, header, sizeof(header))) break;
    const uint32_t length = GetBigEndian(header);
    // Protocol errors close before anything of size L is read or reserved.
    if (length == 0 || length > kMaxFrame) break;
    uint8_t opcode;
    if (!ReadExact(fd, &opcode, 1)) break;
    const size_t body = length - 1;
    more = false;
    switch (opcode) {
      case 'E':
        more = Echo(fd, body, buffer);
        break;
      case 'B':
        more = body == 4 && Bulk(fd);
        break;
      case 'N':
        more = body == 0 && Count(fd);
        break;
      // S, C and A take effect once their frame is whole, like any request;
      // a body is allowed and ignored.
      case 'S':
        if (Skip(fd, body)) HalfCloseAndDrain(fd);
        break;
      case 'C':
        Skip(fd, body);
        break;
      case 'A':
        if (Skip(fd, body)) {
          const linger abort{1, 0};
          ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
        }
        break;
      default:
        break;
    }
  }
  Release(fd);
}

void* ConnectionThread(void* arg) {
  Serve(static_cast<int>(reinterpret_cast<intptr_t>(arg)));
  return nullptr;
}

// The descriptor is counted (for N) from the moment it is accepted.
void Spawn(int fd) {
  {
    std::lock_guard<std::mutex> lock(registry.mu);
    registry.fds.insert(fd);
  }
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, kThreadStack);
  pthread_t thread;
  const int error = pthread_create(&thread, &attr, ConnectionThread,
                                   reinterpret_cast<void*>(intptr_t{fd}));
  pthread_attr_destroy(&attr);
  if (error != 0) {
    std::fprintf(stderr, "pthread_create: %s\n", std::strerror(error));
    Release(fd);  // refuse this one, keep serving the rest
  }
}

struct Address {
  int inherited_fd = -1;  // fd:N
  int family = AF_UNSPEC;
  sockaddr_storage storage{};
  socklen_t length = 0;
  std::string path;  // a filesystem socket's path; empty otherwise
};

bool ParseNumber(const std::string& text, long max, long& out) {
  if (text.empty() || text.size() > 10) return false;
  long value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value > max) return false;
  out = value;
  return true;
}

std::optional<Address> ParseAddress(const std::string& text,
                                    std::string& error) {
  Address address;
  if (text.rfind("fd:", 0) == 0) {
    long fd;
    if (!ParseNumber(text.substr(3), INT_MAX, fd)) {
      error = "fd:N needs a descriptor number";
      return std::nullopt;
    }
    address.inherited_fd = static_cast<int>(fd);
    return address;
  }
  if (text.rfind("unix:", 0) == 0) {
    const std::string name = text.substr(5);
    auto* un = reinterpret_cast<sockaddr_un*>(&address.storage);
    un->sun_family = AF_UNIX;
    address.family = AF_UNIX;
    if (!name.empty() && name[0] == '@') {
      // Abstract: a leading NUL, then exactly the name; the length covers
      // nothing past it, so no NUL padding becomes part of the name.
      const std::string abstract = name.substr(1);
      if (abstract.empty() || abstract.size() > kMaxPathLength) {
        error = "an abstract name needs 1 to 107 bytes, got " +
                std::to_string(abstract.size());
        return std::nullopt;
      }
      std::memcpy(un->sun_path + 1, abstract.data(), abstract.size());
      address.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) +
                                              1 + abstract.size());
      return address;
    }
    if (name.empty()) {
      error = "unix: needs a path";
      return std::nullopt;
    }
    // Truncating would bind a different name than the one asked for.
    if (name.size() > kMaxPathLength) {
      error = "socket path is " + std::to_string(name.size()) +
              " bytes; Linux allows at most 107";
      return std::nullopt;
    }
    std::memcpy(un->sun_path, name.data(), name.size());
    address.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) +
                                            name.size() + 1);
    address.path = name;
    return address;
  }
  if (text.rfind("tcp:", 0) == 0) {
    const std::string rest = text.substr(4);
    std::string host;
    std::string port;
    if (!rest.empty() && rest[0] == '[') {
      const size_t close = rest.find("]:");
      if (close == std::string::npos) {
        error = "tcp:[HOST]:PORT expected";
        return std::nullopt;
      }
      host = rest.substr(1, close - 1);
      port = rest.substr(close + 2);
      address.family = AF_INET6;
    } else {
      const size_t colon = rest.rfind(':');
      if (colon == std::string::npos) {
        error = "tcp:HOST:PORT expected";
        return std::nullopt;
      }
      host = rest.substr(0, colon);
      port = rest.substr(colon + 1);
      address.family = AF_INET;
    }
    long number;
    if (!ParseNumber(port, 65535, number)) {
      error = "bad port '" + port + "'";
      return std::nullopt;
    }
    if (address.family == AF_INET6) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
      in6->sin6_family = AF_INET6;
      in6->sin6_port = htons(static_cast<uint16_t>(number));
      if (::inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) != 1) {
        error = "bad IPv6 address '" + host + "'";
        return std::nullopt;
      }
      address.length = sizeof(sockaddr_in6);
    } else {
      auto* in4 = reinterpret_cast<sockaddr_in*>(&address.storage);
      in4->sin_family = AF_INET;
      in4->sin_port = htons(static_cast<uint16_t>(number));
      if (::inet_pton(AF_INET, host.c_str(), &in4->sin_addr) != 1) {
        error = "bad IPv4 address '" + host + "'";
        return std::nullopt;
      }
      address.length = sizeof(sockaddr_in);
    }
    return address;
  }
  error = "unknown address form (unix:, tcp:, fd:)";
  return std::nullopt;
}

enum class PathState { kLive, kStale, kGone, kNotSocket };

// Only a socket that refuses connections is provably stale; anything we
// cannot judge counts as live, so we never remove someone else's file.
PathState ProbePath(const Address& address) {
  struct stat st;
  if (::lstat(address.path.c_str(), &st) != 0) {
    return errno == ENOENT ? PathState::kGone : PathState::kLive;
  }
  if (!S_ISSOCK(st.st_mode)) return PathState::kNotSocket;
  for (int attempt = 0; attempt < 10; ++attempt) {
    // Non-blocking: a live server with a full backlog answers EAGAIN rather
    // than leaving us waiting.
    const int probe =
        ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (probe < 0) return PathState::kLive;
    const int rc =
        ::connect(probe, reinterpret_cast<const sockaddr*>(&address.storage),
                  address.length);
    const int error = rc == 0 ? 0 : errno;
    ::close(probe);
    if (error == EINTR) continue;
    if (error == ECONNREFUSED) return PathState::kStale;
    if (error == ENOENT) return PathState::kGone;
    return PathState::kLive;
  }
  return PathState::kLive;
}

struct Listener {
  int fd = -1;
  dev_t dev = 0;  // identity of the socket file we bound
  ino_t ino = 0;
};

// Removes the socket file only if it is still the one we bound: another
// server may have replaced it since.
void RemoveSocketFile(const Address& address, const Listener& listener) {
  if (address.path.empty()) return;
  struct stat st;
  if (::stat(address.path.c_str(), &st) == 0 && st.st_dev == listener.dev &&
      st.st_ino == listener.ino) {
    ::unlink(address.path.c_str());
  }
}

// Returns an exit status on failure, after saying why on stderr.
std::optional<int> OpenListener(const Address& address, Listener& listener) {
  const auto* addr = reinterpret_cast<const sockaddr*>(&address.storage);
  const int fd =
      ::socket(address.family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    const int error = errno;
    std::fprintf(stderr, "socket: %s\n", std::strerror(error));
    return address.family == AF_INET6 && error == EAFNOSUPPORT
               ? kExitUnsupported
               : kExitFailure;
  }
  const int one = 1;
  if (address.family != AF_UNIX) {
    // Lets a restarted server take a port whose old connections linger in
    // TIME_WAIT.
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  }
  if (address.family == AF_INET6) {
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  }
  for (int attempt = 0;; ++attempt) {
    if (::bind(fd, addr, address.length) == 0) break;
    const int error = errno;
    if (error == EADDRINUSE && !address.path.empty() && attempt < 3) {
      const PathState state = ProbePath(address);
      if (state == PathState::kStale) {
        ::unlink(address.path.c_str());
        continue;
      }
      if (state == PathState::kGone) continue;
      std::fprintf(stderr, "%s: %s\n", address.path.c_str(),
                   state == PathState::kNotSocket
                       ? "exists and is not a socket; not touching it"
                       : "in use (a server listens there, or it cannot be "
                         "probed); not touching it");
      ::close(fd);
      return kExitFailure;
    }
    std::fprintf(stderr, "bind: %s\n", std::strerror(error));
    ::close(fd);
    return address.family == AF_INET6 && error == EADDRNOTAVAIL
               ? kExitUnsupported
               : kExitFailure;
  }
  listener.fd = fd;
  if (!address.path.empty()) {
    struct stat st;
    if (::stat(address.path.c_str(), &st) == 0) {
      listener.dev = st.st_dev;
      listener.ino = st.st_ino;
    }
  }
  if (::listen(fd, SOMAXCONN) != 0) {
    std::fprintf(stderr, "listen: %s\n", std::strerror(errno));
    RemoveSocketFile(address, listener);
    ::close(fd);
    return kExitFailure;
  }
  return std::nullopt;
}

// Accepts what is queued. Returns false when out of descriptors (or
// memory): the caller waits a little before trying again.
bool AcceptQueued(int listener) {
  // Bounded, so a flood of connections cannot starve the SIGTERM check.
  for (int i = 0; i < 64; ++i) {
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      Spawn(fd);
      continue;
    }
    switch (errno) {
      case EAGAIN:
        return true;
      case EMFILE:
      case ENFILE:
      case ENOBUFS:
      case ENOMEM:
        return false;
      default:
        // ECONNABORTED, EINTR, EPROTO, EPERM and the network errors Linux
        // passes on from the new connection: that one failed, not us.
        continue;
    }
  }
  return true;
}

// SIGTERM: stop accepting, wake every connection thread by shutting its
// socket down (also one blocked writing to a client that does not read),
// give them a moment to finish, and go.
[[noreturn]] void Stop(const Address& address, const Listener& listener) {
  if (listener.fd >= 0) ::close(listener.fd);
  RemoveSocketFile(address, listener);
  {
    std::unique_lock<std::mutex> lock(registry.mu);
    for (int fd : registry.fds) ::shutdown(fd, SHUT_RDWR);
    registry.empty.wait_for(lock, kStopGrace,
                            [] { return registry.fds.empty(); });
  }
  std::fflush(stdout);
  // _exit: threads still stuck must not run into destructors.
  ::_exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s ADDRESS\n", argv[0]);
    return kExitUsage;
  }
  for (size_t i = 0; i < kPatternSize; ++i) {
    pattern[i] = static_cast<uint8_t>(i % 251);
  }
  ::signal(SIGPIPE, SIG_IGN);
  // SIGTERM (and SIGINT, for a person at a terminal) arrive through a
  // signalfd that the main thread polls: no handler, nothing to make
  // async-signal-safe. Blocked here, before any thread starts, so every
  // thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  const int signal_fd =
      ::signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signal_fd < 0) {
    std::perror("signalfd");
    return kExitFailure;
  }

  std::string error;
  const std::optional<Address> address = ParseAddress(argv[1], error);
  if (!address) {
    std::fprintf(stderr, "%s: %s\n", argv[1], error.c_str());
    return kExitUsage;
  }

  Listener listener;
  int done_read = -1;
  if (address->inherited_fd >= 0) {
    const int fd = address->inherited_fd;
    int type = 0;
    socklen_t size = sizeof(type);
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size) != 0 ||
        type != SOCK_STREAM) {
      std::fprintf(stderr, "%s: not a stream socket\n", argv[1]);
      return kExitUsage;
    }
    // The blocking design relies on a blocking socket; the flag belongs to
    // the open file, so clear it in case the parent set it.
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    int done[2];
    if (::pipe2(done, O_CLOEXEC | O_NONBLOCK) != 0) {
      std::perror("pipe2");
      return kExitFailure;
    }
    done_read = done[0];
    registry.done_fd = done[1];
    Spawn(fd);
  } else if (std::optional<int> status = OpenListener(*address, listener)) {
    return *status;
  }
  std::printf("ready\n");
  std::fflush(stdout);

  bool backing_off = false;
  while (true) {
    pollfd fds[2] = {{signal_fd, POLLIN, 0}, {-1, 0, 0}};
    if (done_read >= 0) {
      fds[1] = {done_read, POLLIN, 0};
    } else if (!backing_off) {
      fds[1] = {listener.fd, POLLIN, 0};
    }
    const int ready = ::poll(fds, 2, backing_off ? kBackoffMs : -1);
    if (ready < 0 && errno != EINTR) {
      std::perror("poll");
      ::usleep(kBackoffMs * 1000);
      continue;
    }
    if (ready > 0 && (fds[0].revents & POLLIN)) Stop(*address, listener);
    if (done_read >= 0) {
      char drain[16];
      while (::read(done_read, drain, sizeof(drain)) > 0) {
      }
      std::lock_guard<std::mutex> lock(registry.mu);
      if (registry.fds.empty()) break;
      continue;
    }
    backing_off = !AcceptQueued(listener.fd);
  }
  std::fflush(stdout);
  ::_exit(0);
}
