#include "sockparity/check/sut_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "check/output_tail.h"
#include "check/process_stats.h"
#include "check/shepherd.h"
#include "check/shepherd_spawner.h"
#include "sockparity/net/errors.h"

namespace sockparity {
namespace {

SutExit FromStatus(int status) {
  SutExit exit;
  if (WIFEXITED(status)) {
    exit.exited = true;
    exit.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    exit.signal = WTERMSIG(status);
  }
  return exit;
}

// Neither gone nor a zombie. Read with read(2): a /proc file of a process
// that ends meanwhile fails with ESRCH, which libstdc++'s filebuf throws
// past an istreambuf_iterator.
bool Running(pid_t pid) {
  const std::string path = absl::StrCat("/proc/", pid, "/stat");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buffer[512];
  ssize_t got;
  do {
    got = ::read(fd, buffer, sizeof(buffer));
  } while (got < 0 && errno == EINTR);
  ::close(fd);
  if (got <= 0) return false;
  const std::string_view text(buffer, static_cast<size_t>(got));
  const size_t close_paren = text.rfind(')');
  if (close_paren == std::string_view::npos || close_paren + 2 >= text.size())
    return false;
  const char state = text[close_paren + 2];
  return state != 'Z' && state != 'X';
}

std::string OutputOrNone(const std::string& output) {
  return output.empty() ? "(none)" : output;
}

}  // namespace

std::string SutExit::Describe() const {
  std::string what = exited ? absl::StrCat("exit status ", code)
                            : absl::StrCat("killed by signal ", signal, " (",
                                           ::strsignal(signal), ")");
  if (killed) absl::StrAppend(&what, " after outliving its grace period");
  if (starved >= absl::Milliseconds(100)) {
    absl::StrAppend(&what, " (", absl::FormatDuration(starved),
                    " of it waiting for a CPU, not counted)");
  }
  return what;
}

absl::StatusOr<SutProcess> SutProcess::Spawn(
    const std::vector<std::string>& command, const std::string& address,
    int input_fd, const Fd* inherited, int fd_number,
    const std::vector<std::string>& environment) {
  if (command.empty())
    return absl::InvalidArgumentError("no SUT command given");
  absl::StatusOr<TempDir> dir = TempDir::Create();
  if (!dir.ok()) return dir.status();
  // Two files: readiness is a line on standard output alone, as the
  // contract says. Files, not pipes: a server never blocks on its output
  // because the suite is busy elsewhere.
  const std::string out_path = dir->path() + "/stdout.log";
  const std::string err_path = dir->path() + "/stderr.log";
  Fd out(
      ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!out.valid()) return ErrnoStatus(errno, "open", out_path);
  Fd err(
      ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!err.valid()) return ErrnoStatus(errno, "open", err_path);
  std::vector<std::string> args = command;
  args.push_back(address);
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  // The child's environment is built here: setenv is not async-signal-safe.
  std::vector<std::string> env_entries;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const absl::string_view text(*entry);
    const bool replaced = std::any_of(
        environment.begin(), environment.end(), [&](const std::string& mine) {
          const size_t eq = mine.find('=');
          return text.substr(0, text.find('=')) == mine.substr(0, eq);
        });
    if (!replaced) env_entries.emplace_back(text);
  }
  env_entries.insert(env_entries.end(), environment.begin(), environment.end());
  std::vector<char*> envp;
  for (std::string& entry : env_entries) envp.push_back(entry.data());
  envp.push_back(nullptr);
  const int inherited_fd = inherited != nullptr ? inherited->get() : -1;
  int control[2];
  int status[2];
  if (::pipe2(control, O_CLOEXEC) != 0)
    return ErrnoStatus(errno, "pipe2", command[0]);
  Fd control_read(control[0]);
  Fd control_write(control[1]);
  if (::pipe2(status, O_CLOEXEC) != 0)
    return ErrnoStatus(errno, "pipe2", command[0]);
  Fd status_read(status[0]);
  Fd status_write(status[1]);
  internal::ShepherdPlan plan{};
  plan.argv = argv.data();
  plan.envp = envp.data();
  plan.output_fd = out.get();
  plan.error_fd = err.get();
  plan.inherited_fd = inherited_fd;
  plan.fd_number = fd_number;
  plan.input_fd = input_fd;
  plan.control_fd = control_read.get();
  plan.status_fd = status_write.get();
  plan.keep_fd = internal::ShepherdKeepFd();
  // From the spawner when it can (see shepherd_spawner.h), else forked
  // here: its own child, then, which it reaps.
  pid_t shepherd = -1;
  bool own_child = false;
  if (absl::StatusOr<pid_t> spawned = internal::SpawnShepherd(plan);
      spawned.ok()) {
    shepherd = *spawned;
  } else {
    shepherd = ::fork();
    if (shepherd < 0) return ErrnoStatus(errno, "fork", command[0]);
    if (shepherd == 0) internal::RunShepherd(plan);
    own_child = true;
  }
  out.Close().IgnoreError();
  err.Close().IgnoreError();
  control_read.Close().IgnoreError();
  status_write.Close().IgnoreError();
  ::fcntl(status_read.get(), F_SETFL, O_NONBLOCK);
  SutProcess sut(-1, shepherd, std::move(control_write), std::move(status_read),
                 std::move(*dir));
  sut.shepherd_is_child_ = own_child;
  // The shepherd names the server, then says whether its exec worked: a
  // failed exec is told apart from a server that exits 127 by itself.
  const absl::Time told_by = absl::Now() + absl::Seconds(10);
  while (sut.exec_error_ < 0 && sut.ReadRecords(told_by) &&
         absl::Now() < told_by) {
  }
  if (sut.exec_error_ != 0) {
    const int exec_error = sut.exec_error_;
    sut.Release();
    if (exec_error < 0) {
      return absl::InternalError(absl::StrCat(
          "cannot start ", command[0], ": its shepherd process ended early"));
    }
    // execvp looks a name without a slash up in PATH only, never in the
    // current directory: the likeliest first mistake.
    std::string hint;
    if (exec_error == ENOENT && command[0].find('/') == std::string::npos) {
      hint = absl::StrCat("; it was looked for in PATH only",
                          ::access(command[0].c_str(), F_OK) == 0
                              ? absl::StrCat(": for the one in this "
                                             "directory, write ./",
                                             command[0])
                              : "");
    }
    return absl::FailedPreconditionError(
        absl::StrCat("cannot run ", command[0], ": ", ErrnoName(exec_error),
                     " (", ::strerror(exec_error), ")", hint));
  }
  return sut;
}

absl::StatusOr<SutProcess> SutProcess::Launch(
    const std::vector<std::string>& command, const std::string& address,
    const Fd& input, const Fd* inherited, int fd_number,
    const std::vector<std::string>& environment) {
  return Spawn(command, address, input.get(), inherited, fd_number,
               environment);
}

absl::StatusOr<SutProcess> SutProcess::Start(
    const std::vector<std::string>& command, const std::string& address,
    absl::Duration ready_timeout, const Fd* inherited, int fd_number,
    const std::vector<std::string>& environment) {
  absl::StatusOr<SutProcess> spawned =
      Spawn(command, address, -1, inherited, fd_number, environment);
  if (!spawned.ok()) return spawned.status();
  SutProcess sut = std::move(*spawned);
  const absl::Time deadline = absl::Now() + ready_timeout;
  absl::Duration pause = absl::Milliseconds(1);
  while (true) {
    if (sut.SaidReady()) return sut;
    if (std::optional<SutExit> exit = sut.Poll()) {
      if (exit->exited && exit->code == kSutUnsupportedExit) {
        return absl::UnimplementedError(absl::StrCat(
            command[0], " does not serve ", address, " (exit status 64)"));
      }
      return absl::FailedPreconditionError(absl::StrCat(
          command[0], " ended before it was ready (", exit->Describe(),
          "); its output:\n", OutputOrNone(sut.Output())));
    }
    if (absl::Now() >= deadline) {
      // Stopped first, then read: a server that handles SIGTERM as the
      // contract asks flushes its buffers at exit, so a 'ready' left in a
      // buffer shows up now, and is named for what it is.
      sut.Stop(absl::Milliseconds(500));
      const std::string output = sut.Output();
      if (sut.SaidReady()) {
        return absl::DeadlineExceededError(absl::StrCat(
            command[0], " printed 'ready' only when it was stopped, ",
            absl::FormatDuration(ready_timeout),
            " after it started: the line sat in its standard output buffer "
            "(flush after writing it: docs/SUT_CONTRACT.md, \"Starting and "
            "stopping\"); its output:\n",
            output));
      }
      return absl::DeadlineExceededError(
          absl::StrCat(command[0], " did not print 'ready' within ",
                       absl::FormatDuration(ready_timeout),
                       " (is its standard output buffered? the contract asks "
                       "it to flush after writing the line: "
                       "docs/SUT_CONTRACT.md, \"Starting and stopping\"); "
                       "its output:\n",
                       OutputOrNone(output)));
    }
    absl::SleepFor(pause);  // pacing re-checks of its output, bounded above
    pause = std::min(pause * 2, absl::Milliseconds(20));
  }
}

void SutProcess::HoldWhileServersRun(int fd) {
  internal::SetShepherdKeepFd(fd);
}

void SutProcess::PrepareToStartServers() {
  internal::StartShepherdSpawner().IgnoreError();
}

SutProcess::SutProcess(pid_t pid, pid_t shepherd, Fd control, Fd status,
                       TempDir dir)
    : pid_(pid),
      shepherd_(shepherd),
      control_(std::move(control)),
      status_(std::move(status)),
      dir_(std::move(dir)),
      output_mutex_(std::make_unique<std::mutex>()),
      stdout_(
          std::make_unique<internal::OutputTail>(dir_.path() + "/stdout.log")),
      stderr_(std::make_unique<internal::OutputTail>(dir_.path() +
                                                     "/stderr.log")) {}

SutProcess::SutProcess(SutProcess&& other) noexcept
    : pid_(other.pid_),
      shepherd_(other.shepherd_),
      shepherd_is_child_(other.shepherd_is_child_),
      exec_error_(other.exec_error_),
      control_(std::move(other.control_)),
      status_(std::move(other.status_)),
      exit_(other.exit_),
      dir_(std::move(other.dir_)),
      output_mutex_(std::move(other.output_mutex_)),
      stdout_(std::move(other.stdout_)),
      stderr_(std::move(other.stderr_)) {
  other.pid_ = -1;
  other.shepherd_ = -1;
}

SutProcess::~SutProcess() {
  if (shepherd_ <= 0) return;
  if (pid_ > 0 && !exit_) {
    Stop(absl::Seconds(2));
  } else {
    Release();
  }
}

bool SutProcess::ReadRecords(absl::Time deadline) {
  if (!status_.valid()) return false;
  bool took = false;
  bool waited = false;
  internal::ShepherdRecord record;
  while (true) {
    const ssize_t got = ::read(status_.get(), &record, sizeof(record));
    if (got == sizeof(record)) {
      took = true;
      switch (record.kind) {
        case internal::ShepherdRecord::kServerPid:
          pid_ = record.value;
          break;
        case internal::ShepherdRecord::kExecOk:
          exec_error_ = 0;
          break;
        case internal::ShepherdRecord::kExecError:
          exec_error_ = record.value;
          break;
        case internal::ShepherdRecord::kServerEnd:
          if (!exit_) exit_ = FromStatus(record.value);
          break;
      }
      continue;
    }
    if (got == 0) {
      status_.Close().IgnoreError();
      return false;
    }
    if (got < 0 && errno == EINTR) continue;
    if (took || waited || got > 0 || errno != EAGAIN) return true;
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return true;
    struct pollfd watched = {status_.get(), POLLIN, 0};
    ::poll(&watched, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    waited = true;
  }
}

void SutProcess::Release() {
  if (shepherd_ <= 0) return;
  control_.Close().IgnoreError();
  // It kills what is left and exits, which closes its end of the pipe.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (ReadRecords(deadline) && absl::Now() < deadline) {
  }
  if (shepherd_is_child_) {
    int status = 0;
    pid_t ended = ::waitpid(shepherd_, &status, WNOHANG);
    if (ended == 0) {
      // Stuck past its deadline (a process that ignores SIGKILL in an
      // uninterruptible sleep): stop waiting; it goes on on its own.
      ::kill(shepherd_, SIGKILL);
      ended = ::waitpid(shepherd_, &status, 0);
    }
  } else if (status_.valid()) {
    // The spawner's child, reaped there: its status pipe still open means
    // it has not exited, so the pid is still its own.
    ::kill(shepherd_, SIGKILL);
  }
  shepherd_ = -1;
  if (!exit_) {
    exit_ = SutExit{};
    exit_->signal = SIGKILL;
    exit_->killed = true;
  }
}

std::optional<SutExit> SutProcess::Poll() {
  if (exit_ || shepherd_ <= 0) return exit_;
  ReadRecords(absl::InfinitePast());
  // Ended (a zombie, or reaped) but not yet reported: the shepherd's
  // report is on its way. Without waiting for it, a server that exited
  // would pass for one that runs, for a moment, in whatever the caller
  // decides next (12.1 saw "end of stream" instead of the exit, under load).
  if (!exit_ && pid_ > 0 && !Running(pid_)) {
    const absl::Time deadline = absl::Now() + absl::Seconds(2);
    while (!exit_ && ReadRecords(deadline) && absl::Now() < deadline) {
    }
  }
  return exit_;
}

SutExit SutProcess::Stop(absl::Duration grace) {
  const absl::Time start = absl::Now();
  // Ended already, though its shepherd's report may not be read yet: a
  // server that ended before SIGTERM must not pass for one that obeyed it.
  if (!Poll() && pid_ > 0 && !Running(pid_)) {
    const absl::Time deadline = start + absl::Seconds(2);
    while (!Poll() && ReadRecords(deadline) && absl::Now() < deadline) {
    }
  }
  if (Poll()) {
    if (shepherd_ > 0) exit_->before_stop = true;
  } else if (pid_ > 0) {
    const std::optional<absl::Duration> queued_before =
        internal::QueuedTimeOf(pid_);
    absl::Duration starved;
    ::kill(pid_, SIGTERM);
    absl::Duration pause = absl::Milliseconds(1);
    while (!Poll()) {
      const absl::Duration elapsed = absl::Now() - start;
      if (elapsed - starved >= grace || elapsed >= 5 * grace) break;
      ReadRecords(absl::Now() + pause);  // wakes on the shepherd's report
      pause = std::min(pause * 2, absl::Milliseconds(20));
      if (const std::optional<absl::Duration> queued =
              internal::QueuedTimeOf(pid_);
          queued && queued_before) {
        starved = std::max(starved, *queued - *queued_before);
      }
    }
    if (!exit_) {
      ::kill(-pid_, SIGKILL);
      ::kill(pid_, SIGKILL);
      Release();
      exit_->killed = true;
    }
    exit_->took = absl::Now() - start;
    exit_->starved = starved;
  }
  // Whatever it started does not outlive it.
  Release();
  return *exit_;
}

bool SutProcess::SaidReady() const {
  if (!stdout_) return false;
  std::lock_guard<std::mutex> lock(*output_mutex_);
  stdout_->Update();
  return stdout_->ready();
}

std::string SutProcess::Output() const { return OutputSince({}); }

std::string SutProcess::StandardOutput() const {
  std::string text;
  const Fd file(
      ::open((dir_.path() + "/stdout.log").c_str(), O_RDONLY | O_CLOEXEC));
  if (!file.valid()) return text;
  char buffer[1 << 14];
  while (true) {
    const ssize_t got = ::read(file.get(), buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    text.append(buffer, static_cast<size_t>(got));
  }
  return text;
}

SutProcess::OutputMark SutProcess::MarkOutput() const {
  if (!stdout_) return {};
  std::lock_guard<std::mutex> lock(*output_mutex_);
  stdout_->Update();
  stderr_->Update();
  return {stdout_->total(), stderr_->total()};
}

std::string SutProcess::OutputSince(OutputMark mark) const {
  if (!stdout_) return "";
  std::lock_guard<std::mutex> lock(*output_mutex_);
  stdout_->Update();
  stderr_->Update();
  std::string text;
  for (const auto& [name, tail, from] :
       {std::tuple{"stdout", stdout_.get(), mark.out},
        std::tuple{"stderr", stderr_.get(), mark.err}}) {
    std::string body = tail->Since(from);
    if (body.empty()) continue;
    if (body.back() != '\n') body.push_back('\n');
    absl::StrAppend(&text, "[", name, "]\n", body);
  }
  return text;
}

}  // namespace sockparity
