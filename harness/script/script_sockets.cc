#include "script/script_sockets.h"

#include <algorithm>
#include <deque>
#include <map>

#include "script/verbs.h"

namespace sockparity::internal {

ScriptSockets::ScriptSockets(const Script& script) {
  std::map<std::string, int> current;
  // Connections made to a listener and not yet accepted, in order: the
  // runner pairs an accepted socket with the first of them.
  std::map<int, std::deque<int>> pending;
  auto make = [&](const std::string& name, Role role) {
    sockets_.push_back({.name = name, .role = role});
    current[name] = static_cast<int>(sockets_.size()) - 1;
    return current[name];
  };
  auto existing = [&](const std::string& name) {
    auto it = current.find(name);
    return it != current.end() ? it->second : make(name, Role::kUnknown);
  };
  steps_.reserve(script.steps.size());
  for (size_t i = 0; i < script.steps.size(); ++i) {
    const Step& step = script.steps[i];
    const VerbDescriptor& described = Describe(step.verb);
    StepSockets here;
    if (!described.creates()) {
      here.socket = existing(step.slot);
      // A step on its own socket that names another ("reconnect L").
      if (!step.target.empty()) here.target = existing(step.target);
      Socket& socket = sockets_[here.socket];
      switch (described.changes) {
        case Changes::kConnects: {
          // With no connection yet it makes one, queued on its target as a
          // connect's is: what the listener does reaches it. Only to a
          // socket with an address (a pair's end has none: refused on every
          // kind). A bound socket stays bound: it may still listen, and its
          // address is still its own.
          const bool addressed =
              here.target != kNone &&
              (sockets_[here.target].role == Role::kListener ||
               sockets_[here.target].role == Role::kBound);
          if (!addressed || socket.peer != kNone) break;
          // (A bound socket's `listener` is the socket whose address it
          // took with bind-same, not a connection.)
          if (socket.role == Role::kBound && socket.connected_to == kNone) {
            socket.connected_to = here.target;
            socket.connecting_from = i;
          } else if (socket.role == Role::kUnknown &&
                     socket.listener == kNone) {
            socket.role = Role::kConnection;
            socket.listener = here.target;
          } else {
            break;
          }
          pending[here.target].push_back(here.socket);
          break;
        }
        case Changes::kListens:
          socket.listening_from = std::min(socket.listening_from, i);
          break;
        case Changes::kEnds:
          socket.closed_at = std::min(socket.closed_at, i);
          break;
        case Changes::kNothing:
          break;
      }
      steps_.push_back(here);
      continue;
    }
    // The target is looked up before the slot is made again.
    const int target = described.makes == Makes::kPair || step.target.empty()
                           ? kNone
                           : existing(step.target);
    switch (described.makes) {
      case Makes::kPair: {
        here.socket = make(step.slot, Role::kConnection);
        here.target = make(step.target, Role::kConnection);
        sockets_[here.socket].peer = here.target;
        sockets_[here.target].peer = here.socket;
        break;
      }
      case Makes::kListener:
        here.socket = make(step.slot, Role::kListener);
        sockets_[here.socket].listening_from = i;
        break;
      case Makes::kConnection:
      case Makes::kGoneConnection:
        here.socket = make(step.slot, Role::kConnection);
        sockets_[here.socket].listener = target;
        pending[target].push_back(here.socket);
        if (described.makes == Makes::kGoneConnection) {
          sockets_[here.socket].closed_at = i;
        }
        break;
      case Makes::kAccepted: {
        here.socket = make(step.slot, Role::kConnection);
        Socket& accepted = sockets_[here.socket];
        accepted.listener = target;
        accepted.accepted = true;
        std::deque<int>& queue = pending[target];
        if (!queue.empty()) {
          accepted.peer = queue.front();
          sockets_[queue.front()].peer = here.socket;
          queue.pop_front();
        }
        break;
      }
      case Makes::kRefused:
        here.socket = make(step.slot, Role::kConnection);
        break;
      case Makes::kBound:
      case Makes::kBoundToTarget:
        here.socket = make(step.slot, Role::kBound);
        // What becomes of the address bind-same takes is its owner's doing.
        if (described.makes == Makes::kBoundToTarget) {
          sockets_[here.socket].listener = target;
        }
        break;
      case Makes::kNothing:
        break;
    }
    if (described.makes != Makes::kPair) here.target = target;
    steps_.push_back(here);
  }
}

std::vector<int> ScriptSockets::Touched(int socket) const {
  std::vector<int> touched = {socket};
  const Socket& self = sockets_[socket];
  if (self.peer != kNone) touched.push_back(self.peer);
  if (self.accepted && self.listener != kNone) {
    touched.push_back(self.listener);
  }
  // The connections made to it too: to a listener, to a bound socket
  // (relisten makes it a listener), to a socket that once was bound and
  // then connected, or to another socket bound to its address; a connect
  // to it names it.
  {
    const std::vector<int> sharing = SharingAddress(socket);
    for (size_t s = 0; s < sockets_.size(); ++s) {
      if (!std::binary_search(sharing.begin(), sharing.end(),
                              sockets_[s].listener) &&
          !std::binary_search(sharing.begin(), sharing.end(),
                              sockets_[s].connected_to)) {
        continue;
      }
      touched.push_back(static_cast<int>(s));
      if (sockets_[s].peer != kNone) touched.push_back(sockets_[s].peer);
    }
  }
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  return touched;
}

std::vector<int> ScriptSockets::SharingAddress(int socket) const {
  auto owner = [&](int s) {
    while (sockets_[s].role == Role::kBound && sockets_[s].listener != kNone) {
      s = sockets_[s].listener;
    }
    return s;
  };
  const int root = owner(socket);
  std::vector<int> sharing;
  for (size_t s = 0; s < sockets_.size(); ++s) {
    if (owner(static_cast<int>(s)) == root) {
      sharing.push_back(static_cast<int>(s));
    }
  }
  return sharing;
}

bool ScriptSockets::Reaches(size_t step,
                            const std::vector<int>& sockets) const {
  auto in = [&](int socket) {
    return socket != kNone &&
           std::binary_search(sockets.begin(), sockets.end(), socket);
  };
  return in(steps_[step].socket) || in(steps_[step].target);
}

}  // namespace sockparity::internal
