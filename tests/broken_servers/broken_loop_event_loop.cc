// broken_loop_server's event loop: one thread, a level-triggered poll(2) on
// the wakeup pipe, the listener and every connection (with the bugs that
// live in what is polled for: hangup-spin, spin-after-close, emfile-spin,
// half-close-unix, write-on-read-only), and the state it shares.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "broken_loop_server.h"

namespace broken_loop {

int live = 0;
bool zero_timeout = false;
bool accept_paused = false;
int64_t accept_resume_ms = 0;
std::vector<std::unique_ptr<Conn>> conns;

namespace {

int wake_pipe[2] = {-1, -1};

void OnTerm(int) {
  const int saved = errno;
  (void)!::write(wake_pipe[1], "t", 1);
  errno = saved;
}

}  // namespace

int64_t NowMs() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

bool WatchSigterm() {
  if (::pipe2(wake_pipe, O_NONBLOCK | O_CLOEXEC) != 0) return false;
  struct sigaction term {};
  term.sa_handler = OnTerm;
  ::sigaction(SIGTERM, &term, nullptr);
  return true;
}

bool RunLoop(int listener, sockparity::TransportKind kind) {
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
      timeout =
          static_cast<int>(std::max<int64_t>(1, accept_resume_ms - NowMs()));
    if (zero_timeout) timeout = 0;
    if (::poll(fds.data(), fds.size(), timeout) < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "poll: %s\n", std::strerror(errno));
      return false;
    }
    if (fds[0].revents != 0) return true;  // SIGTERM
    if (fds[1].revents & POLLIN) AcceptAll(listener, kind);
    for (size_t i = 0; i < polled.size(); ++i) {
      Conn& c = *polled[i];
      const short revents = fds[i + 2].revents;
      if (c.dead || c.gone || revents == 0) continue;
      if (bug == "half-close-unix" && c.unix_socket && (revents & POLLRDHUP)) {
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
}

}  // namespace broken_loop
