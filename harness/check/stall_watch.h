// Internal: when waiting longer for a server cannot help. The contract
// ("When a reply is due", kContractReplyWindow) lets a server that owes a
// reply or the end of a connection hold it while idle in the kernel (a
// timer, an upstream call) for a bounded window. A server whose process
// tree, for the whole window, neither ran nor waited for a CPU, with
// nothing on its way to the client, has held it longer than that: the
// case fails at once, saying what the server did with what the client
// sent, instead of waiting out its timeout. A server that is working, or
// waiting for a CPU on a loaded machine, is runnable and never stalled:
// it is waited for up to the timeout.
#ifndef SOCKPARITY_CHECK_STALL_WATCH_H_
#define SOCKPARITY_CHECK_STALL_WATCH_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
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

// How many bytes the client has sent on the connection so far, when it
// counted every one of them; none when it did not.
using SentCount = std::function<std::optional<uint64_t>()>;

class StallWatch {
 public:
  // `window` zero, or no server pid: never stalled (wait out every
  // timeout). Nothing is read until the first call to Stalled().
  // `accept_may_wait`: the server may rightly leave the connection
  // unaccepted for a while (out of descriptors, it retries on a timer);
  // otherwise a server idle with the connection unaccepted is stalled.
  // `sent`: lets the reason say how much of it the server took.
  StallWatch(const Socket& socket, std::optional<pid_t> server,
             absl::Duration window, Awaiting awaiting = Awaiting::kReply,
             bool accept_may_wait = false, SentCount sent = {});

  // The client received something: the server is not stalled.
  void Progress();

  // Looks again (call it every kLookEvery while waiting): once stalled,
  // why, e.g. "the server (pid 42) took all the client sent (17 bytes),
  // then sat idle in the kernel for 2s with nothing on its way to the
  // client, longer than the contract's window ...". Several requests may
  // be in flight, and the reply awaited is to the first one unanswered:
  // the reason says how much the server took, which is true whether it
  // sleeps before its reply or before reading the next request.
  std::optional<std::string> Stalled();

  static constexpr absl::Duration kLookEvery = absl::Milliseconds(50);

 private:
  const Socket& socket_;
  std::optional<pid_t> server_;
  Awaiting awaiting_;
  bool accept_may_wait_;
  bool seen_accepted_ = false;
  SentCount sent_;
  std::optional<IdleWatch> idle_;
};

}  // namespace sockparity::internal

#endif  // SOCKPARITY_CHECK_STALL_WATCH_H_
