// A peer-contract server (docs/SUT_CONTRACT.md, v1.1) written against the
// raw Linux API: one thread, non-blocking sockets, edge-triggered epoll, a
// per-connection input buffer and output queue, and backpressure.
//
//   epoll_server ADDRESS   (unix:/path, unix:@name, tcp:127.0.0.1:PORT,
//                           tcp:[::1]:PORT, fd:N)
//
// Edge-triggered epoll reports a change of readiness once. So every read and
// write goes on until EAGAIN, and when the server itself stops short (a
// connection's turn is used up, or it was paused for backpressure) it puts
// the connection on a ready list rather than waiting for an edge that will
// never come for bytes already sitting in a socket buffer.
#include <errno.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <unordered_map>
#include <vector>

#include "connection.h"
#include "listener.h"

namespace epoll_server {
namespace {

// Bytes one connection may move before the others get a turn.
constexpr size_t kTurnBudget = 4u << 20;
constexpr int kAcceptRetryMs = 100;

int64_t NowMs() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

enum class CloseHow { kPlain, kDrain, kAbort };

class Server {
 public:
  explicit Server(const Listener& listener) : listener_(listener) {}
  int Run();

 private:
  void Watch(int fd, uint32_t events, Watched* what);
  void AcceptAll();
  void PauseAccepting();
  void ResumeAccepting();
  void AddConnection(int fd);
  void Service(Connection* c);
  void Turn(Connection* c);
  void Close(Connection* c, CloseHow how);
  void Requeue(Connection* c);
  bool DrainSignals();

  Listener listener_;
  int epoll_fd_ = -1;
  int signal_fd_ = -1;
  Watched listener_tag_{Kind::kListener};
  Watched signal_tag_{Kind::kSignal};
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections_;
  // Closed connections live until the end of the loop iteration: events
  // already fetched may still point at them.
  std::vector<std::unique_ptr<Connection>> graveyard_;
  std::vector<Connection*> ready_;
  bool accept_paused_ = false;
  int64_t resume_at_ = 0;
};

void Server::Watch(int fd, uint32_t events, Watched* what) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = what;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    std::perror("epoll_server: epoll_ctl");
  }
}

void Server::AcceptAll() {
  int soft_errors = 0;
  while (!accept_paused_) {
    int fd =
        ::accept4(listener_.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      AddConnection(fd);
      continue;
    }
    switch (errno) {
      case EAGAIN:
#if EWOULDBLOCK != EAGAIN
      case EWOULDBLOCK:
#endif
        return;
      // The pending connection died, or a signal came: take the next one.
      case EINTR:
      case ECONNABORTED:
      case EPROTO:
      case ENETDOWN:
      case ENOPROTOOPT:
      case EHOSTDOWN:
      case ENONET:
      case EHOSTUNREACH:
      case EOPNOTSUPP:
      case ENETUNREACH:
      case EPERM:
        if (++soft_errors < 1000) continue;
        [[fallthrough]];
      default:
        // EMFILE, ENFILE, ENOBUFS, ENOMEM: out of something. Retrying now
        // would spin; serve what we have and try again later.
        PauseAccepting();
        return;
    }
  }
}

void Server::PauseAccepting() {
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listener_.fd, nullptr);
  accept_paused_ = true;
  resume_at_ = NowMs() + kAcceptRetryMs;
}

void Server::ResumeAccepting() {
  accept_paused_ = false;
  Watch(listener_.fd, EPOLLIN | EPOLLET, &listener_tag_);
  // Connections that queued up while paused bring no new edge.
  AcceptAll();
}

void Server::AddConnection(int fd) {
  auto owned = std::make_unique<Connection>();
  Connection* c = owned.get();
  c->fd = fd;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = static_cast<Watched*>(c);
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    std::perror("epoll_server: epoll_ctl");
    ::close(fd);
    return;
  }
  connections_.emplace(c, std::move(owned));
  // Data may have arrived before the socket joined the epoll set.
  Requeue(c);
}

void Server::Requeue(Connection* c) {
  if (!c->queued) {
    c->queued = true;
    ready_.push_back(c);
  }
}

void Server::Service(Connection* c) {
  Turn(c);
  if (c->dead) return;
  // Anything Turn left undone without waiting for an edge: its budget ran
  // out. Do it on the next round, after the other connections.
  const bool can_write = !c->out.empty() && c->writable;
  const bool reading = (c->state == State::kOpen && !c->paused && !c->eof) ||
                       c->state == State::kDiscarding;
  const bool can_read = reading && c->readable;
  const bool has_frame =
      c->state == State::kOpen && !c->paused && WholeFrameBuffered(*c);
  // End of stream seen by the read that used up the budget, not yet acted
  // on: its edge is spent, and nothing else would bring the close.
  const bool unhandled_eof = c->state == State::kOpen && !c->paused && c->eof;
  const bool flushed_end =
      c->out.empty() && (c->state == State::kCloseAfterFlush ||
                         c->state == State::kShutAfterFlush);
  const bool ending = c->state == State::kGone || c->state == State::kAbortNow;
  if (can_write || can_read || has_frame || unhandled_eof || flushed_end ||
      ending) {
    Requeue(c);
  }
}

void Server::Turn(Connection* c) {
  size_t budget = kTurnBudget;
  while (budget > 0) {
    switch (c->state) {
      case State::kGone:
        Close(c, CloseHow::kPlain);
        return;
      case State::kAbortNow:
        Close(c, CloseHow::kAbort);
        return;
      default:
        break;
    }
    if (!c->out.empty() && c->writable) {
      Flush(*c, &budget);
      if (c->state == State::kGone) continue;
    }
    switch (c->state) {
      case State::kCloseAfterFlush:
        if (c->out.empty()) Close(c, CloseHow::kDrain);
        return;
      case State::kShutAfterFlush:
        if (!c->out.empty()) return;
        // An error here means the peer is gone; the reads below find out.
        ::shutdown(c->fd, SHUT_WR);
        c->state = State::kDiscarding;
        c->in = {};
        c->in_start = c->in_end = 0;
        continue;
      case State::kDiscarding:
        Discard(*c, &budget);
        if (c->state == State::kDiscarding && !c->readable) return;
        continue;
      case State::kOpen:
        break;
      default:
        continue;
    }
    if (c->paused) return;  // Flush lifts it once the queue drains
    if (ProcessFrames(*c, connections_.size())) continue;
    // No whole frame is buffered now.
    if (c->eof) {
      // At a frame boundary or inside one: either way, send what is due,
      // then close; a partial frame gets no reply.
      c->state = State::kCloseAfterFlush;
      continue;
    }
    if (!c->readable) return;
    Read(*c, &budget);
  }
}

void Server::Close(Connection* c, CloseHow how) {
  if (how == CloseHow::kAbort) {
    const linger abort_now{1, 0};
    ::setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &abort_now, sizeof(abort_now));
  } else if (how == CloseHow::kDrain) {
    DrainUnread(c->fd);
  }
  // close() also takes it out of the epoll set. No retry on EINTR: Linux
  // has released the descriptor either way.
  ::close(c->fd);
  c->fd = -1;
  c->dead = true;
  auto it = connections_.find(c);
  graveyard_.push_back(std::move(it->second));
  connections_.erase(it);
  // A descriptor is free again: a paused listener may accept now.
  if (accept_paused_) resume_at_ = NowMs();
}

// Returns whether SIGTERM (or SIGINT) arrived.
bool Server::DrainSignals() {
  bool stop = false;
  signalfd_siginfo info;
  while (true) {
    const ssize_t n = ::read(signal_fd_, &info, sizeof(info));
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof(info))) break;
    if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT) stop = true;
  }
  return stop;
}

int Server::Run() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) {
    std::perror("epoll_server: epoll_create1");
    return kExitFailure;
  }
  // Signals as readable events: no handler can interrupt a half-updated
  // connection, and no wakeup is lost between a check and epoll_wait.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0 ||
      (signal_fd_ = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
    std::perror("epoll_server: signalfd");
    return kExitFailure;
  }
  Watch(signal_fd_, EPOLLIN, &signal_tag_);
  if (listener_.fd >= 0) Watch(listener_.fd, EPOLLIN | EPOLLET, &listener_tag_);
  if (listener_.connection >= 0) AddConnection(listener_.connection);

  static const char kReady[] = "ready\n";
  for (size_t done = 0; done < sizeof(kReady) - 1;) {
    const ssize_t n = ::write(1, kReady + done, sizeof(kReady) - 1 - done);
    if (n > 0) done += static_cast<size_t>(n);
    if (n < 0 && errno != EINTR && errno != EAGAIN) break;
  }

  epoll_event events[64];
  bool stop = false;
  while (!stop) {
    // Block with no timeout unless there is work left over or the
    // listener waits out a shortage of descriptors.
    int timeout = -1;
    if (!ready_.empty()) {
      timeout = 0;
    } else if (accept_paused_) {
      timeout = static_cast<int>(std::max<int64_t>(0, resume_at_ - NowMs()));
    }
    int n = ::epoll_wait(epoll_fd_, events, 64, timeout);
    if (n < 0) {
      if (errno != EINTR) {
        std::perror("epoll_server: epoll_wait");
        return kExitFailure;
      }
      n = 0;
    }
    for (int i = 0; i < n; ++i) {
      auto* what = static_cast<Watched*>(events[i].data.ptr);
      if (what->kind == Kind::kSignal) {
        if (DrainSignals()) stop = true;
      } else if (what->kind == Kind::kListener) {
        if (!accept_paused_) AcceptAll();
      } else {
        auto* c = static_cast<Connection*>(what);
        if (c->dead) continue;
        const uint32_t ev = events[i].events;
        // Errors and hang-ups surface through the next recv or send.
        if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
          c->readable = true;
        }
        if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) c->writable = true;
        Service(c);
      }
    }
    if (stop) break;
    if (accept_paused_ && NowMs() >= resume_at_) ResumeAccepting();
    std::vector<Connection*> round;
    round.swap(ready_);
    for (Connection* c : round) {
      c->queued = false;
      if (!c->dead) Service(c);
    }
    std::erase_if(ready_, [](Connection* c) { return c->dead; });
    graveyard_.clear();
    // fd:N: the one connection has ended.
    if (listener_.fd < 0 && connections_.empty()) break;
  }

  for (auto& [c, owned] : connections_) ::close(c->fd);
  connections_.clear();
  if (listener_.fd >= 0) ::close(listener_.fd);
  RemoveOwnSocketFile(listener_);
  return 0;
}

}  // namespace
}  // namespace epoll_server

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s ADDRESS\n", argv[0]);
    return epoll_server::kExitBadAddress;
  }
  // MSG_NOSIGNAL covers the sockets; this covers stdout and anything else.
  ::signal(SIGPIPE, SIG_IGN);
  epoll_server::Listener listener;
  if (int rc = epoll_server::OpenAddress(argv[1], &listener); rc != 0) {
    return rc;
  }
  epoll_server::Server server(listener);
  return server.Run();
}
