// Internal: the lifecycle script generator's model of the sockets it made
// and the generator itself. script_gen.cc makes sockets and keeps the
// model; script_gen_actions.cc chooses and emits the steps on a socket.
#ifndef SOCKPARITY_SCRIPT_SCRIPT_GEN_MODEL_H_
#define SOCKPARITY_SCRIPT_SCRIPT_GEN_MODEL_H_

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "sockparity/script/script.h"
#include "sockparity/script/script_gen.h"

namespace sockparity::internal {

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
  bool bound = false;     // bound by a bind of its own (k*)
  bool accepted = false;  // an accept's end, whose port is its listener's
  int served_by = -1;     // for an accepted end: its listener
  bool filled = false;    // its peer's buffer is full (fill)
  bool urgent = false;    // an urgent byte came, which reads may or not see
  bool edge = false;      // registered for edge-triggered epoll
  int64_t lowat = 1;      // SO_RCVLOWAT
  int linger = -1;        // SO_LINGER seconds, -1 off
  int64_t pending = 0;    // bytes surely queued to read (a lower bound)
  bool fin = false;       // its peer ended: a read does not wait
  bool rd_shut = false;
  bool wr_shut = false;
};

class Generator {
 public:
  Generator(const ChoiceSource& choose, const ScriptGenOptions& options)
      : choose_(choose), options_(options) {
    // Steps hold references into it across NewSock: never reallocated (a
    // step makes at most three sockets: a bind that at once listens and is
    // connected to).
    socks_.reserve(3 * options.max_steps + 4);
  }

  Script Generate();

 private:
  uint32_t Choose(uint32_t n) { return choose_(n); }

  // Making sockets (script_gen.cc).
  std::vector<int> Named() const;
  int NewSock(std::string name);
  int Related(int i);
  std::string Fresh(const std::string& prefix);
  void Emit(Verb verb, const std::string& slot, int64_t number = 0,
            std::string target = "", std::string keyword = "");
  int AnyTarget();
  void Pair();
  void Listen();
  bool MayBeFull(const Sock& l) const { return l.attempts >= l.capacity; }
  void ConnectTo(int c, int target, bool blocking);
  void BindSame(int t);
  void ConnectNew(int t);
  void ConnectAsNobody(int t);
  void Create();
  void Accept(int t);
  void EndSock(int i);

  // What the model knows of waits and queued bytes (script_gen.cc).
  bool ReadReturns(const Sock& s, int64_t need) const;
  bool SendReturns(const Sock& s) const;
  bool LingerWaits(const Sock& s) const;
  void Delivered(Sock& s, int64_t n);
  void Read(Sock& s, int64_t n);
  void Drained(Sock& s);
  bool MayWait(const Sock& s);

  // A step on a socket (script_gen_actions.cc).
  void Act(int i);
  void Do(int i, uint32_t action);
  void UseBound(int i);

  const ChoiceSource& choose_;
  const ScriptGenOptions& options_;
  Script script_;
  std::vector<Sock> socks_;
  std::map<std::string, int> made_;
};

}  // namespace sockparity::internal

#endif  // SOCKPARITY_SCRIPT_SCRIPT_GEN_MODEL_H_
