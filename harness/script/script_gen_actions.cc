// The steps on one socket: which action its state calls for (Act), and
// the steps each action emits (Do), keeping the model of script_gen.cc.
#include <algorithm>
#include <iterator>
#include <string>
#include <vector>

#include "script/script_gen_menus.h"
#include "script/script_gen_model.h"
#include "script/verbs.h"

namespace sockparity::internal {

// Three steps in four on a listener, and one in two on an unconnected
// socket, come from its role's list; one in four on a socket that
// connected is a connect to the same address again; one in two on either
// end of a full buffer comes from that state's list; the rest from every
// action, so that no step is out of reach in any role.
void Generator::Act(int i) {
  const Sock& s = socks_[i];
  // Of a listener that is gone only its address is left: what a connect
  // or a bind to it meets (file, port, TIME_WAIT) is where kinds differ.
  if (s.listener && !s.open && Choose(4) != 0) {
    return Do(i, kGoneListenerActions[Choose(std::size(kGoneListenerActions))]);
  }
  // What its end does to the connections it holds shows on their clients.
  if (s.listener && s.open && !s.queue.empty() && Choose(4) == 0) {
    return Do(i, kDropQueued);
  }
  if (s.listener && Choose(4) != 0) {
    return Do(i, kListenerActions[Choose(std::size(kListenerActions))]);
  }
  if (s.target >= 0 && s.open && Choose(4) == 0)
    return Do(i, kReconnectSameTarget);
  // The end that closes first holds TIME_WAIT: on an accepted socket,
  // the listener's port.
  if (s.accepted && s.open && s.peer >= 0 && Choose(4) == 0) {
    return Do(i, kCloseThenPeer);
  }
  if (s.open && s.edge && Choose(4) == 0) {
    return Do(i, kEdgeActions[Choose(std::size(kEdgeActions))]);
  }
  if (s.open && s.peer >= 0 && socks_[s.peer].edge && Choose(4) == 0) {
    return Do(i, kEdgePeerActions[Choose(std::size(kEdgePeerActions))]);
  }
  if (s.open && s.urgent && Choose(2) == 0) {
    return Do(i, kUrgentReaderActions[Choose(std::size(kUrgentReaderActions))]);
  }
  if (s.open && s.peer >= 0 && socks_[s.peer].urgent && Choose(2) == 0) {
    return Do(i, kUrgentWriterActions[Choose(std::size(kUrgentWriterActions))]);
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
  // A socket shut down before it listens keeps the mark: UNIX refuses
  // connections, and TCP copies it into each one it accepts. So such a
  // socket often listens next.
  if (!s.listener && s.peer < 0 && !s.stuck && s.open &&
      (s.rd_shut || s.wr_shut) && Choose(2) == 0) {
    return Do(i, kRelisten);
  }
  const bool gone =
      s.open && !s.listener && s.peer >= 0 && !socks_[s.peer].open;
  // What its address still holds once its connection is gone (a reset
  // frees a port the kernel chose) is seen by a bind to it.
  if (gone && s.bound && Choose(4) == 0) return Do(i, kBindSameToIt);
  if (gone && Choose(2) == 0) {
    return Do(
        i, kGoneConnectionActions[Choose(std::size(kGoneConnectionActions))]);
  }
  if (!s.listener && s.peer < 0 && !s.stuck && Choose(2) == 0) {
    return Do(i, kUnconnectedActions[Choose(std::size(kUnconnectedActions))]);
  }
  Do(i, Choose(kEveryAction));
}

// A socket is bound to be used: half the time it at once listens,
// connects or is shut down (a shutdown it keeps when it then listens is
// where the kinds differ).
void Generator::UseBound(int i) {
  static constexpr Action kUses[] = {kRelisten, kReconnect, kReconnect,
                                     kShutdown};
  if (Choose(2) != 0) return;
  const Action use = kUses[Choose(std::size(kUses))];
  std::vector<int> listening;
  for (size_t l = 0; l < socks_.size(); ++l) {
    if (socks_[l].listener && socks_[l].open) {
      listening.push_back(static_cast<int>(l));
    }
  }
  // A bound client connects to a server: a listener, where there is one.
  if (use != kReconnect || listening.empty()) return Do(i, use);
  socks_[i].target = listening[Choose(static_cast<uint32_t>(listening.size()))];
  Do(i, kReconnectSameTarget);
}

void Generator::Do(int i, uint32_t action) {
  Sock& s = socks_[i];
  const std::string& me = s.name;
  // Left out on a frozen listener: whatever makes room or ends it.
  const bool settled = !s.frozen;
  switch (action) {
    case kSend:
    case kSendToo: {
      const bool returns = SendReturns(s);
      if (!returns && !MayWait(s)) return Emit(Verb::kPoll, me);
      const int64_t n = Choose(8) == 0 ? 0 : 1 + Choose(options_.max_send);
      Emit(Verb::kSend, me, n);
      // A send that waited out its step queued part or none of it.
      if (returns) return Delivered(s, n);
      // What the wait moved (a TCP window probe) a send at once sees.
      return Emit(Verb::kSendFd, me);
    }
    case kRecv: {
      const int64_t n = 1 + Choose(8192);
      if (!ReadReturns(s, 1) && !MayWait(s)) return Emit(Verb::kPeek, me, n);
      Emit(Verb::kRecv, me, n);
      return Read(s, n);
    }
    case kRecvCount:
    case kRecvCountToo: {
      const bool waitall = Choose(2) == 0;
      const int64_t n = 1 + Choose(static_cast<uint32_t>(
                                std::clamp<int64_t>(s.pending, 1, 1 << 16)));
      if (!ReadReturns(s, n) && !MayWait(s)) return Emit(Verb::kInq, me);
      Emit(waitall ? Verb::kRecvWaitall : Verb::kRecvExactly, me, n);
      return Read(s, n);
    }
    case kRecvUntilEof:
      if (!ReadReturns(s, 1 << 30) && !MayWait(s)) {
        return Emit(Verb::kDrain, me);
      }
      Emit(Verb::kRecvUntilEof, me);
      return Drained(s);
    case kDrain:
      Emit(Verb::kDrain, me);
      return Drained(s);
    case kPeek:
      return Emit(Verb::kPeek, me, 1 + Choose(64));
    case kSendFd: {
      const bool returns = SendReturns(s);
      if (!returns && !MayWait(s)) return Emit(Verb::kOutq, me);
      Emit(Verb::kSendFd, me);
      // Its data byte goes on every kind (TCP drops only the descriptor),
      // so the peer's recv-fd is reached without a wait.
      if (returns) Delivered(s, 1);
      return;
    }
    case kRecvFd:
      if (!ReadReturns(s, 1) && !MayWait(s)) return Emit(Verb::kRecvOob, me);
      Emit(Verb::kRecvFd, me);
      return Read(s, 1);
    case kFill:
      if (!s.stuck && s.open && !s.wr_shut && s.peer >= 0) {
        Delivered(s, 1 << 16);  // at least this much, on every kind
        s.filled = true;
      }
      return Emit(Verb::kFill, me);
    case kShutdown: {
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
    case kCloseOrAbort:
    case kCloseOrAbortToo: {
      // A lingering close with unacknowledged data waits out the linger
      // time (nothing reads the full buffer).
      if (!settled || (s.linger > 0 && LingerWaits(s)))
        return Emit(Verb::kTcpState, me);
      const bool abort = Choose(2) == 0;
      Emit(abort ? Verb::kAbort : Verb::kClose, me);
      if (s.open) EndSock(i);
      return;
    }
    case kPoll:
      return Emit(Verb::kPoll, me);
    case kNonblock:
      s.nonblocking = true;
      return Emit(Verb::kNonblock, me);
    case kSoError:
      return Emit(Verb::kSoError, me);
    case kLook: {
      static const std::vector<Verb> kLooks = [] {
        std::vector<Verb> looks;
        for (const VerbDescriptor& verb : VerbTable()) {
          if (verb.looks) looks.push_back(verb.verb);
        }
        return looks;
      }();
      return Emit(kLooks[Choose(kLooks.size())], me);
    }
    case kTcpState:
      return Emit(Verb::kTcpState, me);
    case kStat:
      return Emit(Verb::kStat, me);
    case kQueueSize:
      return Emit(Choose(2) == 0 ? Verb::kInq : Verb::kOutq, me);
    case kEpoll:
      if (Choose(2) == 0) return Emit(Verb::kEpollLevel, me);
      [[fallthrough]];
    case kEpollEdge:
      s.edge = true;
      return Emit(Verb::kEpollEdge, me);
    case kLinger:
      s.linger = static_cast<int>(Choose(2));
      return Emit(Verb::kLinger, me, s.linger);
    case kSendOob:
      if (!SendReturns(s) && !MayWait(s)) return Emit(Verb::kRecvOob, me);
      Emit(Verb::kSendOob, me);  // out of band: no byte counted
      if (s.open && !s.wr_shut && s.peer >= 0 && !s.stuck) {
        socks_[s.peer].urgent = true;
      }
      return;
    case kRecvOob:
      return Emit(Verb::kRecvOob, me);
    case kRcvlowat:
      s.lowat = 1 + Choose(64);
      return Emit(Verb::kRcvlowat, me, s.lowat);
    case kRelisten: {
      if (!settled) return Emit(Verb::kEpollLevel, me);
      const int backlog = static_cast<int>(Choose(4));
      Emit(Verb::kRelisten, me, backlog);
      // Listening takes a socket that is neither connected nor
      // connecting; the others refuse (EINVAL) and stay as they were.
      if (s.open && (s.listener || (s.peer < 0 && !s.stuck))) {
        const bool was_listening = s.listener;
        s.listener = true;
        s.capacity = backlog + 1;
        // A socket that starts to listen is most often connected to next:
        // what it kept from before (a shutdown) shows on that connection.
        if (!was_listening && Choose(2) == 0) ConnectNew(i);
      }
      return;
    }
    case kReconnect:
    case kReconnectSameTarget: {
      // 33: again to where it connected, as a caller of a non-blocking
      // connect does to learn how it went.
      const int t = action == kReconnectSameTarget && s.target >= 0
                        ? s.target
                        : AnyTarget();
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
    case kCloseThenPeer: {
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
    case kCloseBeforeFullPeer: {
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
    case kDropQueued: {
      if (!settled || !s.open || s.queue.empty()) return Emit(Verb::kPoll, me);
      std::vector<int> clients;
      for (int end : s.queue) {
        const int c = socks_[end].peer;
        if (c >= 0 && socks_[c].open && !socks_[c].name.empty()) {
          clients.push_back(c);
        }
      }
      Emit(Choose(2) == 0 ? Verb::kAbort : Verb::kClose, me);
      EndSock(i);
      if (clients.empty()) return;
      const int c = clients[Choose(static_cast<uint32_t>(clients.size()))];
      return Do(
          c, kGoneConnectionActions[Choose(std::size(kGoneConnectionActions))]);
    }
    case kShutdownThenReconnect:
      Do(i, kShutdown);
      return Do(i, kReconnectSameTarget);
    case kConnectToIt:
      return ConnectNew(i);
    case kBindSameToIt:
      return BindSame(i);
    case kConnectAsNobodyToIt:
      return ConnectAsNobody(i);
    default:  // kAccept, kAcceptToo
      return Accept(i);
  }
}

}  // namespace sockparity::internal
