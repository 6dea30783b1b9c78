// A system under test (SUT) started as a child process, as the peer contract
// says: `COMMAND... ADDRESS`, ready once it prints the line "ready", stopped
// with SIGTERM. Nothing it does can hang the suite: every wait has a
// deadline, and a SUT that outlives its grace period is killed. Every
// process it starts (workers, a daemon after setsid) ends with it, also
// when the suite's own process is killed: a shepherd process stands
// between them (check/shepherd.h).
#ifndef SOCKPARITY_CHECK_SUT_PROCESS_H_
#define SOCKPARITY_CHECK_SUT_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sockparity/net/fd.h"
#include "sockparity/net/temp_dir.h"

namespace sockparity {
namespace internal {
class OutputTail;
}  // namespace internal

// The peer contract's exit status for an address form a SUT does not serve.
inline constexpr int kSutUnsupportedExit = 64;
// The peer contract: a SUT prints "ready" within this long of its start.
// Not --timeout (a wait inside a case): a shorter one must not fail a SUT
// that starts within the contract's time.
inline constexpr absl::Duration kSutReadyWithin = absl::Seconds(10);

struct SutExit {
  bool exited = false;  // by itself (code), else by a signal
  int code = -1;
  int signal = 0;
  bool killed = false;  // it outlived the grace period and got SIGKILL
  // It had ended before Stop was called (before any SIGTERM).
  bool before_stop = false;
  absl::Duration took;  // from SIGTERM to its end
  // Of `took`, the time it was runnable but waiting for a CPU: a grace
  // period counts only the time the server could run.
  absl::Duration starved;

  std::string Describe() const;
};

class SutProcess {
 public:
  // Starts `command` with `address` appended. With `inherited`, that socket
  // becomes descriptor `fd_number` in the child (the contract's fd:N).
  // `environment` ("NAME=value") is added to the child's, replacing
  // variables of the same name.
  // Returns once the SUT printed "ready"; UNIMPLEMENTED if it exited with
  // status 64; FAILED_PRECONDITION if it ended before, with a first line
  // that does not name the address ("X ended before it was ready (exit
  // status 1)"), then the tail of its output; DEADLINE_EXCEEDED if it
  // stayed silent.
  static absl::StatusOr<SutProcess> Start(
      const std::vector<std::string>& command, const std::string& address,
      absl::Duration ready_timeout = kSutReadyWithin,
      const Fd* inherited = nullptr, int fd_number = -1,
      const std::vector<std::string>& environment = {});

  // Starts `command` with `address` appended and its standard input read
  // from `input`, and returns once it runs: a client under test
  // (docs/CLIENT_CONTRACT.md) says no "ready". Errors as Start's, but for
  // readiness.
  static absl::StatusOr<SutProcess> Launch(
      const std::vector<std::string>& command, const std::string& address,
      const Fd& input, const Fd* inherited = nullptr, int fd_number = -1,
      const std::vector<std::string>& environment = {});

  // Every server started after this call keeps a copy of `fd` (a pipe's
  // write end) open until it and every process it started have ended, also
  // if this process is killed: the reader of that pipe sees end of file
  // once nothing of the run is left (the command uses it to remove the
  // run's temporary files whatever ended it).
  static void HoldWhileServersRun(int fd);

  // Starts, now, the small process that servers are started from (a main
  // calls it first thing): a server's supervisor forked from a process
  // grown large would share its memory copy-on-write for the server's
  // lifetime, making each first write to reused memory a page copy.
  // Started on first need otherwise.
  static void PrepareToStartServers();

  SutProcess(SutProcess&& other) noexcept;
  SutProcess& operator=(SutProcess&& other) = delete;
  ~SutProcess();

  // The server's own process (not the shepherd's).
  pid_t pid() const { return pid_; }
  // The exit, if it has already ended.
  std::optional<SutExit> Poll();
  // SIGTERM, then up to `grace` for it to end, then SIGKILL; then every
  // process it left behind is killed. The grace period counts the time the
  // server could run: time it waited for a CPU on a loaded machine is added
  // (up to 5 times `grace` in all).
  SutExit Stop(absl::Duration grace = absl::Seconds(2));
  // The tails of what it wrote to standard output and standard error so
  // far (a few KiB of each, saying how much came before), labelled.
  std::string Output() const;
  // How much it has written to each stream so far, and what it wrote after
  // such a mark (the same bounded tails, labelled): its output during a
  // case.
  struct OutputMark {
    uint64_t out = 0;
    uint64_t err = 0;
  };
  OutputMark MarkOutput() const;
  // All it wrote to standard output so far, not a tail.
  std::string StandardOutput() const;
  std::string OutputSince(OutputMark mark) const;

 private:
  // Starts it; returns once its exec succeeded. `input_fd` -1 leaves its
  // standard input as the suite's.
  static absl::StatusOr<SutProcess> Spawn(
      const std::vector<std::string>& command, const std::string& address,
      int input_fd, const Fd* inherited, int fd_number,
      const std::vector<std::string>& environment);
  SutProcess(pid_t pid, pid_t shepherd, Fd control, Fd status, TempDir dir);
  // Whether it printed "ready" on standard output.
  bool SaidReady() const;
  // Takes what the shepherd reported, waiting up to `deadline`; false once
  // it has closed its end (it has exited).
  bool ReadRecords(absl::Time deadline);
  // Has the shepherd kill whatever is left of the server's tree, and waits
  // for it to exit.
  void Release();

  pid_t pid_ = -1;
  pid_t shepherd_ = -1;
  bool shepherd_is_child_ = true;
  int exec_error_ = -1;  // -1 until the shepherd says
  Fd control_;           // closing it ends the server's tree
  Fd status_;            // the shepherd's reports
  std::optional<SutExit> exit_;
  TempDir dir_;
  std::unique_ptr<std::mutex> output_mutex_;
  std::unique_ptr<internal::OutputTail> stdout_;
  std::unique_ptr<internal::OutputTail> stderr_;
};

}  // namespace sockparity

#endif  // SOCKPARITY_CHECK_SUT_PROCESS_H_
