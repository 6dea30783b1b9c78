#include "check/stall_watch.h"

#include "absl/strings/str_cat.h"
#include "check/process_stats.h"
#include "check/sock_diag.h"
#include "sockparity/check/peer_contract.h"

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
  // A thread runnable right now may be one starved of a CPU, whose wait
  // its times do not show yet; one in uninterruptible sleep waits for its
  // own I/O: not idle either way.
  if (!runnable || !before ||
      *runnable - *before > (now - looked_before) * kIdleShare ||
      AnyThreadBusy(pid_)) {
    idle_since_.reset();
    return false;
  }
  if (!idle_since_) idle_since_ = looked_before;
  return now - *idle_since_ >= window_;
}

namespace {

// How the window compares with the contract's, true of any
// --stalled-after: the reason names the clause either way.
std::string AgainstTheContract(absl::Duration window, Awaiting awaiting) {
  const std::string allowed = absl::FormatDuration(kContractReplyWindow);
  if (window < kContractReplyWindow) {
    return absl::StrCat(" (--stalled-after ", absl::FormatDuration(window),
                        ", shorter than the ", allowed,
                        " the contract allows: ", kContractReplyWindowClause,
                        ")");
  }
  return absl::StrCat(": longer than the ", allowed,
                      " the contract lets an idle server hold ",
                      awaiting == Awaiting::kEnd ? "a due end of the connection"
                                                 : "a due reply",
                      " (", kContractReplyWindowClause, ")");
}

// What the server did with what the client sent. Requests may be
// pipelined: a server that took the first and sleeps before reading the
// next has taken some and left the rest, so the count is what is said.
std::string WhatItTook(const ConnectionQueues& queues,
                       std::optional<uint64_t> sent) {
  if (queues.not_taken == 0) {
    return sent ? absl::StrCat("took all the client sent (", *sent, " bytes)")
                : "took all the client sent";
  }
  if (!queues.not_taken_in_bytes)
    return "left some of what the client sent unread";
  if (!sent) {
    return absl::StrCat("left the last ", queues.not_taken,
                        " bytes the client sent unread");
  }
  if (queues.not_taken >= *sent) {
    return absl::StrCat("took none of the ", *sent,
                        " bytes the client sent (left the request unread)");
  }
  return absl::StrCat("took the first ", *sent - queues.not_taken, " of the ",
                      *sent, " bytes the client sent and left the other ",
                      queues.not_taken, " unread");
}

}  // namespace

StallWatch::StallWatch(const Socket& socket, std::optional<pid_t> server,
                       absl::Duration window, Awaiting awaiting,
                       bool accept_may_wait, SentCount sent)
    : socket_(socket),
      server_(server),
      awaiting_(awaiting),
      accept_may_wait_(accept_may_wait),
      sent_(std::move(sent)) {
  if (server_ && window > absl::ZeroDuration()) idle_.emplace(*server, window);
}

void StallWatch::Progress() {
  if (idle_) idle_->Restart();
}

std::optional<std::string> StallWatch::Stalled() {
  if (!idle_) return std::nullopt;
  const bool idle = idle_->Look();
  // A server out of descriptors may rightly leave the connection queued:
  // the reply is due once it accepts, so the window counts from then.
  if (accept_may_wait_ && !seen_accepted_) {
    absl::StatusOr<uint64_t> peer = PeerSocketInode(socket_);
    seen_accepted_ = peer.ok() && *peer != 0;
    idle_->Restart();
    return std::nullopt;
  }
  if (!idle) return std::nullopt;
  std::string idle_for = absl::FormatDuration(idle_->window());
  if (const std::string where = WaitingIn(*server_); !where.empty())
    absl::StrAppend(&idle_for, " (its threads waiting in: ", where, ")");
  const std::string clause = AgainstTheContract(idle_->window(), awaiting_);
  const std::string who = absl::StrCat("the server (pid ", *server_, ") ");
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
    return absl::StrCat(who,
                        "has not accepted the connection and sat idle in the "
                        "kernel for ",
                        idle_for, " with it in the listener's queue", clause);
  }
  // Only the process tree that holds the server's end of the connection
  // says anything about it, not one that handed it to a process outside.
  if (SocketInodesHeldBy(*server_).count(*peer) == 0) return not_stalled();
  absl::StatusOr<ConnectionQueues> queues = QueuesOf(socket_);
  // Bytes on their way to the client: a server that stopped reading while
  // its replies wait for the client (backpressure) is not stalled.
  if (!queues.ok() || queues->toward_client > 0) return not_stalled();
  if (awaiting_ == Awaiting::kEnd) {
    return absl::StrCat(who,
                        "holds the connection open and sat idle in the "
                        "kernel for ",
                        idle_for, " with nothing on its way to the client",
                        clause);
  }
  return absl::StrCat(who, WhatItTook(*queues, sent_ ? sent_() : std::nullopt),
                      ", then sat idle in the kernel for ", idle_for,
                      " with nothing on its way to the client", clause);
}

}  // namespace sockparity::internal
