// Internal: a client held still (SIGSTOP) while the suite's server acts.
#ifndef SOCKPARITY_CHECK_CLIENT_HELD_STILL_H_
#define SOCKPARITY_CHECK_CLIENT_HELD_STILL_H_

#include <optional>

#include "check/client/client_context.h"
#include "script/tcp_lookup.h"

namespace sockparity::internal {

// Stops the client's process group, so that what the server sends and how
// it ends the connection meanwhile reach the client in one wakeup. Any
// process may be kept off the CPU that long (a loaded machine); holding it
// still makes that schedule certain, where otherwise a verdict would depend
// on which of two CPUs ran first (a library that loses a reset only when it
// arrives with the last data). Continuing may end a wait in epoll_wait(2)
// with EINTR (signal(7), "Interruption of system calls ... by a stop
// signal"), which the client handles like any other.
class ClientHeldStill {
 public:
  // SIGSTOP, then waits (up to 2 s) until every thread of the client's
  // process tree is stopped. `s` is the suite's end of the connection.
  ClientHeldStill(ClientContext& c, const Socket& s);
  ClientHeldStill(const ClientHeldStill&) = delete;
  ClientHeldStill& operator=(const ClientHeldStill&) = delete;
  // Continues the client (SIGCONT) unless Release did.
  ~ClientHeldStill();

  // Once the suite closed its end: waits (up to 2 s) until the end reached
  // the client's socket (on TCP it travels as a segment), then continues.
  void Release();

 private:
  void Continue();

  ClientContext& c_;
  pid_t group_ = 0;
  std::optional<TcpTuple> client_side_;  // TCP: the client's four-tuple
};

}  // namespace sockparity::internal

#endif  // SOCKPARITY_CHECK_CLIENT_HELD_STILL_H_
