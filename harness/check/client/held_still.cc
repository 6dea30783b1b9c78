#include "check/client/held_still.h"

#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "check/process_stats.h"

namespace sockparity::internal {
namespace {

constexpr absl::Duration kBound = absl::Seconds(2);

std::optional<TcpTuple> ClientSideOf(const Socket& s) {
  if (s.kind() != TransportKind::kTcp4 && s.kind() != TransportKind::kTcp6) {
    return std::nullopt;
  }
  TcpTuple tuple;
  socklen_t length = sizeof(tuple.local);
  if (::getpeername(s.fd(), reinterpret_cast<sockaddr*>(&tuple.local),
                    &length) != 0) {
    return std::nullopt;
  }
  length = sizeof(tuple.remote);
  if (::getsockname(s.fd(), reinterpret_cast<sockaddr*>(&tuple.remote),
                    &length) != 0) {
    return std::nullopt;
  }
  return tuple;
}

}  // namespace

ClientHeldStill::ClientHeldStill(ClientContext& c, const Socket& s)
    : c_(c), client_side_(ClientSideOf(s)) {
  SutProcess* client = c.client();
  if (client == nullptr) return;
  group_ = client->pid();
  // The shepherd made the client its process group's leader: a client that
  // is a script stops with its children.
  if (::kill(-group_, SIGSTOP) != 0) {
    group_ = 0;
    return;
  }
  const absl::Time deadline = absl::Now() + kBound;
  while (!EveryThreadIn(group_, "TtZX?")) {
    if (absl::Now() >= deadline) {
      c.Log(
          "the client held still (SIGSTOP): not every thread stopped "
          "within 2 s");
      return;
    }
    absl::SleepFor(absl::Milliseconds(1));  // polling, bounded above
  }
  c.Log("the client held still (SIGSTOP)");
}

ClientHeldStill::~ClientHeldStill() { Continue(); }

void ClientHeldStill::Release() {
  if (group_ == 0) return;
  if (client_side_) {
    // Gone, or closed: the reset arrived; CLOSE_WAIT: the end of stream.
    const absl::Time deadline = absl::Now() + kBound;
    std::optional<int> state;
    while ((state = LookUpTcpState(*client_side_)) &&
           *state == TCP_ESTABLISHED && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(1));  // polling, bounded above
    }
  }
  Continue();
}

void ClientHeldStill::Continue() {
  if (group_ == 0) return;
  (void)::kill(-group_, SIGCONT);
  group_ = 0;
  c_.Log("the client continued (SIGCONT)");
}

}  // namespace sockparity::internal
