// The sweeper behind StartTempDirSweeper: a child process, deaf to the
// signals that end a run, that outlives the run to remove what it left.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <system_error>

#include "sockparity/net/temp_dir.h"

namespace sockparity {
namespace {

// Waits for the end of file that says no holder is left, then removes the
// run's directories.
[[noreturn]] void Sweep(int watch_fd, const std::string& root,
                        const std::string& prefix) {
  char byte;
  while (true) {
    const ssize_t got = ::read(watch_fd, &byte, 1);
    if (got == 0 || (got < 0 && errno != EINTR)) break;
  }
  if (DIR* dir = ::opendir(root.c_str())) {
    while (struct dirent* entry = ::readdir(dir)) {
      const std::string name = entry->d_name;
      if (name.rfind(prefix, 0) != 0) continue;
      std::error_code ignored;
      std::filesystem::remove_all(root + "/" + name, ignored);
    }
    ::closedir(dir);
  }
  ::_exit(0);
}

}  // namespace

int StartTempDirSweeper() {
  int watch[2];
  if (::pipe2(watch, O_CLOEXEC) != 0) return -1;
  // Computed here: in the sweeper, getpid() is its own.
  const std::string root = TempRoot();
  const std::string prefix = TempDirPrefix();
  const pid_t sweeper = ::fork();
  if (sweeper < 0) {
    ::close(watch[0]);
    ::close(watch[1]);
    return -1;
  }
  if (sweeper == 0) {
    // Out of the terminal's process group and deaf to the signals that end
    // the run: it must outlive the run to clean up after it.
    ::setpgid(0, 0);
    for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGTSTP})
      ::signal(signal, SIG_IGN);
    // Holding the run's stdout or stderr (a pipe to ctest, tee...) would
    // keep its reader waiting.
    const int null = ::open("/dev/null", O_RDWR);
    for (int fd = 0; fd <= 2; ++fd) ::dup2(null, fd);
    const int keep = ::fcntl(watch[0], F_DUPFD_CLOEXEC, 3);
    ::syscall(SYS_close_range, 3u, static_cast<unsigned>(keep) - 1, 0);
    ::syscall(SYS_close_range, static_cast<unsigned>(keep) + 1, ~0u, 0);
    Sweep(keep, root, prefix);
  }
  ::close(watch[0]);
  return watch[1];
}

}  // namespace sockparity
