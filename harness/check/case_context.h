// Internal: what a case works with. A case of the phase "while the server
// runs" plays the client through a Context; one of the phase "after the
// server stopped" judges a StoppedServer.
#ifndef SOCKPARITY_CHECK_CASE_CONTEXT_H_
#define SOCKPARITY_CHECK_CASE_CONTEXT_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "check/decide.h"
#include "check/peer_link.h"
#include "check/stall_watch.h"
#include "sockparity/check/peer_check.h"
#include "sockparity/check/sut_process.h"
#include "sockparity/net/bytes.h"
#include "sockparity/net/socket.h"
#include "sockparity/net/stream_hash.h"

namespace sockparity::internal {

// Bytes the client sent on a connection, counted as the kernel takes
// them (also by a BackgroundSend's thread); not `exact` once some went
// uncounted.
struct SentBytes {
  std::atomic<uint64_t> bytes{0};
  std::atomic<bool> exact{true};
};

// The client's side of one case on one transport: its calls, what it saw
// (the wire log), the record compared across transports, the verdict.
// When a case must be done: its own budget (the contract's, or
// --case-budget), and the run's (--max-run-time), whichever comes first.
struct CaseClock {
  absl::Time case_end = absl::InfiniteFuture();
  absl::Time run_end = absl::InfiniteFuture();
  absl::Duration budget = absl::InfiniteDuration();
};

class Context {
 public:
  Context(PeerLink& link, const CheckOptions& options, uint64_t seed,
          CaseClock clock = {})
      : link_(link), options_(options), seed_(seed), clock_(clock) {}

  uint64_t seed() const { return seed_; }
  // One wait's limit: --timeout, or less when the case's or the run's
  // time is nearly spent. Every wait of a case goes through it.
  absl::Duration timeout() const;
  absl::Time end() const { return std::min(clock_.case_end, clock_.run_end); }
  bool OutOfTime() const { return absl::Now() >= end(); }
  // The run's time (--max-run-time) ran out during this case before its
  // own budget did: the case is not judged.
  bool cut_by_run() const { return cut_by_run_; }
  const std::string& cut_reason() const { return cut_reason_; }
  const CheckOptions& options() const { return options_; }
  PeerLink& link() { return link_; }

  std::optional<Socket> Connect();
  // A connection to another address the case started an instance on.
  // When a UNIX name is refused, the reason says what the server bound.
  std::optional<Socket> ConnectTo(const Endpoint& endpoint,
                                  std::optional<pid_t> server);
  bool Send(const Socket& socket, const Bytes& bytes);

  // Sends `bytes` where the server may end the connection once it has read
  // the first `must_arrive` of them (after a frame that ends it, or inside
  // bad input it may reject as soon as it can tell): the rest may meet
  // EPIPE or ECONNRESET, which is then no failure. How much of the rest
  // the server read first depends on how it reads, not on whether it is
  // right.
  bool SendUntilClosed(const Socket& socket, const Bytes& bytes,
                       size_t must_arrive);

  // The end of the connection the registry entry `entry_id` documents for
  // this transport's family (e.g. a TCP abort is a reset): anything else
  // fails, naming the entry.
  bool ExpectEndAsRegistered(const Socket& socket, absl::string_view entry_id);

  // Reads one frame; on failure records what came instead. Replies whose
  // number depends on timing (polling) stay out of the compared record.
  std::optional<Bytes> ReadFrame(const Socket& socket, bool recorded = true);
  bool ExpectFrame(const Socket& socket, const Bytes& want);

  // RecvExactly and RecvUntilEof bounded by the timeout, that end early
  // (ABORTED, saying why) once the server is stalled (StallWatch) or has
  // ended.
  absl::StatusOr<Bytes> Receive(const Socket& socket, size_t n);
  absl::StatusOr<Bytes> ReceiveUntilEnd(const Socket& socket, size_t limit);

  // The connection's end as the client sees it: "eof" or an errno name;
  // any bytes first are a failure (a reply that should not be).
  std::optional<std::string> End(const Socket& socket);
  bool ExpectEnd(const Socket& socket);

  // The server still serves: a new connection echoes.
  bool StillServes();

  void Record(absl::string_view verb, absl::string_view outcome);
  void Log(absl::string_view line);
  void Fail(absl::string_view expected, absl::string_view seen);
  // Names the step the case is at, for every reason given from now on:
  // "expected a reply frame (once descriptors were free again); saw ...".
  void Stage(absl::string_view when) { stage_ = std::string(when); }
  // The case cannot be judged here (the machine refused what it needs):
  // it does not apply (N/A), with the reason, unless it already failed.
  void CannotJudge(absl::string_view why);
  // The server may rightly leave new connections unaccepted for a while
  // (out of descriptors, retrying on a timer): waits do not end early on
  // a connection it has not accepted.
  void AcceptMayWait() { accept_may_wait_ = true; }
  bool failed() const { return observed_.kind == Observed::Kind::kMissed; }
  // The count of bytes sent on a connection this context made (null for
  // others), for a stall's reason to say how much the server took.
  std::shared_ptr<SentBytes> SentOn(const Socket& socket) const;

  // What the case observed, and its wire log and record.
  struct Finished {
    Observed observed;
    CaseResult details;  // the verdict is Decide's
  };
  Finished Finish() {
    result_.record.push_back(
        absl::StrFormat("bytes:%d:%016x", received_, hash_.value()));
    return {std::move(observed_), std::move(result_)};
  }

 private:
  static std::string Describe(const absl::Status& status);
  // Between slices of a wait: why waiting longer cannot help, if so.
  std::optional<std::string> NoPointWaiting(StallWatch& watch);
  void Digest(const Bytes& payload) {
    hash_.Add(payload);
    received_ += payload.size();
  }

  // The server process behind each connection the case made, by
  // descriptor: a case may start instances of its own.
  std::optional<pid_t> ServerOf(const Socket& socket) const;
  SentCount SentCountOf(const Socket& socket) const;

  PeerLink& link_;
  const CheckOptions& options_;
  std::map<int, pid_t> servers_;
  void CountSent(const Socket& socket, const absl::Status& sent, size_t n);
  // By the socket's inode: a descriptor number is reused once closed.
  std::map<uint64_t, std::shared_ptr<SentBytes>> sent_;
  bool accept_may_wait_ = false;
  uint64_t seed_;
  CaseClock clock_;
  absl::Time start_ = absl::Now();
  bool cut_by_run_ = false;
  std::string cut_reason_;
  Observed observed_;
  CaseResult result_;  // the wire log and the record
  StreamHash hash_;  // of the recorded payloads
  uint64_t received_ = 0;
  std::string stage_;
};

// What a case of the phase "after the server stopped" judges on one
// transport: how the server started and how it ended.
struct StoppedServer {
  const PeerLink& link;  // the transport, the address, the start
  const CheckOptions& options;
  std::optional<SutExit> exit;  // after SIGTERM; none for fd:N
};

}  // namespace sockparity::internal

#endif  // SOCKPARITY_CHECK_CASE_CONTEXT_H_
