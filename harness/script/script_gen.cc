#include "sockparity/script/script_gen.h"

#include <algorithm>
#include <deque>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace sockparity {
namespace {

// What the generator knows of one socket. It is not a model of any kind's
// behaviour (that is what the kinds are compared on): it only keeps the
// generator away from the two things no comparison can use. A step that
// waits for what never comes (a read with nothing to come, a send into a
// full buffer, an accept with nothing queued) is deterministic but costs a
// whole step timeout, so where the model is sure a step would wait it is
// left out, but for a few where what is queued is unknown (see MayWait). A step
// whose outcome a kernel timer decides is left out always (see
// FullBacklogRace). Every other step is legal in every state, closed sockets
// included: the runner gives those an outcome of their own.
struct Sock {
  std::string name;  // empty: a queued connection's end, not yet accepted
  bool open = true;
  bool listener = false;
  int capacity = 0;       // connections a listener's queue holds (N + 1)
  std::deque<int> queue;  // a listener's queued ends, oldest first
  int attempts = 0;       // connections that may be in its queue
  bool frozen = false;    // see FullBacklogRace
  int peer = -1;          // the other end of its connection
  bool stuck = false;     // its SYN waits on a full backlog (TCP)
  int target = -1;        // the socket it last connected to
  bool nonblocking = false;
  bool accepted = false;  // an accept's end, whose port is its listener's
  int served_by = -1;     // for an accepted end: its listener
  bool filled = false;  // its peer's buffer is full (fill)
  bool urgent = false;  // an urgent byte came, which reads may or not see
  bool edge = false;    // registered for edge-triggered epoll
  int64_t lowat = 1;    // SO_RCVLOWAT
  int linger = -1;      // SO_LINGER seconds, -1 off
  int64_t pending = 0;  // bytes surely queued to read (a lower bound)
  bool fin = false;     // its peer ended: a read does not wait
  bool rd_shut = false;
  bool wr_shut = false;
};

class Generator {
 public:
  Generator(const ChoiceSource& choose, const ScriptGenOptions& options)
      : choose_(choose), options_(options) {
    // Steps hold references into it across NewSock: never reallocated (a
    // script of max_steps makes at most two sockets a step).
    socks_.reserve(2 * options.max_steps + 4);
  }

  Script Generate() {
    const int steps = 1 + static_cast<int>(choose_(options_.max_steps));
    // Most scripts start with a connection to work on.
    if (choose_(3) == 0) {
      Listen();
    } else {
      Pair();
    }
    int last = -1;  // the socket the last step acted on
    for (int i = 1; i < steps; ++i) {
      if (choose_(4) == 0 || Named().empty()) {
        Create();
        last = -1;
        continue;
      }
      // Differences live where steps meet: one end's and the other's (a
      // read after a send-fd, an epoll after the peer read, a poll after
      // its close), or one socket's in a row (fill, shutdown wr, poll). So
      // a step often goes to the last socket again or to its peer.
      const int peer = last >= 0 ? socks_[last].peer : -1;
      const uint32_t follow = choose_(4);
      if (last >= 0 && follow == 0) {
        // the same socket again
      } else if (peer >= 0 && !socks_[peer].name.empty() && follow == 1) {
        last = peer;
      } else {
        std::vector<int> named = Named();
        last = named[choose_(static_cast<uint32_t>(named.size()))];
      }
      Act(last);
    }
    return std::move(script_);
  }

 private:
  uint32_t Choose(uint32_t n) { return choose_(n); }

  std::vector<int> Named() const {
    std::vector<int> named;
    for (size_t i = 0; i < socks_.size(); ++i) {
      if (socks_[i].name.empty()) continue;
      named.push_back(static_cast<int>(i));
    }
    return named;
  }
  int NewSock(std::string name) {
    Sock sock;
    sock.name = std::move(name);
    socks_.push_back(std::move(sock));
    return static_cast<int>(socks_.size()) - 1;
  }
  std::string Fresh(const std::string& prefix) {
    return absl::StrCat(prefix, ++made_[prefix]);
  }
  void Emit(Verb verb, const std::string& slot, int64_t number = 0,
            std::string target = "", std::string keyword = "") {
    Step step;
    step.slot = slot;
    step.verb = verb;
    step.number = number;
    step.target = std::move(target);
    step.keyword = std::move(keyword);
    script_.steps.push_back(std::move(step));
  }
  // Any named socket: connects and accepts also aim at the wrong ones.
  int AnyTarget() {
    std::vector<int> named = Named();
    // Listeners twice as likely: most connects should reach one.
    std::vector<int> weighted = named;
    for (int i : named)
      if (socks_[i].listener) weighted.push_back(i);
    return weighted[Choose(static_cast<uint32_t>(weighted.size()))];
  }

  void Pair() {
    const std::string a = Fresh("a"), b = Fresh("b");
    const int x = NewSock(a), y = NewSock(b);
    socks_[x].peer = y;
    socks_[y].peer = x;
    Emit(Verb::kPair, a, 0, b);
  }
  void Listen() {
    const std::string l = Fresh("l");
    const int i = NewSock(l);
    socks_[i].listener = true;
    const int backlog = static_cast<int>(Choose(4));
    socks_[i].capacity = backlog + 1;
    Emit(Verb::kListen, l, backlog, "", Choose(4) == 0 ? "reuseaddr" : "");
  }
  bool MayBeFull(const Sock& l) const { return l.attempts >= l.capacity; }

  // FullBacklogRace: a non-blocking connect into a full backlog leaves a
  // TCP SYN that the kernel retries on its retransmission timer (1 s, 3 s,
  // ...; a unix connect fails at once). Once the listener makes room
  // (accept, a larger relisten) or goes (close, abort, shutdown), whether
  // the retry has come yet decides what both sockets show: a race with a
  // kernel timer, not a difference. Such a listener is frozen: those steps
  // are left out on it. A blocking connect gives up well before the first
  // retry and abandons its attempt (Runner::ConnectBounded), so it freezes
  // nothing.
  void ConnectTo(int c, int target, bool blocking) {
    Sock& l = socks_[target];
    if (!l.open || !l.listener) return;  // refused or no address: at once
    if (MayBeFull(l)) {
      // It may yet have found room: it may be queued, unknown to the model.
      l.attempts++;
      if (!blocking) {
        l.frozen = true;
        socks_[c].stuck = true;
      }
      return;
    }
    const int end = NewSock("");
    socks_[c].peer = end;
    socks_[end].peer = c;
    l.attempts++;
    l.queue.push_back(end);
  }

  void BindSame(int t) {
    const std::string k = Fresh("k");
    NewSock(k);
    Emit(Verb::kBindSame, k, 0, socks_[t].name,
         Choose(2) == 0 ? "reuseaddr" : "");
  }
  void ConnectNew(int t) {
    if (made_["c"] >= 6) return;
    // Into a full backlog a connect waits out connect_timeout (0.5 s):
    // reached, but seldom, or it would be most of the fuzzer's time.
    if (socks_[t].listener && socks_[t].open && MayBeFull(socks_[t]) &&
        Choose(8) != 0) {
      return;
    }
    const bool blocking = Choose(2) == 0;
    const std::string c = Fresh("c");
    const int i = NewSock(c);
    socks_[i].nonblocking = !blocking;
    socks_[i].target = t;
    Emit(blocking ? Verb::kConnect : Verb::kConnectNb, c, 0, socks_[t].name);
    ConnectTo(i, t, blocking);
  }
  void ConnectAsNobody(int t) {
    // The child's connect has no deadline: only where it cannot wait.
    Sock& l = socks_[t];
    if (l.listener && l.open && MayBeFull(l)) return;
    const std::string n = Fresh("n");
    const int i = NewSock(n);
    socks_[i].open = false;
    Emit(Verb::kConnectAsNobody, n, 0, l.name);
    if (l.listener && l.open) {
      ConnectTo(i, t, /*blocking=*/true);
      EndSock(i);  // the child is gone, and its socket with it
    }
  }

  void Create() {
    const bool has_named = !Named().empty();
    switch (Choose(has_named ? 10 : 4)) {
      case 0:
        if (made_["a"] < 2) return Pair();
        [[fallthrough]];
      case 1:
        if (made_["l"] < 3) return Listen();
        [[fallthrough]];
      case 2: {
        const std::string k = Fresh("k");
        NewSock(k);
        if (Choose(2) == 0) return Emit(Verb::kBind, k);
        // Around sun_path's 108 bytes, and over it.
        return Emit(Verb::kBindPathLength, k, 100 + Choose(12));
      }
      case 3: {
        const std::string m = Fresh("m");
        socks_[NewSock(m)].open = false;  // a failed connect is closed
        return Emit(Verb::kConnectMissing, m);
      }
      case 4:
        return BindSame(AnyTarget());
      case 5:
      case 6:
        return ConnectNew(AnyTarget());
      case 7:
        return ConnectAsNobody(AnyTarget());
      default: {
        if (made_["s"] >= 6) return;
        // Mostly where a connection waits.
        for (size_t t = 0; t < socks_.size(); ++t) {
          if (!socks_[t].queue.empty() && Choose(4) != 0) return Accept(t);
        }
        return Accept(AnyTarget());
      }
    }
  }

  void Accept(int t) {
    Sock& l = socks_[t];
    if (l.frozen) return;
    // Without a queued connection a blocking accept waits out the step
    // timeout, on every kind alike.
    if (l.open && l.queue.empty() && !l.rd_shut && !l.nonblocking) return;
    const std::string s = Fresh("s");
    Emit(Verb::kAccept, s, 0, l.name);
    if (!l.open || l.queue.empty()) {
      socks_[NewSock(s)].open = false;  // none made: as good as closed
      return;
    }
    const int end = l.queue.front();
    socks_[t].queue.pop_front();
    socks_[t].attempts--;
    socks_[end].name = s;
    socks_[end].accepted = true;
    socks_[end].served_by = t;
  }

  // `i` ends its side of the connection: the peer's reads stop waiting.
  void EndSock(int i) {
    Sock& s = socks_[i];
    if (s.peer >= 0) {
      socks_[s.peer].fin = true;
      socks_[s.peer].filled = false;
    }
    s.open = false;
    s.wr_shut = true;
    s.rd_shut = true;
    if (s.listener) {
      // Its queued connections go with it.
      for (int end : s.queue) EndSock(end);
      s.queue.clear();
    }
  }

  // Whether a read needing `need` bytes returns without waiting.
  bool ReadReturns(const Sock& s, int64_t need) const {
    if (!s.open || s.nonblocking) return true;
    if (s.stuck) return false;  // waits for the handshake
    return s.rd_shut || s.fin || s.peer < 0 ||
           s.pending >= std::max(need, s.lowat);
  }
  bool SendReturns(const Sock& s) const {
    if (!s.open || s.nonblocking || s.wr_shut) return true;
    if (s.stuck) return false;  // waits for the handshake
    if (s.peer < 0) return true;
    const Sock& p = socks_[s.peer];
    return !s.filled || !p.open || p.fin;
  }
  // close(2) lingers (whatever O_NONBLOCK says) until its FIN is
  // acknowledged: never, while nothing reads the full buffer before it.
  bool LingerWaits(const Sock& s) const {
    if (!s.open || !s.filled || s.peer < 0) return false;
    const Sock& p = socks_[s.peer];
    return p.open && !p.fin;
  }
  void Delivered(Sock& s, int64_t n) {
    if (!s.open || s.wr_shut || s.peer < 0 || s.stuck) return;
    Sock& p = socks_[s.peer];
    if (p.open && !p.rd_shut) p.pending += n;
  }
  void Read(Sock& s, int64_t n) {
    s.pending = std::max<int64_t>(0, s.pending - n);
  }
  void Drained(Sock& s) {
    s.pending = 0;
    s.urgent = false;
    if (s.peer >= 0) socks_[s.peer].filled = false;
  }

  // A wait costs a whole step timeout (1 s on TCP), and where the model
  // knows what is queued every kind waits alike. Where it does not, some
  // differences are only seen by waiting: a read with only an urgent byte
  // queued (which a UNIX read wakes for), a send into a filled buffer (a
  // TCP window probe moves it). There one such step in eight is made. Never
  // on a socket whose handshake waits on a full backlog: there the step
  // timeout races TCP's SYN retransmission timer. Made everywhere, one in
  // eight made 300 random inputs 9 times slower.
  bool MayWait(const Sock& s) {
    return (s.urgent || s.filled) && !s.stuck && Choose(8) == 0;
  }

  // The steps that change a socket in its role, each an action of Do. On a
  // listener nearly every data step gives the same error on every kind; the
  // differences are in how its queue, port and file go (accept, close,
  // shutdown, relisten) and what its clients see. An unconnected socket
  // (bound, refused) differs in what listening or connecting it again does.
  static constexpr uint32_t kListenerActions[] = {
      28, 28, 28,          // accept
      12, 12, 11, 26,      // close or abort (twice), shutdown, relisten
      14, 21, 16, 18, 20,  // poll, epoll, so-error, tcp-state, inq or outq
      15,                  // nonblock
      30, 30, 31, 32,      // connect to it, bind-same, connect-as-nobody
  };
  static constexpr uint32_t kGoneListenerActions[] = {
      30, 31, 32,  // connect to it, bind-same, connect-as-nobody
  };
  static constexpr uint32_t kUnconnectedActions[] = {
      26, 27, 27,  // relisten, reconnect
      11, 12,      // shutdown, close or abort
      14, 16, 17,  // poll, so-error, a getsockopt or name
      0,  2,       // send, recv
      30, 31,      // connect to it, bind-same
  };
  static constexpr uint32_t kFilledActions[] = {
      0,  8,  23,  // send, send-fd, send-oob
      11, 12,      // shutdown, close or abort
      35, 35,      // close, and the peer writes and reads
      14, 21, 20,  // poll, epoll, inq or outq
      15, 22,      // nonblock, linger
  };
  static constexpr uint32_t kFullReaderActions[] = {
      2,  3,  6,  7,  // recv, recv-exactly or -waitall, drain, peek
      14, 21, 20,     // poll, epoll, inq or outq
      11, 12,         // shutdown, close or abort
      0,              // send: to a peer that may have closed behind it
  };
  // An urgent byte came: what reads meet at the mark, and what the mark
  // tells (poll's PRI, SIOCATMARK through inq, recv-oob).
  static constexpr uint32_t kUrgentReaderActions[] = {
      2, 3, 9,  // recv, recv-exactly or -waitall, recv-fd
      24, 24,   // recv-oob
      14, 7, 20,  // poll, peek, inq or outq
  };
  // Registered for edge-triggered epoll: what makes a new edge (its own
  // writes, and on UNIX its peer's reads) is seen by the next epoll-edge.
  static constexpr uint32_t kEdgeActions[] = {
      36, 36, 0, 8,  // epoll-edge, send, send-fd
  };
  static constexpr uint32_t kEdgePeerActions[] = {
      2, 3, 6, 0,  // recv, recv-exactly or -waitall, drain, send
  };
  // Its peer has an urgent byte: another one moves the mark.
  static constexpr uint32_t kUrgentWriterActions[] = {
      23, 23, 0, 8,  // send-oob, send, send-fd
  };
  static constexpr uint32_t kActions = 30;

  // Three steps in four on a listener, and one in two on an unconnected
  // socket, come from its role's list; one in four on a socket that
  // connected is a connect to the same address again; one in two on either
  // end of a full buffer comes from that state's list; the rest from every
  // action, so that no step is out of reach in any role.
  void Act(int i) {
    const Sock& s = socks_[i];
    // Of a listener that is gone only its address is left: what a connect
    // or a bind to it meets (file, port, TIME_WAIT) is where kinds differ.
    if (s.listener && !s.open && Choose(4) != 0) {
      return Do(i,
                kGoneListenerActions[Choose(std::size(kGoneListenerActions))]);
    }
    if (s.listener && Choose(4) != 0) {
      return Do(i, kListenerActions[Choose(std::size(kListenerActions))]);
    }
    if (s.target >= 0 && s.open && Choose(4) == 0) return Do(i, 33);
    // The end that closes first holds TIME_WAIT: on an accepted socket,
    // the listener's port.
    if (s.accepted && s.open && s.peer >= 0 && Choose(4) == 0) {
      return Do(i, 34);
    }
    if (s.open && s.edge && Choose(4) == 0) {
      return Do(i, kEdgeActions[Choose(std::size(kEdgeActions))]);
    }
    if (s.open && s.peer >= 0 && socks_[s.peer].edge && Choose(4) == 0) {
      return Do(i, kEdgePeerActions[Choose(std::size(kEdgePeerActions))]);
    }
    if (s.open && s.urgent && Choose(2) == 0) {
      return Do(i,
                kUrgentReaderActions[Choose(std::size(kUrgentReaderActions))]);
    }
    if (s.open && s.peer >= 0 && socks_[s.peer].urgent && Choose(2) == 0) {
      return Do(i,
                kUrgentWriterActions[Choose(std::size(kUrgentWriterActions))]);
    }
    // A full buffer is a state of its own: how each kind gives room back
    // (a window probe, a small read, a shutdown behind it) is only seen by
    // steps on its two ends while it lasts.
    if (s.open && s.filled && Choose(2) == 0) {
      return Do(i, kFilledActions[Choose(std::size(kFilledActions))]);
    }
    if (s.open && s.peer >= 0 && socks_[s.peer].filled && Choose(2) == 0) {
      return Do(i, kFullReaderActions[Choose(std::size(kFullReaderActions))]);
    }
    if (!s.listener && s.peer < 0 && !s.stuck && Choose(2) == 0) {
      return Do(i, kUnconnectedActions[Choose(std::size(kUnconnectedActions))]);
    }
    Do(i, Choose(kActions));
  }

  void Do(int i, uint32_t action) {
    Sock& s = socks_[i];
    const std::string& me = s.name;
    // Left out on a frozen listener: whatever makes room or ends it.
    const bool settled = !s.frozen;
    switch (action) {
      case 0:
      case 1: {
        const bool returns = SendReturns(s);
        if (!returns && !MayWait(s)) return Emit(Verb::kPoll, me);
        const int64_t n = Choose(8) == 0 ? 0 : 1 + Choose(options_.max_send);
        Emit(Verb::kSend, me, n);
        // A send that waited out its step queued part or none of it.
        if (returns) return Delivered(s, n);
        // What the wait moved (a TCP window probe) a send at once sees.
        return Emit(Verb::kSendFd, me);
      }
      case 2: {
        const int64_t n = 1 + Choose(8192);
        if (!ReadReturns(s, 1) && !MayWait(s)) return Emit(Verb::kPeek, me, n);
        Emit(Verb::kRecv, me, n);
        return Read(s, n);
      }
      case 3:
      case 4: {
        const bool waitall = Choose(2) == 0;
        const int64_t n = 1 + Choose(static_cast<uint32_t>(
                                  std::clamp<int64_t>(s.pending, 1, 1 << 16)));
        if (!ReadReturns(s, n) && !MayWait(s)) return Emit(Verb::kInq, me);
        Emit(waitall ? Verb::kRecvWaitall : Verb::kRecvExactly, me, n);
        return Read(s, n);
      }
      case 5:
        if (!ReadReturns(s, 1 << 30) && !MayWait(s)) {
          return Emit(Verb::kDrain, me);
        }
        Emit(Verb::kRecvUntilEof, me);
        return Drained(s);
      case 6:
        Emit(Verb::kDrain, me);
        return Drained(s);
      case 7:
        return Emit(Verb::kPeek, me, 1 + Choose(64));
      case 8: {
        const bool returns = SendReturns(s);
        if (!returns && !MayWait(s)) return Emit(Verb::kOutq, me);
        Emit(Verb::kSendFd, me);
        // Its data byte goes on every kind (TCP drops only the descriptor),
        // so the peer's recv-fd is reached without a wait.
        if (returns) Delivered(s, 1);
        return;
      }
      case 9:
        if (!ReadReturns(s, 1) && !MayWait(s)) return Emit(Verb::kRecvOob, me);
        Emit(Verb::kRecvFd, me);
        return Read(s, 1);
      case 10:
        if (!s.stuck && s.open && !s.wr_shut && s.peer >= 0) {
          Delivered(s, 1 << 16);  // at least this much, on every kind
          s.filled = true;
        }
        return Emit(Verb::kFill, me);
      case 11: {
        if (!settled) return Emit(Verb::kSockname, me);
        static constexpr const char* kHow[] = {"rd", "wr", "rdwr"};
        const int how = static_cast<int>(Choose(3));
        Emit(Verb::kShutdown, me, 0, "", kHow[how]);
        if (!s.open) return;
        if (how != 1) s.rd_shut = true;
        if (how != 0 && !s.wr_shut) {
          s.wr_shut = true;
          if (s.peer >= 0) socks_[s.peer].fin = true;
        }
        if (s.listener && how != 1) {
          for (int end : s.queue) EndSock(end);
          s.queue.clear();
        }
        return;
      }
      case 12:
      case 13: {
        // A lingering close with unacknowledged data waits out the linger
        // time (nothing reads the full buffer).
        if (!settled || (s.linger > 0 && LingerWaits(s)))
          return Emit(Verb::kTcpState, me);
        const bool abort = Choose(2) == 0;
        Emit(abort ? Verb::kAbort : Verb::kClose, me);
        if (s.open) EndSock(i);
        return;
      }
      case 14:
        return Emit(Verb::kPoll, me);
      case 15:
        s.nonblocking = true;
        return Emit(Verb::kNonblock, me);
      case 16:
        return Emit(Verb::kSoError, me);
      case 17: {
        static constexpr Verb kLooks[] = {Verb::kPeercred, Verb::kSndbuf,
                                          Verb::kRcvbuf,   Verb::kNodelay,
                                          Verb::kSockname, Verb::kPeername};
        return Emit(kLooks[Choose(6)], me);
      }
      case 18:
        return Emit(Verb::kTcpState, me);
      case 19:
        return Emit(Verb::kStat, me);
      case 20:
        return Emit(Choose(2) == 0 ? Verb::kInq : Verb::kOutq, me);
      case 21:
        if (Choose(2) == 0) return Emit(Verb::kEpollLevel, me);
        [[fallthrough]];
      case 36:
        s.edge = true;
        return Emit(Verb::kEpollEdge, me);
      case 22:
        s.linger = static_cast<int>(Choose(2));
        return Emit(Verb::kLinger, me, s.linger);
      case 23:
        if (!SendReturns(s) && !MayWait(s)) return Emit(Verb::kRecvOob, me);
        Emit(Verb::kSendOob, me);  // out of band: no byte counted
        if (s.open && !s.wr_shut && s.peer >= 0 && !s.stuck) {
          socks_[s.peer].urgent = true;
        }
        return;
      case 24:
        return Emit(Verb::kRecvOob, me);
      case 25:
        s.lowat = 1 + Choose(64);
        return Emit(Verb::kRcvlowat, me, s.lowat);
      case 26: {
        if (!settled) return Emit(Verb::kEpollLevel, me);
        const int backlog = static_cast<int>(Choose(4));
        Emit(Verb::kRelisten, me, backlog);
        // Listening takes a socket that is neither connected nor
        // connecting; the others refuse (EINVAL) and stay as they were.
        if (s.open && (s.listener || (s.peer < 0 && !s.stuck))) {
          s.listener = true;
          s.capacity = backlog + 1;
        }
        return;
      }
      case 27:
      case 33: {
        // 33: again to where it connected, as a caller of a non-blocking
        // connect does to learn how it went.
        const int t = action == 33 && s.target >= 0 ? s.target : AnyTarget();
        // The script language has a socket name another, never itself.
        if (t == i) return Emit(Verb::kPoll, me);
        Emit(Verb::kReconnect, me, 0, socks_[t].name);
        s.target = t;
        // Only a socket neither connected nor listening starts one.
        if (s.open && !s.listener && s.peer < 0 && !s.stuck) {
          ConnectTo(i, t, /*blocking=*/false);
        }
        return;
      }
      case 34: {
        // Closed first, then by its peer, as a server that ends the
        // conversation does; and half the time the server then stops
        // (what the port then holds is where kinds differ).
        if (!settled || !s.open || LingerWaits(s)) return Emit(Verb::kPoll, me);
        Emit(Verb::kClose, me);
        const int p = s.peer;
        const int l = s.served_by;
        EndSock(i);
        if (p < 0 || socks_[p].name.empty() || !socks_[p].open ||
            LingerWaits(socks_[p])) {
          return;
        }
        Emit(Verb::kClose, socks_[p].name);
        EndSock(p);
        if (l < 0 || !socks_[l].open || socks_[l].frozen || Choose(2) != 0) {
          return;
        }
        Emit(Verb::kClose, socks_[l].name);
        return EndSock(l);
      }
      case 35: {
        // Closed with its peer's buffer full (the peer's data unread, or
        // its own held back): what the peer's write and read then meet.
        if (!settled || !s.open || LingerWaits(s)) return Emit(Verb::kPoll, me);
        Emit(Verb::kClose, me);
        const int p = s.peer;
        EndSock(i);
        if (p < 0 || socks_[p].name.empty() || !socks_[p].open) return;
        Emit(Verb::kSend, socks_[p].name, 1 + Choose(64));
        if (Choose(2) == 0) {
          Emit(Verb::kDrain, socks_[p].name);
          return Drained(socks_[p]);
        }
        Emit(Verb::kRecv, socks_[p].name, 1 + Choose(8192));
        return;
      }
      case 30:
        return ConnectNew(i);
      case 31:
        return BindSame(i);
      case 32:
        return ConnectAsNobody(i);
      default:
        return Accept(i);
    }
  }

  const ChoiceSource& choose_;
  const ScriptGenOptions& options_;
  Script script_;
  std::vector<Sock> socks_;
  std::map<std::string, int> made_;
};

}  // namespace

uint32_t ByteChoices::operator()(uint32_t n) {
  uint32_t value = 0;
  for (int i = 0; i < 2 && pos_ < bytes_.size(); ++i) {
    value |= uint32_t{bytes_[pos_++]} << (8 * i);
  }
  return n == 0 ? 0 : value % n;
}

Script GenerateLifecycleScript(const ChoiceSource& choose,
                               const ScriptGenOptions& options) {
  return Generator(choose, options).Generate();
}

}  // namespace sockparity
