#include "run_guard.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "sockparity/check/sut_process.h"
#include "sockparity/net/temp_dir.h"

namespace sockparity::tool {
namespace {

void OpenClosedStandardDescriptors() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    const int null = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
    if (null >= 0 && null != fd) {
      ::dup2(null, fd);
      ::close(null);
    }
  }
}

}  // namespace

void GuardRun() {
  OpenClosedStandardDescriptors();
  SutProcess::PrepareToStartServers();
  const int watch = StartTempDirSweeper();
  if (watch < 0) return;
  SutProcess::HoldWhileServersRun(watch);
}

}  // namespace sockparity::tool
