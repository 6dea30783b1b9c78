// The peer contract (SUT_CONTRACT.md, version 1.1) on plain blocking
// sockets: one thread per connection, and each frame read exactly (its
// 4-byte header, then its L bytes), never a byte of the next one. Written
// independently of sockparity's own code, as a second opinion on it.
//
//   threaded_server ADDRESS   (unix:/path, unix:@name, tcp:127.0.0.1:PORT,
//                              tcp:[::1]:PORT, fd:N)
//
// Files: address.cc parses ADDRESS, listener.cc binds, connection.cc serves
// one connection; this one accepts and stops.
//
// Exit status: 0 after SIGTERM (or when the fd:N connection ends), 2 for a
// bad address, 64 when the system has no IPv6 loopback, 1 for anything else
// that stops it from serving (a live server on the path, a failed bind).
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>

#include "threaded_server.h"

namespace threaded_server {
namespace {

// After SIGTERM, how long to let connection threads notice their socket was
// shut down; the contract wants us gone within 2 s, whatever they do.
constexpr auto kStopGrace = std::chrono::milliseconds(1500);
// Pause before retrying accept when out of descriptors: the listener stays
// readable, so polling it would spin.
constexpr int kBackoffMs = 100;

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

// main(), in the namespace: the shared names need no qualifying.
int Main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s ADDRESS\n", argv[0]);
    return kExitUsage;
  }
  FillPattern();
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

}  // namespace threaded_server

int main(int argc, char** argv) { return threaded_server::Main(argc, argv); }
