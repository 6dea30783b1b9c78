// What `sockparity check` does so that nothing of a run outlives it, however
// it ends (a normal exit, Ctrl-C, SIGTERM from `timeout`, SIGHUP, SIGKILL).
#ifndef SOCKPARITY_TOOL_RUN_GUARD_H_
#define SOCKPARITY_TOOL_RUN_GUARD_H_

namespace sockparity::tool {

// Call while the process is still single-threaded. Opens /dev/null on a
// closed standard descriptor (so no socket of the run can become 0, 1 or 2
// and receive the command's output), and starts a sweeper process that,
// once this process and every server's shepherd are gone, removes the
// run's temporary directories (socket files, logs) that no destructor
// removed. Servers themselves are ended by their shepherds
// (sockparity/check/sut_process.h).
void GuardRun();

}  // namespace sockparity::tool

#endif  // SOCKPARITY_TOOL_RUN_GUARD_H_
