// Running a script: RunScript plays it on fresh sockets of one transport
// kind and returns its trace.
#ifndef SOCKPARITY_RUNNER_H_
#define SOCKPARITY_RUNNER_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sockparity/net/transport.h"
#include "sockparity/script/script.h"
#include "sockparity/script/trace.h"

namespace sockparity {

struct RunOptions {
  // How long a step that waits (recv, connect, accept...) may wait.
  absl::Duration step_timeout = absl::Seconds(1);
  // How long a connect (connect, connect-nb, reconnect) waits for its
  // handshake: well short of TCP's initial SYN retransmission (1 s,
  // TCP_TIMEOUT_INIT), so a SYN a full backlog dropped is never retried
  // within the step; at step_timeout the retry raced the deadline and tcp4
  // and tcp6 disagreed 2 runs in 16.
  absl::Duration connect_timeout = absl::Milliseconds(500);
  // How long to wait after a step for its effects to reach the peer.
  absl::Duration quiescence_timeout = absl::Seconds(2);
  // After every step, wait for the peer's ACKs too, not only before the
  // steps that can see them. Same traces, much slower on TCP (loopback
  // delays a FIN's ACK by 40 ms); kept as the benchmark's baseline.
  bool acknowledge_every_step = false;

  // The previous way of each of the speed-ups below, kept selectable so
  // that benchmarks have a baseline and tests can show that the traces are
  // the same either way (tests/differential_corpus_test.cc):
  //
  // Before a step that can see ACKs (poll, tcp-state, buffer sizes, a
  // non-blocking send) on a connected socket, wait for the ACKs of every
  // socket, not only of the step's own: the others' ACKs change nothing
  // that step can see (each is awaited before a step on its own socket),
  // but waiting for them cost a delayed ACK (up to 40 ms) on most TCP
  // scripts with a half-close.
  bool acknowledge_every_socket = false;
  // Make a temporary directory for every kind, not only for UNIX paths
  // (mkdir and rmdir were a quarter of the fuzzer's time).
  bool temp_dir_for_every_kind = false;
  // The longest pause between two checks while waiting for ACKs: the wait
  // overshoots the ACK by up to this much.
  absl::Duration max_settle_pause = absl::Microseconds(500);
  // Before a step that can see poll events or a TCP buffer size, wait for
  // ACKs even where they cannot change what it sees: after the socket's
  // own FIN (poll), or at all (a TCP size is compared as "autotuned").
  bool acknowledge_where_unseen = false;
  // While waiting for ACKs, leave the peer to send its delayed ACK in its
  // own time (with TCP_QUICKACK, after reading a lone FIN, it sends it at
  // once; see Runner::HurryAcknowledgement).
  bool leave_acknowledgements_delayed = false;
  // RunDifferential: run the kinds one after another rather than the TCP
  // kinds each in its own thread. Scripts that fork (connect-as-nobody)
  // always run one kind at a time: a child would hold the other kinds'
  // sockets open.
  bool sequential_kinds = false;

  // The runner as it was before the options above (waiting only where
  // a step can see ACKs, as acknowledge_every_step = false does).
  static RunOptions Previous() {
    RunOptions options;
    options.acknowledge_every_socket = true;
    options.temp_dir_for_every_kind = true;
    options.max_settle_pause = absl::Milliseconds(10);
    options.acknowledge_where_unseen = true;
    options.leave_acknowledgements_delayed = true;
    options.sequential_kinds = true;
    return options;
  }
};

// Runs `script` on a fresh set of sockets of `kind`, and closes them and
// removes every file it made before returning. Fails only when the harness
// itself cannot work (no temporary directory); a failing socket call is an
// outcome in the trace.
absl::StatusOr<Trace> RunScript(const Script& script, TransportKind kind,
                                const RunOptions& options = {});

}  // namespace sockparity

#endif  // SOCKPARITY_RUNNER_H_
