// The probe's checks that the library perturbs only what the kernel could
// do in this process (signal(7), socket(7), accept(2)): each check counts
// what a kind of call got over many calls, in a process whose handlers,
// mask and socket timeouts the check sets up.
#include <netinet/in.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/time.h>

#include "probe.h"

namespace sockparity::probe {
namespace {

constexpr int kCalls = 200;  // at one in four, P(no hit) is below 1e-24

void OnSignal(int) {}

void InstallHandler(int sig, bool restart) {
  struct sigaction action {};
  action.sa_handler = OnSignal;
  action.sa_flags = restart ? SA_RESTART : 0;
  sigemptyset(&action.sa_mask);
  if (::sigaction(sig, &action, nullptr) != 0) Die("sigaction");
}

void SetTimeout(int fd, int option) {
  timeval tv{5, 0};
  if (::setsockopt(fd, SOL_SOCKET, option, &tv, sizeof(tv)) != 0)
    Die("setsockopt timeout");
}

// Blocking 1-byte recvs, each with a byte queued: how many failed with EINTR.
int RecvEintr(int timeout_option = 0) {
  Pair pair;
  if (timeout_option) SetTimeout(pair.b, timeout_option);
  int eintr = 0;
  for (int i = 0; i < kCalls; ++i) {
    char byte = 'x';
    if (::syscall(SYS_sendto, pair.a, &byte, 1, MSG_DONTWAIT, nullptr, 0) != 1)
      Die("send");
    while (true) {
      ssize_t n = ::recv(pair.b, &byte, 1, 0);
      if (n == 1) break;
      if (n < 0 && errno == EINTR) {
        ++eintr;
        continue;
      }
      Die("recv");
    }
  }
  return eintr;
}

// Blocking 1-byte sends on a socket with room: how many failed with EINTR.
int SendEintr(bool with_timeout) {
  Pair pair;
  if (with_timeout) SetTimeout(pair.a, SO_SNDTIMEO);
  int eintr = 0;
  char byte = 'x';
  for (int i = 0; i < kCalls; ++i) {
    ssize_t n;
    while ((n = ::send(pair.a, &byte, 1, 0)) < 0 && errno == EINTR) ++eintr;
    if (n != 1) Die("send");
    if (::syscall(SYS_recvfrom, pair.b, &byte, 1, 0, nullptr, nullptr) != 1)
      Die("recv");
  }
  return eintr;
}

// A listener on loopback (TCP, or UNIX in the abstract namespace).
struct Listener {
  int fd = -1;
  sockaddr_storage address{};
  socklen_t length = 0;
  explicit Listener(bool tcp) {
    fd = ::socket(tcp ? AF_INET : AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (tcp) {
      auto* in = reinterpret_cast<sockaddr_in*>(&address);
      in->sin_family = AF_INET;
      in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      length = sizeof(sockaddr_in);
    } else {
      auto* un = reinterpret_cast<sockaddr_un*>(&address);
      un->sun_family = AF_UNIX;
      int n = std::snprintf(un->sun_path + 1, sizeof(un->sun_path) - 1,
                            "sockparity-legal-%d", ::getpid());
      length = offsetof(sockaddr_un, sun_path) + 1 + n;
    }
    auto* sa = reinterpret_cast<sockaddr*>(&address);
    if (::bind(fd, sa, length) != 0 || ::listen(fd, 64) != 0 ||
        ::getsockname(fd, sa, &length) != 0)
      Die("listen");
  }
  ~Listener() { ::close(fd); }
};

// Blocking accepts, each with a connection pending: {EINTR, ECONNABORTED}.
std::pair<int, int> AcceptFailures(bool tcp, bool with_address) {
  Listener listener(tcp);
  int eintr = 0, aborted = 0;
  for (int i = 0; i < kCalls; ++i) {
    int client =
        ::socket(listener.address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(client, reinterpret_cast<sockaddr*>(&listener.address),
                  listener.length) != 0)
      Die("connect");
    while (true) {
      sockaddr_storage peer;
      socklen_t peer_length = sizeof(peer);
      int fd = with_address
                   ? ::accept4(listener.fd, reinterpret_cast<sockaddr*>(&peer),
                               &peer_length, SOCK_CLOEXEC)
                   : ::accept(listener.fd, nullptr, nullptr);
      if (fd >= 0) {
        ::close(fd);
        break;
      }
      if (errno == EINTR) {
        ++eintr;
      } else if (errno == ECONNABORTED) {
        ++aborted;
      } else {
        Die("accept");
      }
    }
    ::close(client);
  }
  return {eintr, aborted};
}

// Waits of the poll family on a writable socket, timeout 1 s: EINTR count.
// `mask`: for ppoll, the mask during the call (nullptr: the thread's).
int PollEintr(const char* call, const sigset_t* mask = nullptr) {
  Pair pair;
  const std::string which = call;
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event event{};
  event.events = EPOLLOUT;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, pair.a, &event);
  int eintr = 0;
  for (int i = 0; i < kCalls; ++i) {
    pollfd entry{pair.a, POLLOUT, 0};
    timespec second{1, 0};
    timeval tv{1, 0};
    fd_set writable;
    FD_ZERO(&writable);
    FD_SET(pair.a, &writable);
    int r = which == "poll"    ? ::poll(&entry, 1, 1000)
            : which == "ppoll" ? ::ppoll(&entry, 1, &second, mask)
            : which == "select"
                ? ::select(pair.a + 1, nullptr, &writable, nullptr, &tv)
                : ::epoll_wait(ep, &event, 1, 1000);
    if (r < 0 && errno == EINTR) ++eintr;
  }
  ::close(ep);
  return eintr;
}

std::string Count(int n) {
  return std::to_string(n) + " of " + std::to_string(kCalls);
}

void PrintSeed() {
  const char* seed = std::getenv("SOCKPARITY_PERTURB_SEED");
  std::printf("seed %s\n", seed ? seed : "1 (default)");
}

}  // namespace

void InstallRestartingHandler() { InstallHandler(SIGUSR2, true); }

// No handler at all (a signalfd, or none): a blocking socket call is never
// interrupted; only epoll_wait is, by a stop signal and SIGCONT.
int NoHandlerNoEintr() {
  PrintSeed();
  Check(RecvEintr() == 0,
        "no handler: blocking recv EINTR in " + Count(RecvEintr()));
  Check(SendEintr(false) == 0,
        "no handler: blocking send EINTR " + Count(SendEintr(false)));
  auto [eintr, aborted] = AcceptFailures(false, true);
  Check(eintr == 0, "no handler: blocking accept EINTR in " + Count(eintr));
  for (const char* call : {"poll", "ppoll", "select"}) {
    int n = PollEintr(call);
    Check(n == 0, std::string("no handler: ") + call + " EINTR in " + Count(n));
  }
  int epoll = PollEintr("epoll_wait");
  Check(epoll > 0,
        "no handler: epoll_wait (stop and SIGCONT) EINTR in " + Count(epoll));
  return failures > 0;
}

// A handler without SA_RESTART interrupts every blocking call.
int HandlerWithoutRestart() {
  PrintSeed();
  InstallHandler(SIGUSR1, false);
  int recv_eintr = RecvEintr();
  Check(recv_eintr > 0,
        "handler without SA_RESTART: recv EINTR in " + Count(recv_eintr));
  int accept_eintr = AcceptFailures(false, true).first;
  Check(accept_eintr > 0,
        "handler without SA_RESTART: accept EINTR in " + Count(accept_eintr));
  int poll_eintr = PollEintr("poll");
  Check(poll_eintr > 0,
        "handler without SA_RESTART: poll EINTR in " + Count(poll_eintr));
  return failures > 0;
}

// SA_RESTART: socket calls are restarted, the poll family never is.
int HandlerWithRestart() {
  PrintSeed();
  InstallHandler(SIGUSR1, true);
  Check(RecvEintr() == 0, "SA_RESTART: recv EINTR in " + Count(RecvEintr()));
  int accept_eintr = AcceptFailures(false, true).first;
  Check(accept_eintr == 0,
        "SA_RESTART: accept EINTR in " + Count(accept_eintr));
  for (const char* call : {"poll", "ppoll", "select", "epoll_wait"}) {
    int n = PollEintr(call);
    Check(n > 0, std::string("SA_RESTART: ") + call + " EINTR in " + Count(n));
  }
  return failures > 0;
}

// A handler whose signal this thread blocks cannot interrupt its calls;
// during ppoll the mask passed in counts instead.
int BlockedSignal() {
  PrintSeed();
  InstallHandler(SIGUSR1, false);
  sigset_t usr1, empty;
  sigemptyset(&usr1);
  sigemptyset(&empty);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, nullptr);
  Check(RecvEintr() == 0,
        "SIGUSR1 blocked: recv EINTR in " + Count(RecvEintr()));
  int poll_eintr = PollEintr("poll");
  Check(poll_eintr == 0, "SIGUSR1 blocked: poll EINTR in " + Count(poll_eintr));
  int unmasked = PollEintr("ppoll", &empty);
  Check(unmasked > 0, "SIGUSR1 blocked, ppoll with an empty mask: EINTR in " +
                          Count(unmasked));
  pthread_sigmask(SIG_UNBLOCK, &usr1, nullptr);
  int masked = PollEintr("ppoll", &usr1);
  Check(masked == 0,
        "SIGUSR1 open, ppoll masking it: EINTR in " + Count(masked));
  return failures > 0;
}

// A socket timeout makes a blocking call fail with EINTR even without a
// handler (a stop signal and SIGCONT).
int TimeoutAllowsEintr() {
  PrintSeed();
  int recv_eintr = RecvEintr(SO_RCVTIMEO);
  Check(recv_eintr > 0,
        "SO_RCVTIMEO, no handler: recv EINTR in " + Count(recv_eintr));
  int send_eintr = SendEintr(true);
  Check(send_eintr > 0,
        "SO_SNDTIMEO, no handler: send EINTR in " + Count(send_eintr));
  Check(RecvEintr(SO_SNDTIMEO) == 0,
        "SO_SNDTIMEO does not count for recv: EINTR in " +
            Count(RecvEintr(SO_SNDTIMEO)));
  return failures > 0;
}

// Sends of 4 KiB (room for all of them) and 4 KiB reads with 4 KiB queued:
// how many returned less than asked.
int ShortCount(bool blocking, bool write, int flags, int timeout_option) {
  Pair pair;
  std::vector<uint8_t> buffer(4096);
  const int fd = write ? pair.a : pair.b;
  if (!blocking) ::fcntl(fd, F_SETFL, O_NONBLOCK);
  if (timeout_option) SetTimeout(fd, timeout_option);
  int cut = 0;
  for (int i = 0; i < kCalls; ++i) {
    ssize_t n;
    if (write) {
      while ((n = ::send(pair.a, buffer.data(), 4096, flags)) < 0 &&
             errno == EINTR) {
      }
      for (ssize_t left = n; left > 0;)
        left -= ::syscall(SYS_recvfrom, pair.b, buffer.data(), left, 0, nullptr,
                          nullptr);
    } else {
      if (::syscall(SYS_sendto, pair.a, buffer.data(), 4096, 0, nullptr, 0) !=
          4096)
        Die("send");
      while ((n = ::recv(pair.b, buffer.data(), 4096, flags)) < 0 &&
             errno == EINTR) {
      }
      for (ssize_t left = 4096 - n; left > 0;)
        left -= ::syscall(SYS_recvfrom, pair.b, buffer.data(), left, 0, nullptr,
                          nullptr);
    }
    if (n <= 0) Die("transfer");
    if (n < 4096) ++cut;
  }
  return cut;
}

// short-io: a blocking send (or MSG_WAITALL recv) stops early only for a
// handler or a timeout; a read returning what is there, and a
// non-blocking send, always may.
int ShortOnlyWhereAllowed() {
  PrintSeed();
  int n = ShortCount(true, true, 0, 0);
  Check(n == 0, "no handler: blocking send short in " + Count(n));
  n = ShortCount(true, false, MSG_WAITALL, 0);
  Check(n == 0, "no handler: blocking recv MSG_WAITALL short in " + Count(n));
  n = ShortCount(true, false, 0, 0);
  Check(n > 0, "no handler: blocking recv short in " + Count(n));
  n = ShortCount(false, true, 0, 0);
  Check(n > 0, "no handler: non-blocking send short in " + Count(n));
  n = ShortCount(true, true, 0, SO_SNDTIMEO);
  Check(n > 0, "SO_SNDTIMEO: blocking send short in " + Count(n));
  n = ShortCount(true, false, MSG_WAITALL, SO_RCVTIMEO);
  Check(n > 0, "SO_RCVTIMEO: blocking recv MSG_WAITALL short in " + Count(n));
  InstallHandler(SIGUSR1, true);
  n = ShortCount(true, true, 0, 0);
  Check(n > 0, "handler with SA_RESTART: blocking send short in " + Count(n));
  return failures > 0;
}

// accept-aborted: Linux returns ECONNABORTED from accept only for a TCP
// peer whose address cannot be given (do_accept, inet_getname).
int AbortedOnlyWhereLinuxCan() {
  PrintSeed();
  int unix_aborted = AcceptFailures(false, true).second;
  Check(unix_aborted == 0, "AF_UNIX: ECONNABORTED in " + Count(unix_aborted));
  int no_address = AcceptFailures(true, false).second;
  Check(no_address == 0,
        "TCP, no address asked: ECONNABORTED in " + Count(no_address));
  int tcp = AcceptFailures(true, true).second;
  Check(tcp > 0, "TCP, address asked: ECONNABORTED in " + Count(tcp));
  return failures > 0;
}

}  // namespace sockparity::probe
