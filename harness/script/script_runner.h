// Internal: the script runner: script_runner.cc (stepping and the helpers
// every verb uses), one handler per verb (the table in verbs.cc names each)
// in runner_creating.cc (pairs, listeners, addresses, connections),
// runner_send.cc and runner_recv.cc (sending and receiving), runner_inspect.cc
// (looking at a socket and ending it), and runner_settle.cc (waiting for a
// step's effects between steps).
#ifndef SOCKPARITY_SCRIPT_SCRIPT_RUNNER_H_
#define SOCKPARITY_SCRIPT_SCRIPT_RUNNER_H_

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "script/tcp_lookup.h"
#include "sockparity/net/endpoint.h"
#include "sockparity/net/errors.h"
#include "sockparity/net/fd.h"
#include "sockparity/net/stream_hash.h"
#include "sockparity/net/temp_dir.h"
#include "sockparity/net/transport.h"
#include "sockparity/script/runner.h"
#include "sockparity/script/script.h"
#include "sockparity/script/trace.h"

namespace sockparity::internal {

inline constexpr size_t kChunk = size_t{64} << 10;

struct Slot {
  Fd fd;
  bool listener = false;
  bool nonblocking = false;
  bool na = false;                  // created as "n/a" on this kind
  std::string peer;                 // the slot at the other end
  std::optional<Endpoint> address;  // bound address of a listener or bind
  std::string address_owner;        // the name sockname/peername report
  uint64_t sent = 0;                // pattern offset of the next byte
  uint64_t received = 0;
  StreamHash hash;        // of the received bytes
  bool sent_fin = false;  // shutdown wr, close or abort done
  // A closed TCP socket is looked up by its addresses.
  std::optional<internal::TcpTuple> tcp_tuple;
  bool closed = false;
  std::deque<std::string> pending;  // listeners: connected slots not accepted
  // Made on the first epoll-level / epoll-edge step; an edge-triggered
  // instance reports what changed since its previous wait.
  Fd epoll_level;
  Fd epoll_edge;
};

// The bytes slot `slot` sends: PatternByte(PatternSeed(slot), offset). The
// seed is worked out once per send, not once per byte.
inline uint64_t PatternSeed(const std::string& slot) {
  uint64_t seed = 0;
  for (char c : slot) seed = seed * 31 + static_cast<uint8_t>(c);
  return seed;
}

inline uint8_t PatternByte(uint64_t seed, uint64_t offset) {
  return static_cast<uint8_t>((offset * 131 + seed) % 251);
}

// `size` bytes of the pattern from `offset` on, into `out`. It repeats
// every 251 bytes, so one period is worked out byte by byte and copied on
// (byte by byte, a fill's megabytes were a third of the fuzzer's time under
// coverage instrumentation).
void FillPattern(uint64_t seed, uint64_t offset, uint8_t* out, size_t size);

// Poll events as "IN|OUT|RDHUP", or "none".
std::string Events(short revents);
// TCP_ESTABLISHED -> "ESTABLISHED".
std::string TcpStateName(int state);

// "ADDR:PORT" as /proc/net/tcp prints it, for a socket's address.

class Runner {
 public:
  // `dir` holds the socket files of the unix kind; other kinds need none.
  Runner(TransportKind kind, const RunOptions& options,
         std::optional<TempDir> dir)
      : kind_(kind), options_(options), dir_(std::move(dir)) {}

  ~Runner() {
    for (pid_t child : children_) ::waitpid(child, nullptr, 0);
  }

  StepOutcome Run(const Step& step);
  // How settled the sockets must be: kDelivered (everything sent, FINs and
  // resets included, is at the other end) after every step; kAcknowledged
  // (the other end's ACKs are back, so the sender's state, buffer space and
  // closing states are final) before a step that can see those. Loopback
  // TCP delays the ACK of a FIN by 40 ms, so waiting for it after every step
  // made TCP scripts a hundred times slower than UNIX ones.
  enum class Settle { kDelivered, kAcknowledged };
  // With `only`, kAcknowledged applies to that slot alone, kDelivered to
  // the others.
  void Quiesce(Settle level, const std::string* only = nullptr);
  bool FinHeldBack(const Slot& sender);
  static bool SeesAcknowledgements(const Step& step, bool nonblocking);
  // Before `step`: waits for the ACKs it can see, if any.
  void SettleBefore(const Step& step);
  bool DeliveredToPeer(const Slot& sender);
  void HurryAcknowledgement(const std::string& name);
  bool NonBlocking(const std::string& name) {
    Slot* slot = Find(name);
    return slot != nullptr && slot->nonblocking;
  }
  std::map<std::string, std::string> Received() const;

  // The verbs' handlers, each named by its entry in VerbTable() (verbs.cc).
  // On the step's open socket:
  StepOutcome Send(const Step& step, Slot& slot);
  StepOutcome Fill(const Step& step, Slot& slot);
  StepOutcome SendFd(const Step& step, Slot& slot);
  StepOutcome Recv(const Step& step, Slot& slot);
  // recv-exactly, recv-until-eof and drain.
  StepOutcome RecvStream(const Step& step, Slot& slot);
  StepOutcome RecvWaitall(const Step& step, Slot& slot);
  StepOutcome Peek(const Step& step, Slot& slot);
  StepOutcome RecvFd(const Step& step, Slot& slot);
  StepOutcome Shutdown(const Step& step, Slot& slot);
  StepOutcome Close(const Step& step, Slot& slot);
  StepOutcome Abort(const Step& step, Slot& slot);
  StepOutcome Nonblock(const Step& step, Slot& slot);
  StepOutcome Poll(const Step& step, Slot& slot);
  StepOutcome SoError(const Step& step, Slot& slot);
  StepOutcome Peercred(const Step& step, Slot& slot);
  // sndbuf and rcvbuf.
  StepOutcome BufferSize(const Step& step, Slot& slot);
  StepOutcome SocketOption(const Step& step, Slot& slot);
  StepOutcome Nodelay(const Step& step, Slot& slot);
  // sockname and peername.
  StepOutcome Name(const Step& step, Slot& slot);
  StepOutcome Inq(const Step& step, Slot& slot);
  StepOutcome Outq(const Step& step, Slot& slot);
  // epoll-level and epoll-edge.
  StepOutcome Epoll(const Step& step, Slot& slot);
  StepOutcome Linger(const Step& step, Slot& slot);
  StepOutcome SendOob(const Step& step, Slot& slot);
  StepOutcome RecvOob(const Step& step, Slot& slot);
  StepOutcome Rcvlowat(const Step& step, Slot& slot);
  StepOutcome Relisten(const Step& step, Slot& slot);
  StepOutcome Reconnect(const Step& step, Slot& slot);
  // Finding or making their sockets themselves:
  StepOutcome Pair(const Step& step);
  // bind, listen, bind-same and bind-path-length.
  StepOutcome Bind(const Step& step);
  // connect, connect-nb and connect-missing.
  StepOutcome Connect(const Step& step);
  StepOutcome ConnectAsNobody(const Step& step);
  StepOutcome Accept(const Step& step);
  StepOutcome Stat(const Step& step);
  StepOutcome TcpState(const Step& step);

 private:
  bool Tcp() const { return FamilyOf(kind_) == Family::kTcp; }
  int Domain() const {
    return kind_ == TransportKind::kTcp4   ? AF_INET
           : kind_ == TransportKind::kTcp6 ? AF_INET6
                                           : AF_UNIX;
  }
  Slot* Find(const std::string& name) {
    auto it = slots_.find(name);
    return it == slots_.end() ? nullptr : &it->second;
  }
  // Whether no ACK can change what `step` shows, though its verb can see
  // ACKs in general.
  bool AcknowledgementsUnseen(const Step& step);
  // The slot whose ACKs alone `step` can see (poll, tcp-state, a send on a
  // connected socket look at nothing else); nullptr when it can see any
  // socket's (addresses, listeners).
  const std::string* SeesOnlyItsOwnAcknowledgements(const Step& step);
  std::optional<StepOutcome> NeedOpen(const std::string& name, Slot** out);
  StepOutcome Errno(int error, absl::string_view detail = "") {
    return {ErrnoName(error), std::string(detail)};
  }
  absl::StatusOr<Fd> NewSocket(int extra_flags = 0);
  Endpoint FreshAddress(const std::string& slot);
  std::string NameOf(const sockaddr_storage& ss, socklen_t length,
                     const std::string& slot);
  absl::Status ConnectBounded(const Slot& self, int fd, const Endpoint& to);
  void RecordTcpTuple(Slot& slot);
  void Receive(Slot& slot, const uint8_t* data, size_t size);
  std::optional<StepOutcome> WaitReadable(Slot& slot);
  StepOutcome CloseSlot(Slot& slot, bool abort);
  // Before a receive that waits: the step's outcome if nothing came in time.
  std::optional<StepOutcome> WaitUnlessNonblocking(Slot& slot);
  // The receive verbs' buffer of kChunk bytes.
  uint8_t* ReceiveBuffer();
  // A new slot named by the step, not yet kept.
  Slot NewSlot(const Step& step) const;
  // Keeps `slot` as the step's socket, and returns `outcome`.
  StepOutcome Keep(const Step& step, Slot slot, StepOutcome outcome);
  // The socket a creating step makes, kept in the step's slot whatever the
  // outcome (a failed connect's socket is still there, closed or not).
  struct Making {
    Making(Runner& runner, const Step& step)
        : runner(runner), step(step), slot(runner.NewSlot(step)) {}
    StepOutcome Done(StepOutcome outcome) {
      return runner.Keep(step, std::move(slot), std::move(outcome));
    }
    // The step means nothing on this kind: "n/a", saying why.
    StepOutcome NotHere(absl::string_view why) {
      slot.na = true;
      return Done({"n/a", std::string(why)});
    }
    Runner& runner;
    const Step& step;
    Slot slot;
  };

  const TransportKind kind_;
  const RunOptions options_;
  std::optional<TempDir> dir_;
  std::map<std::string, Slot> slots_;
  std::vector<Fd> reserved_;  // ports bound so nothing can listen there
  std::vector<pid_t> children_;
  // The receive verbs' buffer, made on first use: zeroing a fresh 64 KiB
  // for every receive showed in the fuzzer's profile.
  std::unique_ptr<uint8_t[]> buffer_;
  int names_ = 0;
};

}  // namespace sockparity::internal

#endif  // SOCKPARITY_SCRIPT_SCRIPT_RUNNER_H_
