// Running a script: RunScript plays it on fresh sockets of one transport
// kind and returns its trace.
#ifndef SOCKPARITY_SCRIPT_RUNNER_H_
#define SOCKPARITY_SCRIPT_RUNNER_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sockparity/net/transport.h"
#include "sockparity/script/script.h"
#include "sockparity/script/trace.h"

namespace sockparity {

struct RunOptions {
  // How long a step that waits (recv, connect, accept...) may wait. On
  // UNIX kinds at most 100 ms: nothing there ends a wait but another step.
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
  // steps that can see them: the oracle the runner's waits are tested
  // against (tests/settle_test.cc; same traces, much slower on TCP, where
  // loopback delays a FIN's ACK by 40 ms).
  bool acknowledge_every_step = false;
};

// Runs `script` on a fresh set of sockets of `kind`, and closes them and
// removes every file it made before returning. Fails only when the harness
// itself cannot work (no temporary directory); a failing socket call is an
// outcome in the trace.
absl::StatusOr<Trace> RunScript(const Script& script, TransportKind kind,
                                const RunOptions& options = {});

}  // namespace sockparity

#endif  // SOCKPARITY_SCRIPT_RUNNER_H_
