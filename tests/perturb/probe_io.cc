// The probe's checks of the perturbed calls themselves: cuts, EINTR,
// ECONNABORTED, pipes left alone, edge-triggered readiness.
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/syscall.h>

#include "probe.h"

namespace sockparity::probe {

// short-io: a 64 KiB send is sometimes cut short; a loop still delivers
// every byte intact, and a loop-less writer loses data.
int ShortIo() {
  InstallRestartingHandler();  // so a blocking send may stop early
  constexpr size_t kSize = 64 << 10;
  std::vector<uint8_t> data(kSize), got(kSize);
  for (size_t i = 0; i < kSize; ++i) data[i] = PatternByte(i);
  int short_sends = 0, short_recvs = 0, lost = 0;
  for (int round = 0; round < 32; ++round) {
    Pair pair;
    // The socketpair's buffer holds 64 KiB: no reader thread needed.
    int bufsize = 1 << 20;
    ::setsockopt(pair.a, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
    size_t sent = 0;
    bool first = true;
    while (sent < kSize) {
      ssize_t n = ::send(pair.a, data.data() + sent, kSize - sent, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) Die("send");
      if (first && static_cast<size_t>(n) < kSize) ++short_sends;
      first = false;
      sent += n;
    }
    ::shutdown(pair.a, SHUT_WR);
    size_t received = 0;
    while (true) {
      ssize_t n = ::recv(pair.b, got.data() + received, kSize - received, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) Die("recv");
      if (n == 0) break;
      // Everything was queued before the first recv.
      if (static_cast<size_t>(n) < kSize - received) ++short_recvs;
      received += n;
      if (received == kSize) {
        char extra;
        while ((n = ::recv(pair.b, &extra, 1, 0)) < 0 && errno == EINTR) {
        }
        if (n != 0) Die("recv: more than was sent, or no end of stream");
        break;
      }
    }
    if (received != kSize || got != data) {
      Check(false, "round " + std::to_string(round) + ": received " +
                       std::to_string(received) + " bytes, not all intact");
      return 1;
    }
    // A writer that trusts one call to write everything.
    Pair naive;
    ::setsockopt(naive.a, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
    ssize_t once = ::write(naive.a, data.data(), kSize);
    if (once >= 0 && static_cast<size_t>(once) < kSize) ++lost;
  }
  Check(short_sends > 0, "of 32 sends of 64 KiB, " +
                             std::to_string(short_sends) +
                             " returned less than asked");
  Check(short_recvs > 0,
        std::to_string(short_recvs) + " recvs returned less than was queued");
  Check(true, "32 rounds: a send loop delivered every byte intact");
  std::printf(
      "demo: a loop-less writer (one write of 64 KiB) lost data in %d of 32 "
      "rounds\n",
      lost);
  Check(lost > 0, "a loop-less writer loses data under short-io");
  // MSG_PEEK is never cut.
  Pair pair;
  for (size_t queued = 0; queued < 4096;) {
    ssize_t n = ::send(pair.a, data.data() + queued, 4096 - queued, 0);
    if (n > 0) queued += n;
  }
  int peeks_cut = 0;
  for (int i = 0; i < 64; ++i) {
    ssize_t n = ::recv(pair.b, got.data(), 4096, MSG_PEEK | MSG_DONTWAIT);
    if (n >= 0 && n < 4096) ++peeks_cut;
  }
  Check(peeks_cut == 0, "MSG_PEEK is never cut short");
  return failures > 0;
}

// eintr: with a handler without SA_RESTART, blocking recv sometimes fails
// with EINTR; non-blocking never.
int Eintr() {
  struct sigaction action {};
  action.sa_handler = [](int) {};
  if (::sigaction(SIGUSR1, &action, nullptr) != 0) Die("sigaction");
  Pair pair;
  int interrupted = 0, calls = 0;
  for (int i = 0; i < 200; ++i) {
    char byte = 'x';
    while (::send(pair.a, &byte, 1, MSG_DONTWAIT) != 1) {
    }
    while (true) {
      ++calls;
      ssize_t n = ::recv(pair.b, &byte, 1, 0);
      if (n == 1) break;
      if (n < 0 && errno == EINTR) {
        ++interrupted;
        continue;
      }
      Die("recv");
    }
  }
  Check(interrupted > 0, "blocking recv: " + std::to_string(interrupted) +
                             " EINTR in " + std::to_string(calls) + " calls");
  int nonblocking_eintr = 0;
  for (int i = 0; i < 200; ++i) {
    char byte;
    if (::recv(pair.b, &byte, 1, MSG_DONTWAIT) < 0 && errno == EINTR)
      ++nonblocking_eintr;
  }
  ::fcntl(pair.b, F_SETFL, ::fcntl(pair.b, F_GETFL) | O_NONBLOCK);
  for (int i = 0; i < 200; ++i) {
    char byte;
    if (::read(pair.b, &byte, 1) < 0 && errno == EINTR) ++nonblocking_eintr;
    pollfd entry{pair.b, POLLIN, 0};
    if (::poll(&entry, 1, 0) < 0 && errno == EINTR) ++nonblocking_eintr;
  }
  Check(nonblocking_eintr == 0,
        "MSG_DONTWAIT, O_NONBLOCK and zero-timeout poll: " +
            std::to_string(nonblocking_eintr) + " EINTR in 600 calls");
  int poll_eintr = 0;
  for (int i = 0; i < 200; ++i) {
    pollfd entry{pair.a, POLLOUT, 0};
    if (::poll(&entry, 1, 1000) < 0 && errno == EINTR) ++poll_eintr;
  }
  Check(poll_eintr > 0, "poll with a timeout: " + std::to_string(poll_eintr) +
                            " EINTR in 200 calls");
  return failures > 0;
}

// accept-aborted: accept on TCP, asking for the peer's address, sometimes
// fails with ECONNABORTED; retrying gets every connection.
int AcceptAborted() {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      ::listen(listener, 64) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) !=
          0)
    Die("listen");
  int aborted = 0, accepted = 0;
  for (int i = 0; i < 40; ++i) {
    int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(client, reinterpret_cast<sockaddr*>(&address), length) != 0)
      Die("connect");
    while (true) {
      sockaddr_in peer{};
      socklen_t peer_length = sizeof(peer);
      auto* peer_address = reinterpret_cast<sockaddr*>(&peer);
      int fd =
          i % 2 ? ::accept(listener, peer_address, &peer_length)
                : ::accept4(listener, peer_address, &peer_length, SOCK_CLOEXEC);
      if (fd >= 0) {
        ++accepted;
        ::close(fd);
        break;
      }
      if (errno == ECONNABORTED) {
        ++aborted;
        continue;
      }
      Die("accept");
    }
    ::close(client);
  }
  ::close(listener);
  Check(aborted > 0, "accept: " + std::to_string(aborted) +
                         " ECONNABORTED before 40 connections");
  Check(accepted == 40, "every connection accepted on retry");
  return failures > 0;
}

// A pipe is never perturbed, even with every mode on.
int PipeUntouched() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) Die("pipe2");
  // The reading end does not block: a wrongly cut write must not hang us.
  ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
  std::vector<uint8_t> buffer(4096);
  int perturbed = 0;
  for (int i = 0; i < 300; ++i) {
    if (::write(fds[1], buffer.data(), buffer.size()) != 4096) ++perturbed;
    if (::read(fds[0], buffer.data(), buffer.size()) != 4096) ++perturbed;
  }
  Check(perturbed == 0, "pipe: " + std::to_string(perturbed) +
                            " of 600 blocking calls short or interrupted");
  // A datagram socket neither: a cut read would lose the rest of its
  // message (sock_diag's netlink answers, for one).
  int datagrams[2];
  if (::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, datagrams) != 0)
    Die("socketpair(SOCK_DGRAM)");
  ::fcntl(datagrams[1], F_SETFL, O_NONBLOCK);  // fails, rather than hangs
  int datagram_perturbed = 0;
  for (int i = 0; i < 300; ++i) {
    if (::write(datagrams[0], buffer.data(), buffer.size()) != 4096)
      ++datagram_perturbed;
    if (::read(datagrams[1], buffer.data(), buffer.size()) != 4096)
      ++datagram_perturbed;
  }
  ::close(datagrams[0]);
  ::close(datagrams[1]);
  Check(datagram_perturbed == 0,
        "datagram socket: " + std::to_string(datagram_perturbed) +
            " of 600 blocking calls short or interrupted");
  // Control: the same on a socket is perturbed (a handler makes a cut
  // blocking write legal).
  InstallRestartingHandler();
  Pair pair;
  int socket_perturbed = 0;
  for (int i = 0; i < 300; ++i) {
    ssize_t n = ::write(pair.a, buffer.data(), buffer.size());
    if (n != 4096) ++socket_perturbed;
    if (n > 0) {
      size_t left = n;
      while (left > 0) {
        ssize_t r = ::read(pair.b, buffer.data(), left);
        if (r > 0) left -= r;
      }
    }
  }
  Check(socket_perturbed > 0,
        "socketpair control: " + std::to_string(socket_perturbed) +
            " of 300 writes short or interrupted");
  ::close(fds[0]);
  ::close(fds[1]);
  return failures > 0;
}

int EdgeTriggered() {
  int cut_reads = 0, reported_again = 0, cut_writes = 0, write_reported = 0;
  for (int round = 0; round < 200; ++round) {
    Pair pair;
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) Die("epoll_create1");
    ::fcntl(pair.b, F_SETFL, O_NONBLOCK);
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT | EPOLLET;
    event.data.u64 = 0xfeed;
    if (::epoll_ctl(ep, EPOLL_CTL_ADD, pair.b, &event) != 0) Die("epoll_ctl");
    epoll_event got[4];
    // The first edge: writable.
    if (::epoll_wait(ep, got, 4, 1000) != 1) Die("epoll_wait (first)");
    const char data[100] = {};
    // Raw write: the sender's own cut is not what is checked here.
    if (::syscall(SYS_write, pair.a, data, sizeof(data)) != sizeof(data))
      Die("write");
    if (::epoll_wait(ep, got, 4, 1000) != 1 || !(got[0].events & EPOLLIN))
      Die("epoll_wait (readable)");
    char buffer[100];
    const ssize_t n = ::recv(pair.b, buffer, sizeof(buffer), 0);
    if (n > 0 && n < 100) {
      ++cut_reads;
      // Data is left and nothing new arrived: only a re-arm reports it.
      if (::epoll_wait(ep, got, 4, 0) == 1 && (got[0].events & EPOLLIN) &&
          got[0].data.u64 == 0xfeed)
        ++reported_again;
    }
    const ssize_t w = ::send(pair.b, data, sizeof(data), MSG_NOSIGNAL);
    if (w > 0 && w < 100) {
      ++cut_writes;
      if (::epoll_wait(ep, got, 4, 0) == 1 && (got[0].events & EPOLLOUT))
        ++write_reported;
    }
    ::close(ep);
  }
  Check(cut_reads > 0, std::to_string(cut_reads) + " of 200 reads cut");
  Check(reported_again == cut_reads,
        "after each cut read the data left was reported again (" +
            std::to_string(reported_again) + " of " +
            std::to_string(cut_reads) + ")");
  Check(cut_writes > 0 && write_reported == cut_writes,
        "after each cut write the space left was reported again (" +
            std::to_string(write_reported) + " of " +
            std::to_string(cut_writes) + ")");
  return failures == 0 ? 0 : 1;
}

}  // namespace sockparity::probe
