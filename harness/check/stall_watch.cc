#include "check/stall_watch.h"

#include "absl/strings/str_cat.h"
#include "check/process_stats.h"
#include "check/sock_diag.h"

namespace sockparity::internal {
namespace {

// Housekeeping threads (a runtime's timers, a garbage collector) may wake
// now and then; a server producing a reply runs far more than this.
constexpr double kIdleShare = 0.1;

}  // namespace

bool IdleWatch::Look() {
  if (window_ <= absl::ZeroDuration()) return false;
  const absl::Time now = absl::Now();
  const std::optional<absl::Duration> runnable = RunnableTimeOf(pid_);
  const std::optional<absl::Duration> before = last_runnable_;
  const absl::Time looked_before = last_look_;
  last_runnable_ = runnable;
  last_look_ = now;
  // The first look only starts the count.
  if (!runnable || !before ||
      *runnable - *before > (now - looked_before) * kIdleShare) {
    idle_since_.reset();
    return false;
  }
  if (!idle_since_) idle_since_ = looked_before;
  return now - *idle_since_ >= window_;
}

StallWatch::StallWatch(const Socket& socket, std::optional<pid_t> server,
                       absl::Duration window, Awaiting awaiting,
                       bool accept_may_wait)
    : socket_(socket),
      server_(server),
      awaiting_(awaiting),
      accept_may_wait_(accept_may_wait) {
  if (server_ && window > absl::ZeroDuration()) idle_.emplace(*server, window);
}

void StallWatch::Progress() {
  if (idle_) idle_->Restart();
}

std::optional<std::string> StallWatch::Stalled() {
  if (!idle_ || !idle_->Look()) return std::nullopt;
  const std::string idle_for = absl::FormatDuration(idle_->window());
  // Not stalled after all: count a new window from here.
  auto not_stalled = [&] {
    idle_->Restart();
    return std::nullopt;
  };
  absl::StatusOr<uint64_t> peer = PeerSocketInode(socket_);
  if (!peer.ok()) return not_stalled();
  // An accepted socket has an inode; one still in the listener's queue
  // has none yet.
  if (*peer == 0) {
    if (accept_may_wait_) return not_stalled();
    return absl::StrCat("the server (pid ", *server_,
                        ") has not accepted the connection and sat idle in "
                        "the kernel for ",
                        idle_for);
  }
  // Only the process tree that holds the server's end of the connection
  // says anything about it, not one that handed it to a process outside.
  if (SocketInodesHeldBy(*server_).count(*peer) == 0) return not_stalled();
  absl::StatusOr<ConnectionQueues> queues = QueuesOf(socket_);
  // Bytes on their way to the client: a server that stopped reading while
  // its replies wait for the client (backpressure) is not stalled.
  if (!queues.ok() || queues->toward_client > 0) return not_stalled();
  if (awaiting_ == Awaiting::kEnd) {
    return absl::StrCat("the server (pid ", *server_,
                        ") holds the connection open and sat idle in the "
                        "kernel for ",
                        idle_for, " with nothing on its way");
  }
  if (queues->not_taken > 0) {
    // (On UNIX sockets the count is of buffer memory, not bytes.)
    return absl::StrCat("the server (pid ", *server_,
                        ") left what the client sent unread and sat idle in "
                        "the kernel for ",
                        idle_for, " with nothing on its way to the client");
  }
  return absl::StrCat("the server (pid ", *server_,
                      ") took all the client sent, then sat idle in the "
                      "kernel for ",
                      idle_for, " with nothing on its way");
}

}  // namespace sockparity::internal
