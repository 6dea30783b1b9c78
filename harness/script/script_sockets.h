// Internal: the sockets of a script and how they are related, read from the
// script alone (the same on every kind): which socket each step acts on,
// the two ends of each connection, a listener and the connections made to
// it. A registry entry's allowance is scoped by these: a trigger step
// touches its socket and the sockets related to it, and the entry explains
// only steps on those.
#ifndef SOCKPARITY_SCRIPT_SCRIPT_SOCKETS_H_
#define SOCKPARITY_SCRIPT_SCRIPT_SOCKETS_H_

#include <cstddef>
#include <string>
#include <vector>

#include "sockparity/script/script.h"

namespace sockparity::internal {

class ScriptSockets {
 public:
  enum class Role { kUnknown, kConnection, kListener, kBound };
  static constexpr int kNone = -1;

  explicit ScriptSockets(const Script& script);

  // The socket step `step` acts on (a slot made again is a new socket).
  int SocketOf(size_t step) const { return steps_[step].socket; }
  // The other socket the step names (connect L, accept L, bind-same L, the
  // second end of a pair), or kNone.
  int TargetOf(size_t step) const { return steps_[step].target; }
  Role RoleOf(int socket) const { return sockets_[socket].role; }
  const std::string& NameOf(int socket) const { return sockets_[socket].name; }
  // The first step after which `socket` is closed (close or abort), or
  // SIZE_MAX.
  size_t ClosedAt(int socket) const { return sockets_[socket].closed_at; }
  // The first step that made `socket` listen (listen, relisten), or
  // SIZE_MAX. A role is the socket's for the whole script; this is when.
  size_t ListeningFrom(int socket) const {
    return sockets_[socket].listening_from;
  }
  // The first step that made a bound socket connect (reconnect), or
  // SIZE_MAX: from then on it is a connection too.
  size_t ConnectingFrom(int socket) const {
    return sockets_[socket].connecting_from;
  }

  // What a step done on `socket` reaches: the socket, the other end of its
  // connection, and for a listener (or a bound socket) every connection
  // made to it or to a socket sharing its address (both ends);
  // for an accepted socket, its listener too, whose port it shares. Sorted.
  std::vector<int> Touched(int socket) const;
  // The sockets that share `socket`'s address by bind-same, each with the
  // one whose address it took, transitively, `socket` among them.
  std::vector<int> SharingAddress(int socket) const;
  // Whether step `step` acts on or names one of `sockets` (sorted).
  bool Reaches(size_t step, const std::vector<int>& sockets) const;

 private:
  struct Socket {
    std::string name;
    Role role = Role::kUnknown;
    int peer = kNone;
    // The listener it connected to or came from (for bind-same: the
    // socket whose address it binds).
    int listener = kNone;
    bool accepted = false;
    size_t closed_at = static_cast<size_t>(-1);
    size_t listening_from = static_cast<size_t>(-1);
    // A bound socket that connects (reconnect) stays bound: what it
    // connected to, and from which step.
    int connected_to = kNone;
    size_t connecting_from = static_cast<size_t>(-1);
  };
  struct StepSockets {
    int socket = kNone;
    int target = kNone;
  };

  std::vector<Socket> sockets_;
  std::vector<StepSockets> steps_;
};

}  // namespace sockparity::internal

#endif  // SOCKPARITY_SCRIPT_SCRIPT_SOCKETS_H_
