#include "check/shepherd.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace sockparity::internal {
namespace {

std::atomic<int> keep_fd{-1};

void Send(int fd, ShepherdRecord::Kind kind, int32_t value) {
  const ShepherdRecord record{kind, value};
  while (::write(fd, &record, sizeof(record)) < 0 && errno == EINTR) {
  }
}

// A copy of `fd` numbered above `floor`, closed on exec: the server's own
// descriptors (1, 2 and N) can then be set without clobbering ours.
int Lift(int fd, int floor) {
  return fd < 0 ? -1 : ::fcntl(fd, F_DUPFD_CLOEXEC, floor);
}

void CloseRange(unsigned first, unsigned last) {
  if (first > last) return;
  if (::syscall(SYS_close_range, first, last, 0) == 0) return;
  struct rlimit limit;
  unsigned end = 65536;
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < end)
    end = static_cast<unsigned>(limit.rlim_cur);
  for (unsigned fd = first; fd <= last && fd < end; ++fd) ::close(fd);
}

// Parses a decimal number; -1 unless `text` is digits only.
long ParseNumber(const char* text, size_t length) {
  if (length == 0) return -1;
  long value = 0;
  for (size_t i = 0; i < length; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// The parent pid in /proc/<pid>/stat: "pid (comm) S ppid ...", where comm
// may itself hold spaces and parentheses.
long ParentOf(const char* pid_text, size_t length) {
  char path[64] = "/proc/";
  if (length > 20) return -1;
  std::memcpy(path + 6, pid_text, length);
  std::memcpy(path + 6 + length, "/stat", 6);
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char text[512];
  const ssize_t got = ::read(fd, text, sizeof(text) - 1);
  ::close(fd);
  if (got <= 0) return -1;
  const char* close_paren = nullptr;
  for (ssize_t i = 0; i < got; ++i) {
    if (text[i] == ')') close_paren = text + i;
  }
  // ") S " then the parent pid.
  if (close_paren == nullptr || close_paren + 4 >= text + got) return -1;
  const char* start = close_paren + 4;
  const char* end = start;
  while (end < text + got && *end != ' ') ++end;
  return ParseNumber(start, static_cast<size_t>(end - start));
}

// SIGKILL to every child of this process (orphans of the server's tree
// come here, this being their subreaper). /proc/PID/task/TID/children
// needs CONFIG_PROC_CHILDREN; every process's stat is always there.
void KillChildren() {
  const pid_t self = ::getpid();
  const int dir = ::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return;
  alignas(8) char buffer[8192];
  while (true) {
    const long got = ::syscall(SYS_getdents64, dir, buffer, sizeof(buffer));
    if (got <= 0) break;
    for (long offset = 0; offset < got;) {
      // struct linux_dirent64: ino (8), off (8), reclen (2), type (1), name.
      unsigned short record_length;
      std::memcpy(&record_length, buffer + offset + 16, sizeof(record_length));
      const char* name = buffer + offset + 19;
      const size_t length = ::strlen(name);
      const long pid = ParseNumber(name, length);
      if (pid > 0 && pid != self && ParentOf(name, length) == self)
        ::kill(static_cast<pid_t>(pid), SIGKILL);
      offset += record_length;
    }
  }
  ::close(dir);
}

// Until no process is left below this one: kill, reap, look again (a
// process killed may have had children, which come here on its exit).
void EndTree(pid_t server, bool* reported, int status_fd) {
  while (true) {
    if (server > 0) ::kill(-server, SIGKILL);
    KillChildren();
    int status = 0;
    const pid_t ended = ::waitpid(-1, &status, 0);
    if (ended < 0) {
      if (errno == EINTR) continue;
      return;  // ECHILD: nothing left
    }
    if (ended == server && !*reported) {
      Send(status_fd, ShepherdRecord::kServerEnd, status);
      *reported = true;
    }
  }
}

[[noreturn]] void ExecServer(const ShepherdPlan& plan, int input_fd,
                             int output_fd, int error_fd, int inherited_fd,
                             int exec_error_fd) {
  ::setpgid(0, 0);
  // A fresh start: no signal ignored or blocked because the suite, or this
  // shepherd, had it so (ignored dispositions survive exec).
  for (int signal = 1; signal < NSIG; ++signal) ::signal(signal, SIG_DFL);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (input_fd >= 0) ::dup2(input_fd, 0);
  ::dup2(output_fd, 1);
  ::dup2(error_fd, 2);
  if (inherited_fd >= 0) ::dup2(inherited_fd, plan.fd_number);
  ::execvpe(plan.argv[0], plan.argv, plan.envp);
  const int error = errno;
  (void)!::write(exec_error_fd, &error, sizeof(error));
  ::_exit(127);
}

}  // namespace

void CloseDescriptorsExcept(int* keep, int count) {
  for (int i = 1; i < count; ++i) {  // insertion sort: no allocation
    for (int j = i; j > 0 && keep[j] < keep[j - 1]; --j) {
      const int t = keep[j];
      keep[j] = keep[j - 1];
      keep[j - 1] = t;
    }
  }
  unsigned next = 3;
  for (int i = 0; i < count; ++i) {
    if (keep[i] < static_cast<int>(next)) continue;
    CloseRange(next, static_cast<unsigned>(keep[i]) - 1);
    next = static_cast<unsigned>(keep[i]) + 1;
  }
  CloseRange(next, ~0u);
}

void SetShepherdKeepFd(int fd) { keep_fd.store(fd); }
int ShepherdKeepFd() { return keep_fd.load(); }

void RunShepherd(const ShepherdPlan& plan) {
  // Its own process group: the terminal's Ctrl-C (sent to the suite's
  // group) and a kill of the server's group leave it to do its work.
  ::setpgid(0, 0);
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE})
    ::signal(signal, SIG_IGN);
  const int floor = (plan.fd_number > 2 ? plan.fd_number : 2) + 1;
  int control_fd = Lift(plan.control_fd, floor);
  int status_fd = Lift(plan.status_fd, floor);
  int output_fd = Lift(plan.output_fd, floor);
  int error_fd = Lift(plan.error_fd, floor);
  int inherited_fd = Lift(plan.inherited_fd, floor);
  int keep = Lift(plan.keep_fd, floor);
  int input_fd = Lift(plan.input_fd, floor);
  int kept[] = {control_fd,   status_fd, output_fd, error_fd,
                inherited_fd, keep,      input_fd};
  CloseDescriptorsExcept(kept, 7);
  if (control_fd < 0 || status_fd < 0 || output_fd < 0 || error_fd < 0)
    ::_exit(126);

  sigset_t child_ended;
  ::sigemptyset(&child_ended);
  ::sigaddset(&child_ended, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &child_ended, nullptr);
  const int signals = ::signalfd(-1, &child_ended, SFD_CLOEXEC | SFD_NONBLOCK);
  int exec_error[2];
  if (signals < 0 || ::pipe2(exec_error, O_CLOEXEC) != 0) ::_exit(126);

  const pid_t server = ::fork();
  if (server == 0)
    ExecServer(plan, input_fd, output_fd, error_fd, inherited_fd,
               exec_error[1]);
  ::close(exec_error[1]);
  // This process must not hold the server's end of an inherited
  // connection: the client would never see it close.
  if (inherited_fd >= 0) ::close(inherited_fd);
  if (input_fd >= 0) ::close(input_fd);
  ::close(output_fd);
  ::close(error_fd);
  bool reported = false;
  if (server < 0) {
    Send(status_fd, ShepherdRecord::kExecError, errno);
    ::_exit(0);
  }
  ::setpgid(server, server);  // also here: no window without its group
  Send(status_fd, ShepherdRecord::kServerPid, server);
  int error = 0;
  ssize_t got;
  do {
    got = ::read(exec_error[0], &error, sizeof(error));
  } while (got < 0 && errno == EINTR);
  ::close(exec_error[0]);
  if (got == sizeof(error)) {
    Send(status_fd, ShepherdRecord::kExecError, error);
  } else {
    Send(status_fd, ShepherdRecord::kExecOk, 0);
  }

  struct pollfd watched[2] = {{control_fd, POLLIN, 0}, {signals, POLLIN, 0}};
  while (true) {
    if (::poll(watched, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (watched[1].revents != 0) {
      struct signalfd_siginfo info;
      while (::read(signals, &info, sizeof(info)) > 0) {
      }
      int status = 0;
      pid_t ended;
      while ((ended = ::waitpid(-1, &status, WNOHANG)) > 0) {
        if (ended == server && !reported) {
          Send(status_fd, ShepherdRecord::kServerEnd, status);
          reported = true;
        }
      }
    }
    // EOF, an error or a byte: the suite is done with the server, or gone.
    if (watched[0].revents != 0) break;
  }
  EndTree(server, &reported, status_fd);
  ::_exit(0);
}

}  // namespace sockparity::internal
