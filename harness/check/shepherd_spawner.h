// Internal: where shepherds are forked from. A shepherd forked from the
// suite itself shares, copy-on-write, every page the suite had at that
// moment for as long as its server runs; the suite then copies a page (and
// flushes the TLB of every CPU it runs on) at each first write into memory
// it reuses, the megabytes of every large frame. So shepherds are forked
// by a spawner instead: a process forked from the suite once, while it is
// small, that forks a shepherd for each request it reads from a socket.
#ifndef SOCKPARITY_CHECK_SHEPHERD_SPAWNER_H_
#define SOCKPARITY_CHECK_SHEPHERD_SPAWNER_H_

#include <sys/types.h>

#include "absl/status/statusor.h"
#include "check/shepherd.h"

namespace sockparity::internal {

// Starts the spawner unless it runs; best early, while the process is
// small. Fails (and shepherds are then forked from the caller) when it
// cannot be started.
absl::Status StartShepherdSpawner();

// A shepherd running `plan`, forked by the spawner (started now if it was
// not): its pid, a child of the spawner, not of the caller. An error when
// the spawner is gone or the request does not fit one message; the caller
// then forks the shepherd itself.
absl::StatusOr<pid_t> SpawnShepherd(const ShepherdPlan& plan);

// The spawner's pid, or -1.
pid_t ShepherdSpawnerPid();

}  // namespace sockparity::internal

#endif  // SOCKPARITY_CHECK_SHEPHERD_SPAWNER_H_
