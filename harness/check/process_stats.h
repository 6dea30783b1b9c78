// Internal: measurements of a server's process and its descendants, read
// from /proc: CPU time, resident memory, open descriptors.
#ifndef SOCKPARITY_CHECK_PROCESS_STATS_H_
#define SOCKPARITY_CHECK_PROCESS_STATS_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace sockparity::internal {

// `pid` and every live descendant (through /proc/PID/task/*/children).
std::vector<pid_t> ProcessTree(pid_t pid);

// User plus system CPU time of the tree, reaped children included.
std::optional<absl::Duration> CpuTimeOf(pid_t pid);

// User plus system time, and the time spent runnable but waiting for a
// CPU: a busy loop is runnable all the time however loaded the machine is,
// where its CPU time shrinks with its share.
std::optional<absl::Duration> RunnableTimeOf(pid_t pid);

// The time the tree spent runnable but waiting for a CPU (a starved
// server): what a deadline on a loaded machine must not count against it.
std::optional<absl::Duration> QueuedTimeOf(pid_t pid);

// Whether a thread of the tree is busy now: runnable (state R: running or
// waiting for a CPU) or in uninterruptible sleep (state D: its own I/O,
// e.g. a log write throttled by writeback). schedstat adds a thread's wait
// for a CPU only once it gets one, so a thread starved on a loaded machine
// looks, by its times alone, as if it slept.
bool AnyThreadBusy(pid_t pid);

// Whether every thread of the tree is in one of `states`, letters of
// /proc/PID/task/TID/stat's state field ('?' for a thread that went while
// it was read): "Tt" for stopped, with "ZX?" for ended too.
bool EveryThreadIn(pid_t pid, const std::string& states);

// Where the tree's threads wait in the kernel, from /proc/PID/task/TID/
// wchan and stat, e.g. "futex_wait_queue x3, unix_stream_read_generic":
// what a user needs to see why a server sat idle. Threads in
// uninterruptible sleep (state D: I/O, a kernel lock) are marked "(D)".
// Empty when the kernel hides it.
std::string WaitingIn(pid_t pid);

// The tree's VmRSS in bytes.
std::optional<uint64_t> ResidentBytesOf(pid_t pid);

// Whether the server is idle in the kernel: within `within`, one window of
// `window` in which the tree was runnable (RunnableTimeOf) for under
// `busy`. A busy loop is runnable for nearly all of every window, however
// busy the other cores are; a server waiting in the kernel nearly never.
struct IdleResult {
  bool idle = false;
  absl::Duration least;  // the least CPU seen in one window
  int windows = 0;
};
IdleResult WaitUntilIdle(pid_t pid, absl::Duration window, absl::Duration busy,
                         absl::Duration within);

}  // namespace sockparity::internal

#endif  // SOCKPARITY_CHECK_PROCESS_STATS_H_
