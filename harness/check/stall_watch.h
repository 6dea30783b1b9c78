// Internal: when waiting longer for a server cannot help. A server whose
// process tree, for a whole window, neither ran nor waited for a CPU is
// waiting in the kernel for something; if what it waits for is input the
// client will not send, the reply or the close it owes is not on its way.
// Telling that apart from a slow or starved server lets a failing case end
// at once instead of waiting out its timeout, and never fails one that is
// merely slow: a server that is working, or waiting for a CPU on a loaded
// machine, is runnable.
#ifndef SOCKPARITY_CHECK_STALL_WATCH_H_
#define SOCKPARITY_CHECK_STALL_WATCH_H_

#include <sys/types.h>

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "sockparity/net/socket.h"

namespace sockparity::internal {

// Whether a process tree has been idle in the kernel for a whole window:
// runnable (running or waiting for a CPU) for under a tenth of it.
class IdleWatch {
 public:
  // `window` zero: never idle. Nothing is read until the first Look().
  IdleWatch(pid_t pid, absl::Duration window) : pid_(pid), window_(window) {}

  // Call every few tens of milliseconds: true once idle for the window.
  bool Look();
  // Something happened that the tree did: count the window from now.
  void Restart() { idle_since_.reset(); }
  absl::Duration window() const { return window_; }

 private:
  pid_t pid_;
  absl::Duration window_;
  absl::Time last_look_;
  std::optional<absl::Duration> last_runnable_;
  std::optional<absl::Time> idle_since_;
};

// What a client waits for on a connection.
enum class Awaiting {
  // A reply. A server that sits idle with the request unread, and nothing
  // on its way to the client, is not reading: only replies waiting for the
  // client to read them (backpressure) let a server stop reading.
  kReply,
  // The end of the connection: the server may leave bytes sent after the
  // end was due unread; it owes the close.
  kEnd,
};

class StallWatch {
 public:
  // `window` zero, or no server pid: never stalled (wait out every
  // timeout). Nothing is read until the first call to Stalled().
  // `accept_may_wait`: the server may rightly leave the connection
  // unaccepted for a while (out of descriptors, it retries on a timer);
  // otherwise a server idle with the connection unaccepted is stalled.
  StallWatch(const Socket& socket, std::optional<pid_t> server,
             absl::Duration window, Awaiting awaiting = Awaiting::kReply,
             bool accept_may_wait = false);

  // The client received something: the server is not stalled.
  void Progress();

  // Looks again (call it every kLookEvery while waiting): once stalled,
  // why, e.g. "the server (pid 42) took all the client sent, then sat idle
  // in the kernel for 1s with nothing on its way".
  std::optional<std::string> Stalled();

  static constexpr absl::Duration kLookEvery = absl::Milliseconds(50);

 private:
  const Socket& socket_;
  std::optional<pid_t> server_;
  Awaiting awaiting_;
  bool accept_may_wait_;
  std::optional<IdleWatch> idle_;
};

}  // namespace sockparity::internal

#endif  // SOCKPARITY_CHECK_STALL_WATCH_H_
