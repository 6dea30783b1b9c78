// A system under test (SUT) started as a child process, as the peer contract
// says: `COMMAND... ADDRESS`, ready once it prints the line "ready", stopped
// with SIGTERM. Nothing it does can hang the suite: every wait has a
// deadline, and a SUT that outlives its grace period is killed.
#ifndef SOCKPARITY_SUT_PROCESS_H_
#define SOCKPARITY_SUT_PROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sockparity/net/fd.h"
#include "sockparity/net/temp_dir.h"

namespace sockparity {

// The peer contract's exit status for an address form a SUT does not serve.
inline constexpr int kSutUnsupportedExit = 64;

struct SutExit {
  bool exited = false;  // by itself (code), else by a signal
  int code = -1;
  int signal = 0;
  bool killed = false;  // it outlived the grace period and got SIGKILL
  absl::Duration took;  // from SIGTERM to its end

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
      absl::Duration ready_timeout = absl::Seconds(10),
      const Fd* inherited = nullptr, int fd_number = -1,
      const std::vector<std::string>& environment = {});

  SutProcess(SutProcess&& other) noexcept;
  SutProcess& operator=(SutProcess&& other) = delete;
  ~SutProcess();

  pid_t pid() const { return pid_; }
  // The exit, if it has already ended.
  std::optional<SutExit> Poll();
  // SIGTERM, then up to `grace` for it to end, then SIGKILL.
  SutExit Stop(absl::Duration grace = absl::Seconds(2));
  // What it wrote to standard output and standard error so far.
  std::string Output() const;

 private:
  SutProcess(pid_t pid, TempDir dir) : pid_(pid), dir_(std::move(dir)) {}
  pid_t pid_ = -1;
  std::optional<SutExit> exit_;
  TempDir dir_;
};

}  // namespace sockparity

#endif  // SOCKPARITY_SUT_PROCESS_H_
