// The lifecycle generator stays in the states where the registry's
// entries are: a listener through its life, steps that wait, both ends of a
// full buffer, and the sequences of the entries the searches found least.
// Each count is over kScripts scripts and fails on the generator before
// the change it guards.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "script_gen_util.h"
#include "sockparity/script/script.h"
#include "sockparity/script/script_gen.h"

namespace sockparity {
namespace {

// Steps in order on one listener and its connections: where the port, file
// and queue differences are (tcp_accepted_connection_holds_port,
// listener_shutdown_rd_stops_only_tcp_listening, ...). With every action
// equally likely on every socket, a listener's close came between its accept
// and a bind-same of its address in 13 scripts of 20,000, and a connect-nb's
// connect again to the same address in 78.
TEST(ScriptGen, FollowsAListenerThroughItsLife) {
  std::mt19937 random(20261206);
  int rebound = 0, shut_then_accepted = 0, connected_again = 0;
  for (int i = 0; i < kScripts; ++i) {
    const Script script = Generated(random);
    std::set<std::string> accepted_from, closed_after_accept, shut, connecting;
    bool rebound_here = false, accepted_here = false, again_here = false;
    for (const Step& step : script.steps) {
      const bool ends = step.verb == Verb::kClose || step.verb == Verb::kAbort;
      if (step.verb == Verb::kAccept) {
        accepted_from.insert(step.target);
        if (shut.count(step.target)) accepted_here = true;
      } else if (ends && accepted_from.count(step.slot)) {
        closed_after_accept.insert(step.slot);
      } else if (step.verb == Verb::kBindSame &&
                 closed_after_accept.count(step.target)) {
        rebound_here = true;
      } else if (step.verb == Verb::kShutdown && step.keyword != "wr") {
        shut.insert(step.slot);
      } else if (step.verb == Verb::kConnectNb) {
        connecting.insert(absl::StrCat(step.slot, " ", step.target));
      } else if (step.verb == Verb::kReconnect &&
                 connecting.count(absl::StrCat(step.slot, " ", step.target))) {
        again_here = true;
      }
    }
    rebound += rebound_here;
    shut_then_accepted += accepted_here;
    connected_again += again_here;
  }
  // 62, 826 and 1,524 in 20,000; before role menus, 13, 725 and 78.
  EXPECT_GE(rebound, kScripts / 500) << "rebound " << rebound;
  EXPECT_GE(shut_then_accepted, kScripts / 50)
      << "accepted after shutdown " << shut_then_accepted;
  EXPECT_GE(connected_again, kScripts / 40)
      << "connected again " << connected_again;
}

// A step the model knows will wait is still made now and then: some
// differences are only there (a blocked send's window probe, a blocked read
// that a lone OOB byte wakes on UNIX). Before, none was ever made.
TEST(ScriptGen, MakesSomeStepsThatWait) {
  std::mt19937 random(20261206);
  int blocked_sends = 0, blocked_reads = 0;
  for (int i = 0; i < kScripts; ++i) {
    const Script script = Generated(random);
    std::map<std::string, std::string> peer;
    std::set<std::string> changed;  // nonblock, shut down, closed
    std::set<std::string> sent;     // sent bytes in band
    const Step* previous = nullptr;
    for (const Step& step : script.steps) {
      if (step.verb == Verb::kPair) {
        peer[step.slot] = step.target;
        peer[step.target] = step.slot;
      } else if (step.verb == Verb::kNonblock || step.verb == Verb::kShutdown ||
                 step.verb == Verb::kClose || step.verb == Verb::kAbort) {
        changed.insert(step.slot);
      }
      const bool untouched = peer.count(step.slot) &&
                             !changed.count(step.slot) &&
                             !changed.count(peer[step.slot]);
      // A fill of an untouched pair, and at once a send (or send-fd) on the
      // same end.
      if (previous != nullptr && previous->verb == Verb::kFill &&
          ((step.verb == Verb::kSend && step.number > 0) ||
           step.verb == Verb::kSendFd) &&
          step.slot == previous->slot && untouched) {
        ++blocked_sends;
      }
      // An urgent byte is all that came, and at once the peer reads.
      if (previous != nullptr && previous->verb == Verb::kSendOob &&
          IsRead(step.verb) && step.verb != Verb::kDrain && untouched &&
          previous->slot == peer[step.slot] && !sent.count(previous->slot)) {
        ++blocked_reads;
      }
      if (step.verb == Verb::kFill || step.verb == Verb::kSendFd ||
          (step.verb == Verb::kSend && step.number > 0)) {
        sent.insert(step.slot);
      }
      previous = &step;
    }
  }
  // 8 and 31 in 20,000; none before the generator made waits.
  EXPECT_GE(blocked_sends, 3) << "blocked sends " << blocked_sends;
  EXPECT_GE(blocked_reads, 8) << "blocked reads " << blocked_reads;
}

// Steps on the two ends of a full buffer while it lasts: where the window
// differences are (tcp_poll_out_after_own_shut_wr: fill, shutdown wr, poll;
// tcp_window_stays_shut_after_a_small_read: fill, a small read by the peer,
// a send). 10 and 6 scripts of 20,000 (shut down then polled: 6 once bound
// sockets were used at once); 4 and 1 before both ends of a full buffer had
// their own list of steps.
TEST(ScriptGen, StaysOnBothEndsOfAFullBuffer) {
  std::mt19937 random(20261206);
  int shut_then_polled = 0, read_then_sent = 0;
  for (int i = 0; i < kScripts; ++i) {
    const Script script = Generated(random);
    std::map<std::string, std::string> peer;
    std::map<std::string, int> stage;  // per filled slot
    bool shut_here = false, sent_here = false;
    for (const Step& step : script.steps) {
      if (step.verb == Verb::kPair) {
        peer[step.slot] = step.target;
        peer[step.target] = step.slot;
        continue;
      }
      if (step.verb == Verb::kFill) {
        stage[step.slot] = 1;
        continue;
      }
      const bool drains =
          step.verb == Verb::kDrain || step.verb == Verb::kRecvUntilEof ||
          step.verb == Verb::kClose || step.verb == Verb::kAbort;
      if (peer.count(step.slot) && stage.count(peer[step.slot])) {
        const std::string& writer = peer[step.slot];
        if (drains) {
          stage.erase(writer);
        } else if (step.verb == Verb::kRecv && stage[writer] == 1) {
          stage[writer] = 3;  // a small read by the peer
        }
      }
      if (!stage.count(step.slot)) continue;
      int& at = stage[step.slot];
      if (step.verb == Verb::kShutdown && step.keyword != "rd" && at == 1) {
        at = 2;
      } else if (step.verb == Verb::kPoll && at == 2) {
        shut_here = true;
      } else if ((step.verb == Verb::kSend || step.verb == Verb::kSendFd) &&
                 at == 3) {
        sent_here = true;
      } else if (drains) {
        stage.erase(step.slot);
      }
    }
    shut_then_polled += shut_here;
    read_then_sent += sent_here;
  }
  EXPECT_GE(shut_then_polled, 6) << "shut down, then polled";
  EXPECT_GE(read_then_sent, 4) << "read by the peer, then sent";
}

// The sequences four entries need, which the generator made too seldom for
// either search to find them within 300 s (docs/PERFORMANCE.md): the
// accepted end's close before its client's, then the listener's close and a
// bind to its port (tcp_time_wait_blocks_rebind); two urgent bytes, then
// the peer's read and a look at the mark
// (read_meets_the_new_mark_after_a_kept_oob_byte); a fill, a send, then at
// once a send-fd (tcp_window_probe_moves_a_full_connection); a fill, the
// filler's close, then a send and a read by its peer
// (tcp_reset_comes_before_a_held_back_fin); edge-triggered epoll on a
// writer, its send, the peer's read, its epoll again
// (unix_peer_read_wakes_the_writer).
TEST(ScriptGen, ReachesTheNeighbourhoodsOfTheEntriesLeastFound) {
  std::mt19937 random(20261207);
  int time_wait = 0, two_marks = 0, probe = 0, held_back = 0, woken = 0;
  for (int i = 0; i < kScripts; ++i) {
    const Script script = Generated(random);
    std::map<std::string, std::string> peer, listener_of;
    std::map<std::string, int> closing;  // listener -> stage
    std::set<std::string> listener_closed;
    std::map<std::string, int> urgent;  // receiver -> stage
    std::map<std::string, int> filled;  // filler -> stage
    bool tw = false, marks = false, probed = false, held = false;
    bool wake = false;
    std::map<std::string, int> edge;  // writer -> stage
    const auto close = [](Verb v) {
      return v == Verb::kClose || v == Verb::kAbort;
    };
    for (size_t k = 0; k < script.steps.size(); ++k) {
      const Step& step = script.steps[k];
      const Verb v = step.verb;
      if (v == Verb::kPair) {
        peer[step.slot] = step.target;
        peer[step.target] = step.slot;
      } else if (v == Verb::kConnect || v == Verb::kConnectNb) {
        listener_of[step.slot] = step.target;
      } else if (v == Verb::kAccept) {
        listener_of[step.slot] = step.target;
        closing.erase(step.target);
      }
      // time wait: the listener's close may come before or after
      if (close(v) && step.slot[0] == 's' && listener_of.count(step.slot)) {
        closing.emplace(listener_of[step.slot], 1);
      } else if (close(v) && step.slot[0] == 'c' &&
                 listener_of.count(step.slot) &&
                 closing.count(listener_of[step.slot]) &&
                 closing[listener_of[step.slot]] == 1) {
        closing[listener_of[step.slot]] = 2;
      } else if (close(v) && step.slot[0] == 'l') {
        listener_closed.insert(step.slot);
      } else if (v == Verb::kBindSame && closing.count(step.target) &&
                 closing[step.target] == 2 &&
                 listener_closed.count(step.target)) {
        tw = true;
      }
      // two marks
      if (v == Verb::kSendOob && peer.count(step.slot)) {
        int& at = urgent[peer[step.slot]];
        at = std::min(at + 1, 2);
      } else if (urgent.count(step.slot) && urgent[step.slot] >= 2) {
        if (IsRead(v)) {
          urgent[step.slot] = 3;
        }
      }
      if (urgent.count(step.slot) && urgent[step.slot] == 3 &&
          (v == Verb::kPoll || v == Verb::kRecvOob)) {
        marks = true;
      }
      // window probe
      if (v == Verb::kFill) filled[step.slot] = 1;
      if (v == Verb::kSend && filled.count(step.slot) &&
          k + 1 < script.steps.size() &&
          script.steps[k + 1].verb == Verb::kSendFd &&
          script.steps[k + 1].slot == step.slot) {
        probed = true;
      }
      // a writer woken by its peer's read
      if (v == Verb::kEpollEdge) {
        int& at = edge[step.slot];
        if (at == 3) wake = true;
        at = 1;
      } else if ((v == Verb::kSend || v == Verb::kSendFd) &&
                 edge.count(step.slot) && edge[step.slot] == 1) {
        edge[step.slot] = 2;
      } else if (IsRead(v) && peer.count(step.slot) &&
                 edge.count(peer[step.slot]) && edge[peer[step.slot]] == 2) {
        edge[peer[step.slot]] = 3;
      }
      // held-back fin
      if (close(v) && filled.count(step.slot) && filled[step.slot] == 1 &&
          peer.count(step.slot)) {
        filled[step.slot] = 2;
      }
      if (peer.count(step.slot) && filled.count(peer[step.slot])) {
        int& at = filled[peer[step.slot]];
        if (at == 2 && (v == Verb::kSend || v == Verb::kSendFd))
          at = 3;
        else if (at == 3 && IsRead(v))
          held = true;
      }
    }
    time_wait += tw;
    two_marks += marks;
    probe += probed;
    held_back += held;
    woken += wake;
  }
  // Before the menus for these states: 0, 3, 3, 5 and 1; with them 23,
  // 26, 23, 11 and 17.
  EXPECT_GE(time_wait, 9) << "time wait " << time_wait;
  EXPECT_GE(two_marks, 17) << "two marks " << two_marks;
  EXPECT_GE(probe, 15) << "probe " << probe;
  EXPECT_GE(held_back, 8) << "held back " << held_back;
  EXPECT_GE(woken, 9) << "woken " << woken;
}

// The sequences of the three entries neither search found within 300 s
// (docs/PERFORMANCE.md):
// - a bound socket connects, its listener goes with the connection queued,
//   and a bind to its address follows (tcp_reset_frees_a_port_the_kernel_
//   chose);
// - a connecting socket whose listener goes, shut down, then connected
//   again (tcp_connecting_socket_shut_down_after_a_reset_refuses_connect);
// - a bound socket shut down for writing, then listening, then a client's
//   look at what it connected to or the accepted end's write
//   (tcp_listener_passes_its_shutdown_to_its_connections).
TEST(ScriptGen, ReachesTheSequencesOfTheLastEntriesFound) {
  std::mt19937 random(20261208);
  int freed = 0, refused = 0, passed = 0;
  const auto ends = [](Verb v) {
    return v == Verb::kClose || v == Verb::kAbort;
  };
  for (int i = 0; i < kScripts; ++i) {
    const Script script = Generated(random);
    std::set<std::string> bound, listening;
    // A connecting socket -> what it connected to; then its stage.
    std::map<std::string, std::string> connected_to;
    std::map<std::string, int> stage;
    std::map<std::string, std::vector<std::string>> accepted_by;
    std::set<std::string> shut_wr, passing, clients, served;
    bool freed_here = false, refused_here = false, passed_here = false;
    for (const Step& step : script.steps) {
      const Verb v = step.verb;
      const std::string& me = step.slot;
      if (v == Verb::kListen) listening.insert(me);
      if (v == Verb::kBind) bound.insert(me);
      if ((v == Verb::kConnectNb || v == Verb::kReconnect) &&
          listening.count(step.target) && !stage.count(me)) {
        connected_to[me] = step.target;
        stage[me] = 1;
      }
      if (v == Verb::kAccept) accepted_by[step.target].push_back(me);
      if (ends(v)) {
        for (auto& [c, l] : connected_to) {
          if (l == me && stage[c] == 1) stage[c] = 2;
        }
        // The accepted end of a connection a bound socket made.
        for (auto& [c, l] : connected_to) {
          for (const std::string& s : accepted_by[l]) {
            if (s == me && stage[c] == 1) stage[c] = 2;
          }
        }
      }
      if (v == Verb::kShutdown && stage.count(me) && stage[me] == 2) {
        stage[me] = 3;
      }
      if (v == Verb::kReconnect && stage.count(me) && stage[me] == 3) {
        refused_here = true;
      }
      if (v == Verb::kBindSame && bound.count(step.target) &&
          stage.count(step.target) && stage[step.target] >= 2) {
        freed_here = true;
      }
      // The listener that passes its shutdown on.
      if (v == Verb::kShutdown && step.keyword == "wr" && bound.count(me) &&
          !listening.count(me) && !stage.count(me)) {
        shut_wr.insert(me);
      }
      if (v == Verb::kRelisten && shut_wr.count(me)) passing.insert(me);
      if ((v == Verb::kConnect || v == Verb::kConnectNb) &&
          passing.count(step.target)) {
        clients.insert(me);
      }
      if (v == Verb::kAccept && passing.count(step.target)) served.insert(me);
      if ((clients.count(me) &&
           (v == Verb::kPoll || IsRead(v) || v == Verb::kPeek)) ||
          (served.count(me) && (v == Verb::kSend || v == Verb::kSendFd))) {
        passed_here = true;
      }
      if (v == Verb::kRelisten) listening.insert(me);
    }
    freed += freed_here;
    refused += refused_here;
    passed += passed_here;
  }
  std::cout << "freed " << freed << ", refused " << refused << ", passed "
            << passed << "\n";
  // 1, 2 and 0 in 20,000 before a bound socket was used at once (a bound
  // client connecting to a listener), a listener's end was followed to its
  // clients, a connection that is gone had its own menu, and a socket that
  // starts to listen was connected to; 54, 188 and 28 after.
  EXPECT_GE(freed, 35) << "freed " << freed;
  EXPECT_GE(refused, 120) << "refused " << refused;
  EXPECT_GE(passed, 18) << "passed " << passed;
}

}  // namespace
}  // namespace sockparity
