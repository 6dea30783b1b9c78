// Internal: the process between the suite and a server it starts. A server
// may fork workers, double-fork a daemon or call setsid; none of them may
// outlive its run, also when the suite itself is killed (SIGKILL included).
//
// Why a shepherd process: Linux reparents an orphan to its nearest living
// ancestor that is a child subreaper (prctl(2) PR_SET_CHILD_SUBREAPER), so a
// subreaper between the suite and the server sees every process the server
// ever starts, however it detaches. It watches a pipe from the suite: that
// pipe ends when the suite asks it to, or when the suite's process ends in
// any way, and then it kills every process below it and exits. Process
// groups (setsid escapes them), PR_SET_PDEATHSIG (it fires when the thread
// that forked exits, and reaches one process) and cgroups (need privileges
// or a delegated hierarchy, absent in many CI containers) do not cover this.
#ifndef SOCKPARITY_CHECK_SHEPHERD_H_
#define SOCKPARITY_CHECK_SHEPHERD_H_

#include <sys/types.h>

#include <cstdint>

namespace sockparity::internal {

// What the shepherd tells the suite, one record per write (atomic on a
// pipe).
struct ShepherdRecord {
  enum Kind : int32_t {
    kServerPid = 1,  // value: the server's pid
    kExecOk = 2,     // the server's exec succeeded
    kExecError = 3,  // value: exec's errno
    kServerEnd = 4,  // value: the server's wait status
  };
  int32_t kind;
  int32_t value;
};

// Everything the shepherd needs, prepared before fork (no allocation after).
struct ShepherdPlan {
  char* const* argv;
  char* const* envp;
  int output_fd;     // becomes the server's stdout
  int error_fd;      // becomes the server's stderr
  int inherited_fd;  // -1, or becomes descriptor `fd_number` of the server
  int fd_number;
  int input_fd;    // -1 (stdin left as it is), or becomes the server's stdin
  int control_fd;  // read end: EOF or a byte means "end the server's tree"
  int status_fd;   // write end for ShepherdRecord
  int keep_fd;     // -1, or a descriptor the shepherd keeps open while alive
};

// Runs in the child of fork(); only async-signal-safe calls. Never returns.
[[noreturn]] void RunShepherd(const ShepherdPlan& plan);

// Closes every descriptor from 3 up except those in `keep` (unsorted, -1
// entries ignored; sorts `keep`): the suite's sockets and the pipes of
// other shepherds must not live on in a shepherd, or their ends would
// never be seen to close. Async-signal-safe.
void CloseDescriptorsExcept(int* keep, int count);

// A descriptor every shepherd started after this call keeps open until it
// exits, so whoever holds the other end learns when the last one is gone.
void SetShepherdKeepFd(int fd);
int ShepherdKeepFd();

}  // namespace sockparity::internal

#endif  // SOCKPARITY_CHECK_SHEPHERD_H_
