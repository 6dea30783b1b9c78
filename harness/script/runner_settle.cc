// Waiting between steps until a step's effects have reached the other
// side (and, where the next step can see them, until the ACKs are back).
#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <deque>
#include <fstream>
#include <optional>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "net/poll_wait.h"
#include "script/script_runner.h"
#include "script/tcp_lookup.h"
#include "script/verbs.h"
#include "sockparity/net/bytes.h"
#include "sockparity/net/endpoint.h"
#include "sockparity/net/errors.h"
#include "sockparity/net/fd.h"
#include "sockparity/net/temp_dir.h"
#include "sockparity/script/trace.h"

namespace sockparity::internal {

namespace {

// The longest pause between two checks while waiting for ACKs: the wait
// overshoots the ACK by up to this much.
constexpr absl::Duration kMaxSettlePause = absl::Microseconds(500);

}  // namespace

// Whether a step's outcome can depend on ACKs having come back, rather than
// only on what reached its socket: TCP states, poll's OUT, buffer space and
// sizes (autotuned on ACK), and everything about addresses and listeners.
bool Runner::SeesAcknowledgements(const Step& step, bool nonblocking) {
  switch (Describe(step.verb).acks) {
    case Acks::kNone:
      return false;
    case Acks::kWhenNonblocking:
      // A blocking send waits for space (up to the step timeout) either way;
      // a non-blocking one sees EAGAIN if the space is not back yet.
      return nonblocking;
    case Acks::kAll:
      return true;
  }
  return true;
}

void Runner::SettleBefore(const Step& step) {
  if (!SeesAcknowledgements(step, NonBlocking(step.slot))) return;
  // Another socket's ACKs change nothing this step can see (each is
  // awaited before a step on its own socket), and waiting for them would
  // cost a delayed ACK (up to 40 ms) on most TCP scripts with a half-close.
  if (AcknowledgementsUnseen(step)) return;
  Quiesce(Settle::kAcknowledged, SeesOnlyItsOwnAcknowledgements(step));
}

bool Runner::AcknowledgementsUnseen(const Step& step) {
  const VerbDescriptor& verb = Describe(step.verb);
  // A TCP buffer size is compared as "autotuned"; its number, which an ACK
  // can change, is a detail that depends on the machine's history anyway.
  if (Tcp() && verb.acks_unseen_on_tcp) return true;
  // Once a socket has sent its FIN, poll reports OUT whatever its send
  // queue holds, and no ACK changes IN, RDHUP, HUP or ERR (tcp_poll).
  const Slot* slot = Find(step.slot);
  return verb.acks_unseen_after_fin && slot != nullptr && !slot->na &&
         !slot->closed && !slot->listener && slot->sent_fin;
}

const std::string* Runner::SeesOnlyItsOwnAcknowledgements(const Step& step) {
  if (!Describe(step.verb).own_acks_only) return nullptr;
  // What a connected socket shows depends on what reached it and on the
  // ACKs of what it sent, not on whether the others' ACKs are back (the
  // peer's pending ACK of a FIN changes nothing the peer shows). A
  // listener's pending connections depend on the clients' handshakes.
  auto it = slots_.find(step.slot);
  if (it == slots_.end() || it->second.listener || it->second.peer.empty()) {
    return nullptr;
  }
  return &it->first;
}

// Waits until what the last step set off has reached the other side (and,
// for kAcknowledged, until the other side's answers are back): on TCP, no
// handshake half-done; every byte and FIN a socket sent is in its peer's
// receive queue, or acknowledged, or held back by a closed window; every
// socket whose peer sent a FIN or reset has seen it. UNIX sockets act
// synchronously.
void Runner::Quiesce(Settle level, const std::string* only) {
  if (!Tcp()) return;
  const absl::Time deadline = absl::Now() + options_.quiescence_timeout;
  absl::Duration pause = absl::Microseconds(50);
  while (true) {
    bool settled = true;
    for (auto& [name, slot] : slots_) {
      if (slot.na) continue;
      const bool acknowledged =
          level == Settle::kAcknowledged && (only == nullptr || name == *only);
      const bool delivered = !acknowledged && DeliveredToPeer(slot);
      if (slot.closed) {
        if (!slot.tcp_tuple || delivered) continue;
        std::optional<internal::TcpConnection> connection =
            internal::LookUpTcpConnection(*slot.tcp_tuple);
        if (!connection || (connection->state != TCP_FIN_WAIT1 &&
                            connection->state != TCP_LAST_ACK &&
                            connection->state != TCP_CLOSING)) {
          continue;
        }
        if (!FinHeldBack(slot)) settled = false;
        continue;
      }
      if (slot.listener || !slot.fd.valid()) continue;
      tcp_info info{};
      socklen_t length = sizeof(info);
      if (::getsockopt(slot.fd.get(), IPPROTO_TCP, TCP_INFO, &info, &length) !=
          0)
        continue;
      const int state = info.tcpi_state;
      // A reset connection (CLOSE) sends nothing more, though SIOCOUTQ
      // still counts what was never acknowledged.
      if (state == TCP_CLOSE) continue;
      if (state == TCP_SYN_RECV) settled = false;
      // Queued bytes with nothing unacknowledged are waiting for the peer
      // to read (a closed window): nothing moves until a later step.
      int outq = 0;
      const bool in_flight = ::ioctl(slot.fd.get(), SIOCOUTQ, &outq) == 0 &&
                             outq > 0 && info.tcpi_unacked > 0;
      const bool closing = state == TCP_FIN_WAIT1 || state == TCP_LAST_ACK ||
                           state == TCP_CLOSING;
      if ((in_flight || (closing && !FinHeldBack(slot))) && !delivered) {
        settled = false;
      }
      Slot* peer = slot.peer.empty() ? nullptr : Find(slot.peer);
      if (peer != nullptr && peer->sent_fin &&
          (state == TCP_ESTABLISHED || state == TCP_FIN_WAIT2) &&
          !FinHeldBack(*peer)) {
        settled = false;
      }
    }
    if (settled || absl::Now() >= deadline) return;
    for (auto& [name, slot] : slots_) {
      if (level == Settle::kAcknowledged &&
          (only == nullptr || name == *only) && !slot.peer.empty()) {
        HurryAcknowledgement(slot.peer);
      }
    }
    // Nothing to wait on: an ACK that comes changes no poll event (a
    // half-closed socket is writable either way). Pace the re-check.
    absl::SleepFor(pause);
    pause = std::min(pause * 2, kMaxSettlePause);
  }
}

// Whether `sender`'s FIN waits behind bytes that the peer's closed window
// holds back (queued, nothing unacknowledged): it leaves only when the
// peer reads, so until a later step nothing moves.
bool Runner::FinHeldBack(const Slot& sender) {
  if (!sender.sent_fin) return false;
  if (sender.closed) {
    if (!sender.tcp_tuple) return false;
    std::optional<internal::TcpConnection> connection =
        internal::LookUpTcpConnection(*sender.tcp_tuple);
    return connection && connection->unacknowledged == false &&
           connection->send_queue > 0;
  }
  if (!sender.fd.valid()) return false;
  tcp_info info{};
  socklen_t length = sizeof(info);
  int queued = 0;
  return ::getsockopt(sender.fd.get(), IPPROTO_TCP, TCP_INFO, &info,
                      &length) == 0 &&
         ::ioctl(sender.fd.get(), SIOCOUTQ, &queued) == 0 && queued > 0 &&
         info.tcpi_unacked == 0;
}

// Makes `name` (a socket whose peer awaits its ACK) send its delayed ACK
// now. A TCP socket that gets a FIN delays its ACK (by up to 40 ms on
// loopback), hoping to send its own FIN with it; TCP_QUICKACK sends a
// scheduled ACK at once, but only with an empty receive queue, where the
// FIN itself sits until read. When nothing but the FIN is queued, it is
// read here: reading the end of stream changes nothing a later step sees
// (every receive still returns it, poll still reports IN|RDHUP, and a
// close with only a FIN unread sends a FIN, not a reset).
void Runner::HurryAcknowledgement(const std::string& name) {
  Slot* slot = Find(name);
  if (slot == nullptr || slot->na || slot->closed || slot->listener ||
      !slot->fd.valid()) {
    return;
  }
  const int fd = slot->fd.get();
  tcp_info info{};
  socklen_t length = sizeof(info);
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return;
  int queued = 0;
  // SIOCINQ stops at an urgent mark (tcp_inq): with urgent data pending a
  // recv would step over the urgent byte and clear it (tcp_recvmsg), which
  // is the script's to see, not the runner's to take.
  pollfd urgent{fd, POLLPRI, 0};
  const bool urgent_pending =
      ::poll(&urgent, 1, 0) == 1 && (urgent.revents & POLLPRI) != 0;
  if (info.tcpi_state == TCP_CLOSE_WAIT && !urgent_pending &&
      ::ioctl(fd, SIOCINQ, &queued) == 0 && queued == 0) {
    uint8_t byte;
    (void)::recv(fd, &byte, 1, MSG_DONTWAIT);  // 0: the end of stream
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

// Whether everything `sender` sent, and its FIN, is at its open peer: the
// peer has read or holds in its queue every byte, and is past ESTABLISHED
// if a FIN or reset was sent. (The peer's ACK may still be on its way.)
bool Runner::DeliveredToPeer(const Slot& sender) {
  Slot* peer = sender.peer.empty() ? nullptr : Find(sender.peer);
  if (peer == nullptr || peer->na || peer->closed || peer->listener ||
      !peer->fd.valid()) {
    return false;
  }
  int queued = 0;
  if (::ioctl(peer->fd.get(), SIOCINQ, &queued) != 0) return false;
  if (peer->received + static_cast<uint64_t>(queued) < sender.sent) {
    return false;
  }
  if (!sender.sent_fin) return true;
  tcp_info info{};
  socklen_t length = sizeof(info);
  if (::getsockopt(peer->fd.get(), IPPROTO_TCP, TCP_INFO, &info, &length) !=
      0) {
    return false;
  }
  return info.tcpi_state != TCP_ESTABLISHED && info.tcpi_state != TCP_FIN_WAIT2;
}

}  // namespace sockparity::internal
