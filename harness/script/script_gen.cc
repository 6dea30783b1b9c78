#include "sockparity/script/script_gen.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "script/script_gen_model.h"

namespace sockparity {
namespace internal {

Script Generator::Generate() {
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
      // A socket just made is the likeliest to act next.
      const size_t before = socks_.size();
      Create();
      last = -1;
      for (size_t k = socks_.size(); k-- > before;) {
        if (!socks_[k].name.empty()) {
          last = static_cast<int>(k);
          break;
        }
      }
      continue;
    }
    // Differences live where steps meet: one end's and the other's (a
    // read after a send-fd, an epoll after the peer read, a poll after
    // its close), or one socket's in a row (fill, shutdown wr, poll). So
    // a step often goes to the last socket again or to its peer.
    const int peer = last >= 0 ? Related(last) : -1;
    const uint32_t follow = choose_(4);
    if (last >= 0 && follow == 0) {
      // the same socket again
    } else if (peer >= 0 && follow == 1) {
      last = peer;
    } else {
      std::vector<int> named = Named();
      last = named[choose_(static_cast<uint32_t>(named.size()))];
    }
    Act(last);
  }
  return std::move(script_);
}

std::vector<int> Generator::Named() const {
  std::vector<int> named;
  for (size_t i = 0; i < socks_.size(); ++i) {
    if (socks_[i].name.empty()) continue;
    named.push_back(static_cast<int>(i));
  }
  return named;
}
// The socket a step on `i` most concerns: its peer (or, with none named,
// what it connected to), or for a listener one of the sockets that
// connected to it (what its close or shutdown did to them is seen on
// them). -1 if there is none.
int Generator::Related(int i) {
  const Sock& s = socks_[i];
  if (!s.listener) {
    if (s.peer >= 0 && !socks_[s.peer].name.empty()) return s.peer;
    // Not yet accepted, or refused: what it connected to.
    return s.target >= 0 && s.target != i ? s.target : -1;
  }
  std::vector<int> clients;
  for (size_t c = 0; c < socks_.size(); ++c) {
    if (socks_[c].target == i && !socks_[c].name.empty()) {
      clients.push_back(static_cast<int>(c));
    }
  }
  if (clients.empty()) return -1;
  return clients[Choose(static_cast<uint32_t>(clients.size()))];
}
int Generator::NewSock(std::string name) {
  Sock sock;
  sock.name = std::move(name);
  socks_.push_back(std::move(sock));
  return static_cast<int>(socks_.size()) - 1;
}
std::string Generator::Fresh(const std::string& prefix) {
  return absl::StrCat(prefix, ++made_[prefix]);
}
void Generator::Emit(Verb verb, const std::string& slot, int64_t number,
                     std::string target, std::string keyword) {
  Step step;
  step.slot = slot;
  step.verb = verb;
  step.number = number;
  step.target = std::move(target);
  step.keyword = std::move(keyword);
  script_.steps.push_back(std::move(step));
}
// Any named socket: connects and accepts also aim at the wrong ones.
int Generator::AnyTarget() {
  std::vector<int> named = Named();
  // Listeners twice as likely: most connects should reach one.
  std::vector<int> weighted = named;
  for (int i : named)
    if (socks_[i].listener) weighted.push_back(i);
  return weighted[Choose(static_cast<uint32_t>(weighted.size()))];
}

void Generator::Pair() {
  const std::string a = Fresh("a"), b = Fresh("b");
  const int x = NewSock(a), y = NewSock(b);
  socks_[x].peer = y;
  socks_[y].peer = x;
  Emit(Verb::kPair, a, 0, b);
}
void Generator::Listen() {
  const std::string l = Fresh("l");
  const int i = NewSock(l);
  socks_[i].listener = true;
  const int backlog = static_cast<int>(Choose(4));
  socks_[i].capacity = backlog + 1;
  Emit(Verb::kListen, l, backlog, "", Choose(4) == 0 ? "reuseaddr" : "");
}

// FullBacklogRace: a non-blocking connect into a full backlog leaves a
// TCP SYN that the kernel retries on its retransmission timer (1 s, 3 s,
// ...; a unix connect fails at once). Once the listener makes room
// (accept, a larger relisten) or goes (close, abort, shutdown), whether
// the retry has come yet decides what both sockets show: a race with a
// kernel timer, not a difference. Such a listener is frozen: those steps
// are left out on it. A blocking connect gives up well before the first
// retry and abandons its attempt (Runner::ConnectBounded), so it freezes
// nothing.
void Generator::ConnectTo(int c, int target, bool blocking) {
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

void Generator::BindSame(int t) {
  const std::string k = Fresh("k");
  socks_[NewSock(k)].bound = true;
  Emit(Verb::kBindSame, k, 0, socks_[t].name,
       Choose(2) == 0 ? "reuseaddr" : "");
}
void Generator::ConnectNew(int t) {
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
  // What the connection met (the listener's state, a shutdown it handed
  // on) shows on the client at once: one in four looks now.
  if (Choose(4) == 0) Emit(Verb::kPoll, c);
}
void Generator::ConnectAsNobody(int t) {
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

void Generator::Create() {
  const bool has_named = !Named().empty();
  // A bound socket (case 2) twice as often as the others: the states
  // that are neither a connection nor a listener start there.
  uint32_t what = Choose(has_named ? 11 : 4);
  if (what == 10) what = 2;
  switch (what) {
    case 0:
      if (made_["a"] < 2) return Pair();
      [[fallthrough]];
    case 1:
      if (made_["l"] < 3) return Listen();
      [[fallthrough]];
    case 2: {
      const std::string k = Fresh("k");
      const int i = NewSock(k);
      socks_[i].bound = true;
      if (Choose(2) == 0) {
        Emit(Verb::kBind, k);
      } else {
        // Around sun_path's 108 bytes, and over it.
        Emit(Verb::kBindPathLength, k, 100 + Choose(12));
      }
      return UseBound(i);
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

void Generator::Accept(int t) {
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
void Generator::EndSock(int i) {
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
bool Generator::ReadReturns(const Sock& s, int64_t need) const {
  if (!s.open || s.nonblocking) return true;
  if (s.stuck) return false;  // waits for the handshake
  return s.rd_shut || s.fin || s.peer < 0 ||
         s.pending >= std::max(need, s.lowat);
}
bool Generator::SendReturns(const Sock& s) const {
  if (!s.open || s.nonblocking || s.wr_shut) return true;
  if (s.stuck) return false;  // waits for the handshake
  if (s.peer < 0) return true;
  const Sock& p = socks_[s.peer];
  return !s.filled || !p.open || p.fin;
}
// close(2) lingers (whatever O_NONBLOCK says) until its FIN is
// acknowledged: never, while nothing reads the full buffer before it.
bool Generator::LingerWaits(const Sock& s) const {
  if (!s.open || !s.filled || s.peer < 0) return false;
  const Sock& p = socks_[s.peer];
  return p.open && !p.fin;
}
void Generator::Delivered(Sock& s, int64_t n) {
  if (!s.open || s.wr_shut || s.peer < 0 || s.stuck) return;
  Sock& p = socks_[s.peer];
  if (p.open && !p.rd_shut) p.pending += n;
}
void Generator::Read(Sock& s, int64_t n) {
  s.pending = std::max<int64_t>(0, s.pending - n);
}
void Generator::Drained(Sock& s) {
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
bool Generator::MayWait(const Sock& s) {
  return (s.urgent || s.filled) && !s.stuck && Choose(8) == 0;
}

}  // namespace internal

uint32_t ByteChoices::operator()(uint32_t n) {
  uint32_t value = 0;
  for (int i = 0; i < 2 && pos_ < bytes_.size(); ++i) {
    value |= uint32_t{bytes_[pos_++]} << (8 * i);
  }
  return n == 0 ? 0 : value % n;
}

Script GenerateLifecycleScript(const ChoiceSource& choose,
                               const ScriptGenOptions& options) {
  return internal::Generator(choose, options).Generate();
}

}  // namespace sockparity
