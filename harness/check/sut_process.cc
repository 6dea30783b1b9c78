#include "sockparity/check/sut_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sockparity/net/errors.h"

namespace sockparity {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool HasReadyLine(const std::string& output) {
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    if (line == "ready" || line == "ready\r") return true;
  }
  return false;
}

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

std::string Tail(const std::string& text, size_t bytes = 2000) {
  return text.size() <= bytes ? text : "..." + text.substr(text.size() - bytes);
}

std::string OutputOrNone(const std::string& output) {
  return output.empty() ? "(none)" : Tail(output);
}

}  // namespace

std::string SutExit::Describe() const {
  std::string what = exited ? absl::StrCat("exit status ", code)
                            : absl::StrCat("killed by signal ", signal, " (",
                                           ::strsignal(signal), ")");
  if (killed) absl::StrAppend(&what, " after outliving its grace period");
  return what;
}

absl::StatusOr<SutProcess> SutProcess::Start(
    const std::vector<std::string>& command, const std::string& address,
    absl::Duration ready_timeout, const Fd* inherited, int fd_number,
    const std::vector<std::string>& environment) {
  if (command.empty())
    return absl::InvalidArgumentError("no SUT command given");
  absl::StatusOr<TempDir> dir = TempDir::Create();
  if (!dir.ok()) return dir.status();
  const std::string out_path = dir->path() + "/output.log";
  Fd out(
      ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!out.valid()) return ErrnoStatus(errno, "open", out_path);
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
  // The child reports a failed exec here, so "cannot run" is told apart
  // from a server that exits with 127 by itself.
  int exec_error_pipe[2];
  if (::pipe2(exec_error_pipe, O_CLOEXEC) != 0)
    return ErrnoStatus(errno, "pipe2", command[0]);
  Fd exec_error_read(exec_error_pipe[0]);
  Fd exec_error_write(exec_error_pipe[1]);
  pid_t pid = ::fork();
  if (pid < 0) return ErrnoStatus(errno, "fork", command[0]);
  if (pid == 0) {
    // Only async-signal-safe calls until exec.
    ::setpgid(0, 0);
    ::dup2(out.get(), 1);
    ::dup2(out.get(), 2);
    if (inherited_fd >= 0) {
      if (inherited_fd == fd_number) {
        ::fcntl(fd_number, F_SETFD, 0);
      } else {
        ::dup2(inherited_fd, fd_number);
      }
    }
    ::signal(SIGPIPE, SIG_DFL);
    ::execvpe(argv[0], argv.data(), envp.data());
    const int error = errno;
    (void)!::write(exec_error_write.get(), &error, sizeof(error));
    ::_exit(127);
  }
  out.Close().IgnoreError();
  exec_error_write.Close().IgnoreError();
  int exec_error = 0;
  ssize_t got;
  do {
    got = ::read(exec_error_read.get(), &exec_error, sizeof(exec_error));
  } while (got < 0 && errno == EINTR);
  if (got == sizeof(exec_error)) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return absl::FailedPreconditionError(
        absl::StrCat("cannot run ", command[0], ": ", ErrnoName(exec_error),
                     " (", ::strerror(exec_error), ")"));
  }
  SutProcess sut(pid, std::move(*dir));
  const absl::Time deadline = absl::Now() + ready_timeout;
  absl::Duration pause = absl::Milliseconds(1);
  while (true) {
    if (HasReadyLine(sut.Output())) return sut;
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
      const std::string output = sut.Output();
      sut.Stop(absl::Milliseconds(500));
      return absl::DeadlineExceededError(
          absl::StrCat(command[0], " did not print 'ready' within ",
                       absl::FormatDuration(ready_timeout), "; its output:\n",
                       OutputOrNone(output)));
    }
    absl::SleepFor(pause);  // pacing re-checks of its output, bounded above
    pause = std::min(pause * 2, absl::Milliseconds(20));
  }
}

SutProcess::SutProcess(SutProcess&& other) noexcept
    : pid_(other.pid_), exit_(other.exit_), dir_(std::move(other.dir_)) {
  other.pid_ = -1;
}

SutProcess::~SutProcess() {
  if (pid_ > 0 && !exit_) Stop(absl::Seconds(2));
}

std::optional<SutExit> SutProcess::Poll() {
  if (exit_ || pid_ <= 0) return exit_;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) exit_ = FromStatus(status);
  return exit_;
}

SutExit SutProcess::Stop(absl::Duration grace) {
  if (Poll()) return *exit_;
  const absl::Time start = absl::Now();
  ::kill(pid_, SIGTERM);
  absl::Duration pause = absl::Milliseconds(1);
  while (!Poll() && absl::Now() - start < grace) {
    absl::SleepFor(pause);  // pacing re-checks, bounded by the grace period
    pause = std::min(pause * 2, absl::Milliseconds(20));
  }
  if (!exit_) {
    // Its whole process group, so helpers it started go too.
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exit_ = FromStatus(status);
    exit_->killed = true;
  } else {
    // Whatever it left running in its group does not outlive it.
    ::kill(-pid_, SIGKILL);
  }
  exit_->took = absl::Now() - start;
  return *exit_;
}

std::string SutProcess::Output() const {
  return dir_.path().empty() ? "" : ReadFile(dir_.path() + "/output.log");
}

}  // namespace sockparity
